"""The ELAsTiCC2 data endpoints (ltcv, ltcvfeatures, conesearch, getalert, classids, classifiers_json)
refuse bad input with a 4xx naming the field, change nothing, and are described from the contract
their views check with."""

import json

import pytest
from django.db import connection
from test_e2_api_data import OBJ_A, post_json

from desctom.apidocs.contracts import request_schema
from desctom.elasticc2.http.api.alerts_contract import GetAlertRequest
from desctom.elasticc2.http.api.cone_contract import MAX_RADIUS_ARCSEC, ConeRequest
from desctom.elasticc2.http.api.lightcurves_contract import FeaturesRequest, LtcvRequest

pytestmark = pytest.mark.django_db

BIG = "1" + "0" * 400  # a 401-digit JSON integer
LONG = "x" * 1_000_000
TABLES = ("elasticc2_diaobject", "elasticc2_diaforcedsource", "elasticc2_ppdbdiaobject",
          "elasticc2_ppdbdiasource", "elasticc2_ppdbdiaforcedsource", "elasticc2_ppdbalert",
          "elasticc2_brokerclassifier", "elasticc2_classidofgentype")
LTCV, FEATURES, CONE, ALERT = ("/elasticc2/ltcv", "/elasticc2/ltcvfeatures", "/elasticc2/conesearch",
                               "/elasticc2/getalert")
CONE_OK = '"ra": 10, "dec": 0, "radius_arcsec": 1'


def fill(template: str, *values) -> str:
    """``template`` with each ``@`` replaced by the next of ``values``."""
    for value in values:
        template = template.replace("@", str(value), 1)
    return template


def counts() -> dict[str, int]:
    with connection.cursor() as cur:
        result = {}
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            result[table] = cur.fetchone()[0]
        return result


def send(api, url: str, body: str):
    return post_json(api, url, body.encode("utf-8", "surrogatepass"))


# (url, raw JSON body, the field the message must name)
BAD = [
    # 401-digit integers in every numeric field
    (LTCV, fill('{"objectid": @}', BIG), "objectid"),
    (LTCV, fill('{"objectids": [1, @]}', BIG), "every entry of objectids"),
    (LTCV, fill('{"objectid": @, "mjd_now": @}', OBJ_A, BIG), "mjd_now"),
    (LTCV, fill('{"objectid": @, "return_format": @}', OBJ_A, BIG), "return_format"),
    (FEATURES, fill('{"objectid": @}', BIG), "objectid"),
    (FEATURES, fill('{"sourceid": @}', BIG), "sourceid"),
    (FEATURES, fill('{"alertid": @}', BIG), "alertid"),
    (FEATURES, fill('{"objectid": @, "through_mjd": @}', OBJ_A, BIG), "through_mjd"),
    (CONE, fill('{"ra": @, "dec": 0, "radius_arcsec": 1}', BIG), "ra"),
    (CONE, fill('{"ra": 1, "dec": @, "radius_arcsec": 1}', BIG), "dec"),
    (CONE, fill('{"ra": 1, "dec": 0, "radius_arcsec": @}', BIG), "radius_arcsec"),
    (CONE, fill('{@, "limit": @}', CONE_OK, BIG), "limit"),
    (ALERT, fill('{"alertid": @}', BIG), "alertid"),
    (ALERT, fill('{"sourceid": @}', BIG), "sourceid"),
    # NUL and lone surrogates where a number or id is expected (no field of these takes text)
    (LTCV, '{"objectid": "1\\u0000"}', "objectid"),
    (LTCV, '{"objectids": ["\\ud800"]}', "objectids"),
    (LTCV, '{"objectid": 1, "return_format": "\\ud800"}', "return_format"),
    (FEATURES, '{"objectid": "\\u0000"}', "objectid"),
    (FEATURES, '{"objectid": 1, "through_mjd": "\\ud800"}', "through_mjd"),
    (CONE, '{"ra": "1\\u0000", "dec": 0, "radius_arcsec": 1}', "ra"),
    (CONE, fill('{@, "limit": "\\ud800"}', CONE_OK), "limit"),
    (ALERT, '{"alertid": "\\ud800"}', "alertid"),
    # beyond a float4 / absurd values
    (LTCV, '{"objectid": 1, "mjd_now": 1e39}', "mjd_now"),
    (LTCV, '{"objectid": 1, "mjd_now": 1e308}', "mjd_now"),
    (LTCV, '{"objectid": 1, "mjd_now": 1e309}', "mjd_now"),  # parses as Infinity
    (FEATURES, '{"objectid": 1, "through_mjd": 1e308}', "through_mjd"),
    (FEATURES, '{"objectid": 1.8e19}', "objectid"),
    (CONE, '{"ra": 1e39, "dec": 0, "radius_arcsec": 1}', "ra"),
    (CONE, '{"ra": 1, "dec": -1e308, "radius_arcsec": 1}', "dec"),
    (CONE, '{"ra": 1, "dec": 0, "radius_arcsec": 1e39}', "radius_arcsec"),
    (CONE, '{"ra": 1, "dec": 0, "radius_arcsec": -1e-300}', "radius_arcsec"),
    (CONE, fill('{@, "limit": 1.8e19}', CONE_OK), "limit"),
    (ALERT, '{"sourceid": 1.8e19}', "sourceid"),
    # a 1,000,000-character string where a number is expected
    (LTCV, fill('{"objectid": "@"}', LONG), "objectid"),
    (LTCV, fill('{"objectid": 1, "return_format": "@"}', LONG), "return_format"),
    (FEATURES, fill('{"alertid": "@"}', LONG), "alertid"),
    (CONE, fill('{"ra": "@", "dec": 0, "radius_arcsec": 1}', LONG), "ra"),
    (ALERT, fill('{"alertid": "@"}', LONG), "alertid"),
    # nested values (deep, but still JSON Python reads) where a number is expected
    (LTCV, fill('{"objectids": [@]}', "[" * 300 + "]" * 300), "every entry of objectids"),
    (LTCV, fill('{"objectid": 1, "return_format": @}', "[" * 300 + "]" * 300), "return_format"),
    (FEATURES, fill('{"objectid": @}', "{\"a\":" * 300 + "1" + "}" * 300), "objectid"),
    (CONE, fill('{"ra": @, "dec": 0, "radius_arcsec": 1}', "[" * 300 + "]" * 300), "ra"),
    (ALERT, fill('{"sourceid": @}', "[" * 300 + "]" * 300), "sourceid"),
]


@pytest.mark.parametrize(("url", "body", "field"), BAD, ids=[f"{u}-{i}" for i, (u, _, _) in enumerate(BAD)])
def test_bad_input_is_400_naming_the_field(api, sample, url, body, field):
    before = counts()
    res = send(api, url, body)
    assert res.status_code == 400, res.content[:300]
    message = res.json()["error"]
    assert field in message and len(message) < 400, message
    assert counts() == before


@pytest.mark.parametrize("url", [LTCV, FEATURES, CONE, ALERT, "/elasticc2/classids",
                                 "/elasticc2/classifiers_json"])
def test_deep_nesting_and_huge_bodies_are_refused(api, sample, url):
    before = counts()
    deep = send(api, url, fill('{"objectid": @}', "[" * 5000 + "]" * 5000))
    huge = send(api, url, fill('{"objectid": 1, "note": "@"}', "n" * 20_000_000))
    if url.endswith(("classids", "classifiers_json")):  # the body is not read at all
        assert deep.status_code == 200 and huge.status_code in (200, 413)
    else:
        assert deep.status_code == 400 and "nested too deeply" in deep.json()["error"]
        assert huge.status_code == 413, huge.content[:300]
    assert counts() == before


@pytest.mark.parametrize(("url", "body", "text"), [
    (LTCV, {"objectid": OBJ_A, "return_format": "x" * 500},
     "Exception in LtcvsView: Unknown return_format " + "x" * 80 + "... (500 characters)"),
    (LTCV, {"objectid": 2**70}, f"Exception in LtcvsView: objectid must be an integer or a list of integers, "
                                f"not {2**70}"),
    (LTCV, {"objectid": OBJ_A, "mjd_now": 1e39},
     "Exception in LtcvsView: mjd_now must be from -1000000 to 1000000, not 1e+39"),
    (FEATURES, {"objectid": None}, "Exception in LtcvFeatures: objectid must be an integer, not null"),
    (FEATURES, {"objectid": OBJ_A, "through_mjd": -2e6},
     "Exception in LtcvFeatures: through_mjd must be from -1000000 to 1000000, not -2000000.0"),
    (CONE, {"ra": 10, "dec": 0, "radius_arcsec": 1e-400}, "radius_arcsec must be > 0 and <= 3600, not 0.0"),
    (CONE, {"ra": 10, "dec": 0, "radius_arcsec": 1, "limit": 2.5}, "limit must be an integer, not 2.5"),
    (ALERT, {"alertid": True}, "Exception in GetAlert: alertid must be an integer, not true"),
])
def test_exact_texts(api, sample, url, body, text):
    res = post_json(api, url, body)
    assert res.status_code == 400 and res.json() == {"error": text}


def test_null_means_absent_where_the_original_said_so(api, sample):
    ltcv = post_json(api, LTCV, {"objectid": OBJ_A, "mjd_now": None, "return_format": None,
                                 "include_hostinfo": None})
    assert ltcv.status_code == 200 and ltcv.json() == post_json(api, LTCV, {"objectid": OBJ_A}).json()
    features = post_json(api, FEATURES, {"objectid": OBJ_A, "through_mjd": None, "per_band": None})
    assert features.status_code == 200
    assert features.json() == post_json(api, FEATURES, {"objectid": OBJ_A}).json()
    cone = post_json(api, CONE, {"ra": 10, "dec": 0, "radius_arcsec": 1, "limit": None})
    assert cone.status_code == 200 and cone.json()["status"] == "ok"


def test_unknown_keys_stay_ignored_where_the_original_ignored_them(api, sample):
    source = sample["sources"][OBJ_A][0]["diasource_id"]
    assert post_json(api, ALERT, {"alertid": source, "extra": 1}).status_code == 200
    assert post_json(api, FEATURES, {"objectid": OBJ_A, "extra": 1}).status_code == 200


def test_the_description_is_the_contract(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path, contract in ((LTCV, LtcvRequest), (FEATURES, FeaturesRequest), (CONE, ConeRequest),
                           (ALERT, GetAlertRequest)):
        for method in ("get", "post"):
            body = schema[path][method]["requestBody"]["content"]["application/json"]["schema"]
            assert json.loads(json.dumps(body)) == json.loads(json.dumps(request_schema(contract)))
            assert set(body["properties"]) == set(contract().fields)
    cone = request_schema(ConeRequest)["properties"]
    assert (cone["ra"]["minimum"], cone["ra"]["maximum"]) == (0, 360)
    assert (cone["dec"]["minimum"], cone["dec"]["maximum"]) == (-90, 90)
    assert cone["radius_arcsec"] == {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                                     "maximum": MAX_RADIUS_ARCSEC, "description": "Arcseconds."}
    ltcv = request_schema(LtcvRequest)
    assert ltcv["additionalProperties"] is False and ltcv["properties"]["mjd_now"]["maximum"] == 1e6
    assert ltcv["properties"]["return_format"]["enum"] == [0, 1, 2]
    assert "requestBody" not in schema["/elasticc2/classids"]["post"]
