"""``/elasticc2/ltcv``: light curves of the objects the TOM knows (the local tables)."""

import pytest
from test_e2_api_data import (
    HOST_A,
    OBJ_A,
    OBJ_B,
    OBJ_C,
    OBJ_D,
    POSITIONS,
    assert_error,
    get_json,
    make_user,
    post_json,
    strict_json,
    token_header,
)

from desctom.survey.columns import COLUMN_BANDS as BANDS

pytestmark = pytest.mark.django_db
URL = "/elasticc2/ltcv"
PREFIX = "Exception in LtcvsView: "
HOST_KEYS = ([f"hostgal_mag_{b}" for b in BANDS] + [f"hostgal_magerr_{b}" for b in BANDS]
             + ["hostgal_ellipticity", "hostgal_sqradius", "hostgal_snsep"])


def photometry(rows, mjd_now=None):
    rows = [r for r in rows if mjd_now is None or r["midpointtai"] <= mjd_now]
    return {"mjd": [r["midpointtai"] for r in rows], "band": [r["filtername"] for r in rows],
            "flux": [r["psflux"] for r in rows], "fluxerr": [r["psfluxerr"] for r in rows]}


def test_format_0_known_objects_only(api, sample):
    res = post_json(api, URL, {"objectids": [OBJ_B, OBJ_A, OBJ_C, OBJ_D, 424242]})
    assert res.status_code == 200
    got = strict_json(res)
    assert got["status"] == "ok"
    # C is known but has no photometry, D is only in the PPDB, 424242 does not exist: all omitted
    assert [o["objectid"] for o in got["diaobject"]] == [OBJ_A, OBJ_B]
    a, b = got["diaobject"]
    assert set(a) == {"objectid", "ra", "dec", "zp", "photometry"}
    assert (a["ra"], a["dec"], a["zp"]) == (*POSITIONS[OBJ_A], 31.4)
    assert a["photometry"] == photometry(sample["local_forced"][OBJ_A])
    assert len(a["photometry"]["mjd"]) == 15  # only what the local tables know, not the PPDB's 20
    assert b["photometry"] == photometry(sample["forced"][OBJ_B])


def test_single_objectid_and_objectid_list(api, sample):
    one = post_json(api, URL, {"objectid": OBJ_B}).json()["diaobject"]
    assert [o["objectid"] for o in one] == [OBJ_B]
    assert post_json(api, URL, {"objectid": [OBJ_B]}).json()["diaobject"] == one
    assert post_json(api, URL, {"objectids": OBJ_B}).json()["diaobject"] == one
    assert post_json(api, URL, {"objectids": [str(OBJ_B)]}).json()["diaobject"] == one
    assert post_json(api, URL, {"objectids": [OBJ_D]}).json() == {"status": "ok", "diaobject": []}


def test_mjd_now_cuts_photometry(api, sample):
    got = post_json(api, URL, {"objectids": [OBJ_A, OBJ_B], "mjd_now": 60010.5}).json()["diaobject"]
    assert got[0]["photometry"] == photometry(sample["local_forced"][OBJ_A], 60010.5)
    assert len(got[0]["photometry"]["mjd"]) == 6
    assert got[1]["photometry"]["mjd"] == [60010.5]  # a point at mjd_now itself is included
    assert post_json(api, URL, {"objectids": [OBJ_A], "mjd_now": 59000}).json()["diaobject"] == []


def test_format_1_has_photometry_at_top_level(api, sample):
    got = strict_json(post_json(api, URL, {"objectids": [OBJ_A, OBJ_B], "return_format": 1}))["diaobject"]
    assert [set(o) for o in got] == [{"objectid", "ra", "dec", "zp", "mjd", "band", "flux", "fluxerr"}] * 2
    assert {k: got[0][k] for k in ("mjd", "band", "flux", "fluxerr")} == photometry(
        sample["local_forced"][OBJ_A])
    assert got[1]["zp"] == 31.4 and got[1]["objectid"] == OBJ_B


def test_format_2_parallel_lists(api, sample):
    got = strict_json(post_json(api, URL, {"objectids": [OBJ_B, OBJ_A], "return_format": 2}))["diaobject"]
    assert set(got) == {"objectid", "ra", "dec", "mjd", "band", "flux", "fluxerr", "zp"}
    assert got["objectid"] == [OBJ_A, OBJ_B]
    assert got["ra"] == [POSITIONS[OBJ_A][0], POSITIONS[OBJ_B][0]]
    assert got["zp"] == [31.4, 31.4]
    pa, pb = photometry(sample["local_forced"][OBJ_A]), photometry(sample["forced"][OBJ_B])
    for key in ("mjd", "band", "flux", "fluxerr"):
        assert got[key] == [pa[key], pb[key]]


@pytest.mark.parametrize("return_format", [0, 1, 2])
def test_hostinfo_with_nulls_is_strict_json(api, sample, return_format):
    res = post_json(api, URL, {"objectids": [OBJ_A, OBJ_B], "include_hostinfo": True,
                               "return_format": return_format})
    got = strict_json(res)["diaobject"]
    want_a = {k: HOST_A.get(k) for k in HOST_KEYS}
    want_b = dict.fromkeys(HOST_KEYS)  # B has no host values at all: NULL -> null (the original said NaN)
    if return_format == 2:
        assert {k: got[k] for k in HOST_KEYS} == {k: [want_a[k], want_b[k]] for k in HOST_KEYS}
    else:
        assert {k: got[0][k] for k in HOST_KEYS} == want_a
        assert {k: got[1][k] for k in HOST_KEYS} == want_b
    assert b"NaN" not in res.content
    assert want_a["hostgal_mag_u"] == 23.5 and want_a["hostgal_mag_y"] is None


def test_hostinfo_false_adds_nothing(api, sample):
    got = post_json(api, URL, {"objectid": OBJ_A, "include_hostinfo": 0}).json()["diaobject"][0]
    assert set(got) == {"objectid", "ra", "dec", "zp", "photometry"}


def test_get_is_an_alias_of_post(api, sample):
    body = {"objectids": [OBJ_A, OBJ_B], "return_format": 2}
    assert get_json(api, URL, body).json() == post_json(api, URL, body).json()


def test_token_auth(client, sample):
    res = post_json(client, URL, {"objectid": OBJ_A}, **token_header(make_user("tokenuser")))
    assert res.status_code == 200 and res.json()["diaobject"][0]["objectid"] == OBJ_A


@pytest.mark.parametrize(("body", "text"), [
    ({"objectid": OBJ_A, "foo": 1}, "Unknown parameters: {'foo'}"),
    ({"objectid": OBJ_A, "foo": 1, "bar": 2}, "Unknown parameters: {'bar', 'foo'}"),
    ({}, "Must supply either objectid or objectids"),
    ({"mjd_now": 60000}, "Must supply either objectid or objectids"),
    ({"objectid": OBJ_A, "objectids": [OBJ_B]}, "Can't supply both objectid and objectids"),
    ({"objectid": OBJ_A, "return_format": 3}, "Unknown return_format 3"),
    ({"objectid": OBJ_A, "return_format": "fancy"}, "Unknown return_format fancy"),
    ({"objectids": []}, "objectids is an empty list: give at least one object id"),
    ({"objectid": []}, "objectid is an empty list: give at least one object id"),
    ({"objectid": "abc"}, 'objectid must be an integer or a list of integers, not "abc"'),
    ({"objectid": None}, "objectid must be an integer or a list of integers, not null"),
    ({"objectids": [1, 2.5]}, 'every entry of objectids must be an integer, not 2.5'),
    ({"objectids": [2**70]}, f"every entry of objectids must be an integer, not {2**70}"),
    ({"objectids": [True]}, "every entry of objectids must be an integer, not true"),
    ({"objectid": OBJ_A, "mjd_now": "soon"}, 'mjd_now must be a finite number, not "soon"'),
])
def test_client_errors_are_400_with_the_reference_text(api, sample, body, text):
    assert_error(post_json(api, URL, body), 400, PREFIX + text)


def test_non_finite_mjd_now_is_refused(api, sample):
    # Python's json (and so a careless client) can send NaN; it must not select everything.
    assert_error(post_json(api, URL, '{"objectid": 1001, "mjd_now": NaN}'), 400,
                 PREFIX + "mjd_now must be a finite number, not NaN")


def test_body_must_be_a_json_object(api, sample):
    res = post_json(api, URL, "{not json")
    assert res.status_code == 400
    assert res.json()["error"].startswith(PREFIX + "request body is not valid JSON (")
    assert_error(post_json(api, URL, [OBJ_A]), 400, PREFIX + "request body must be a JSON object, not a list")
    assert_error(post_json(api, URL, "[" * 100000), 400,
                 PREFIX + "request body is not valid JSON (nested too deeply)")


def test_anonymous_gets_401(client, sample):
    for res in (post_json(client, URL, {"objectid": OBJ_A}), client.get(URL)):
        assert res.status_code == 401
        assert res.json() == {"error": "Authentication credentials were not provided."}


def test_put_is_405(api):
    assert api.put(URL).status_code == 405
