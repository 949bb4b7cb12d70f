"""``/elasticc2/getalert``: the reconstructed alert of a detection."""

import json

import pytest
from test_e2_api_data import (
    HOST_A,
    OBJ_A,
    POSITIONS,
    assert_error,
    get_json,
    make_user,
    post_json,
    strict_json,
    token_header,
)

from desctom.elasticc2.queries.alerts import reconstruct_alerts

pytestmark = pytest.mark.django_db
URL = "/elasticc2/getalert"
PREFIX = "Exception in GetAlert: "


def test_alert_by_alertid(api, sample):
    sources = sample["sources"][OBJ_A]
    source = sources[4]
    res = post_json(api, URL, {"alertid": source["diasource_id"]})
    assert res.status_code == 200
    alert = strict_json(res)
    assert set(alert) == {"alertId", "diaSource", "prvDiaSources", "prvDiaForcedSources", "diaObject"}
    assert alert["alertId"] == source["diasource_id"]
    assert alert["diaSource"] == {
        "diaSourceId": source["diasource_id"], "diaObjectId": OBJ_A, "midPointTai": source["midpointtai"],
        "filterName": source["filtername"], "ra": source["ra"], "decl": source["decl"],
        "psFlux": source["psflux"], "psFluxErr": source["psfluxerr"], "snr": source["snr"]}
    assert [s["diaSourceId"] for s in alert["prvDiaSources"]] == [s["diasource_id"] for s in sources[:4]]
    forced_ids = [f["diaForcedSourceId"] for f in alert["prvDiaForcedSources"]]
    assert forced_ids and all(f < source["diasource_id"] for f in forced_ids)
    obj = alert["diaObject"]
    assert (obj["diaObjectId"], obj["ra"], obj["decl"]) == (OBJ_A, *POSITIONS[OBJ_A])
    assert obj["hostgal_mag_u"] == HOST_A["hostgal_mag_u"] and obj["hostgal_zspec"] is None
    # the whole alert, as the reconstruction module builds it (ints/floats through JSON unchanged)
    built = reconstruct_alerts([source["diasource_id"]])[source["diasource_id"]]
    assert alert == json.loads(json.dumps(built))


def test_alert_by_sourceid_and_alertid_wins(api, sample):
    source = sample["sources"][OBJ_A][2]
    by_alert = post_json(api, URL, {"alertid": source["diasource_id"]}).json()
    assert post_json(api, URL, {"sourceid": source["diasource_id"]}).json() == by_alert
    assert post_json(api, URL, {"alertid": source["diasource_id"], "sourceid": 666}).json() == by_alert
    assert post_json(api, URL, {"alertid": str(source["diasource_id"])}).json() == by_alert
    assert get_json(api, URL, {"alertid": source["diasource_id"]}).json() == by_alert


def test_first_alert_has_no_previous_photometry(api, sample):
    first = sample["sources"][OBJ_A][0]
    alert = post_json(api, URL, {"sourceid": first["diasource_id"]}).json()
    assert alert["prvDiaSources"] == [] and alert["prvDiaForcedSources"] == []


def test_token_auth(client, sample):
    source = sample["sources"][OBJ_A][0]
    res = post_json(client, URL, {"alertid": source["diasource_id"]}, **token_header(make_user("tokenuser")))
    assert res.status_code == 200 and res.json()["alertId"] == source["diasource_id"]


@pytest.mark.parametrize(("body", "status", "text"), [
    ({"alertid": 666}, 404, "PPDBAlert matching query does not exist."),
    ({"sourceid": 666}, 404, "Unknown sourceid 666"),
    ({"sourceid": OBJ_A * 100000}, 404, f"Unknown sourceid {OBJ_A * 100000}"),  # forced point, no detection
    ({}, 400, "Must supply either alertid or sourceid"),
    ({"objectid": OBJ_A}, 400, "Must supply either alertid or sourceid"),
    ([OBJ_A], 400, "Must supply either alertid or sourceid"),
    ("17", 400, "Must supply either alertid or sourceid"),
    ({"alertid": "abc"}, 400, 'alertid must be an integer, not "abc"'),
    ({"sourceid": None}, 400, "sourceid must be an integer, not null"),
    ({"alertid": 2**64}, 400, f"alertid must be an integer, not {2**64}"),
])
def test_errors_with_the_reference_text(api, sample, body, status, text):
    assert_error(post_json(api, URL, body), status, PREFIX + text)


def test_invalid_json_is_400(api, sample):
    res = post_json(api, URL, b"\xff\xfe not json")
    assert res.status_code == 400
    assert res.json()["error"].startswith(PREFIX + "request body is not valid JSON")


def test_anonymous_gets_401(client, sample):
    res = post_json(client, URL, {"alertid": sample["sources"][OBJ_A][0]["diasource_id"]})
    assert res.status_code == 401 and res.json() == {"error": "Authentication credentials were not provided."}
