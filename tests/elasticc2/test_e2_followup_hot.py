"""``/elasticc2/gethottransients``: shapes, ``mjd_now``, redshift/sncode knowledge, errors, login."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from test_e2_api_data import assert_error, get_json, post_json, strict_json
from test_e2_followup_data import O1, O2, O3, O4, forced_of, load_followup_sample

from desctom.elasticc2.models import SpectrumInfo
from desctom.elasticc2.queries.followup import LEAF_CLASSES, best_knowledge

URL = "/elasticc2/gethottransients"
KEYS = {"objectid", "ra", "dec", "zp", "redshift", "sncode", "photometry"}
HOST = {f"hostgal_mag_{b}" for b in "ugrizy"} | {f"hostgal_magerr_{b}" for b in "ugrizy"} | {
    "hostgal_ellipticity", "hostgal_sqradius", "hostgal_snsep"}


@pytest.fixture
def followup(db):
    return load_followup_sample()


def hot(api, **body):
    res = post_json(api, URL, body)
    assert res.status_code == 200, res.content
    out = strict_json(res)
    assert out["status"] == "ok"
    return out["diaobject"]


def photometry(oid, until=None):
    rows = forced_of(oid, until)
    return {"mjd": [r["midpointtai"] for r in rows], "band": [r["filtername"] for r in rows],
            "flux": [r["psflux"] for r in rows], "fluxerr": [r["psfluxerr"] for r in rows]}


def test_format_0_with_best_knowledge(api, followup):
    objs = hot(api, detected_since_mjd=60020)
    assert [o["objectid"] for o in objs] == [O1, O2]
    assert all(set(o) == KEYS for o in objs)
    first, second = objs
    assert (first["ra"], first["dec"], first["zp"]) == (10.0, -5.0, 31.4)
    assert first["photometry"] == photometry(O1)
    # redshift: host spectroscopic z for O1, photometric for O2 (no zspec)
    assert (first["redshift"], second["redshift"]) == (0.25, 0.5)
    # sncode: classifier A's latest (2223 0.9) + B's (2222 0.6) -> 2223; O2: the non-leaf 2220 is ignored
    assert (first["sncode"], second["sncode"]) == (2223, 2235)


def test_mjd_now_bounds_detections_photometry_and_classes(api, followup):
    objs = hot(api, mjd_now=60025, detected_in_last_days=10)
    assert [o["objectid"] for o in objs] == [O1]
    assert objs[0]["photometry"] == photometry(O1, 60025)
    assert objs[0]["sncode"] == 2222  # A's latest message up to 60025 is about 60010 (2222 0.6)
    # the default window is 30 days before mjd_now
    assert [o["objectid"] for o in hot(api, mjd_now=60033)] == [O1, O2, O3]
    assert [o["objectid"] for o in hot(api, mjd_now=60035)] == [O1, O2]
    # without mjd_now the window ends at the campaign's clock, the latest detection (60034; issue 19)
    assert [o["objectid"] for o in hot(api)] == [O1, O2, O3]
    assert hot(api, detected_in_last_days=100000)[0]["objectid"] == O1


def test_unknowns_are_minus_99_and_spectra_win(api, followup, django_user_model):
    o3 = hot(api, detected_since_mjd=60000, mjd_now=60010)
    assert [(o["objectid"], o["redshift"], o["sncode"]) for o in o3] == [(O1, 0.25, 2222), (O3, -99, -99)]
    user = django_user_model.objects.get(username="apiuser")
    SpectrumInfo.objects.create(diaobject_id=O2, facility="F", mjd=60036.5, z=0.125, classid=2242, user=user)
    SpectrumInfo.objects.create(diaobject_id=O2, facility="G", mjd=60037.5, z=None, classid=300, user=user)
    objs = {o["objectid"]: o for o in hot(api, detected_since_mjd=60030)}
    assert (objs[O2]["redshift"], objs[O2]["sncode"]) == (0.125, 2242)  # 300 and null z do not count
    objs = {o["objectid"]: o for o in hot(api, detected_since_mjd=60030, mjd_now=60036)}
    assert (objs[O2]["redshift"], objs[O2]["sncode"]) == (0.5, 2235)  # the spectrum is after mjd_now
    assert best_knowledge([O4, 999]) == {O4: (-99, -99)}


def test_format_1_2_hostinfo_and_cheat(api, followup):
    one = hot(api, detected_since_mjd=60020, return_format=1, include_hostinfo=True)
    assert set(one[0]) == (KEYS - {"photometry"}) | {"mjd", "band", "flux", "fluxerr"} | HOST
    assert one[0]["mjd"] == photometry(O1)["mjd"] and one[0]["hostgal_mag_r"] == 21.5
    assert one[0]["hostgal_snsep"] is None
    two = hot(api, detected_since_mjd=60020, return_format=2)
    assert set(two) == {"objectid", "ra", "dec", "mjd", "band", "flux", "fluxerr", "zp", "redshift", "sncode"}
    assert two["objectid"] == [O1, O2] and two["zp"] == [31.4, 31.4] and two["sncode"] == [2223, 2235]
    assert two["mjd"] == [photometry(O1)["mjd"], photometry(O2)["mjd"]]
    assert hot(api, detected_since_mjd=60040, return_format=2) == {k: [] for k in two}
    res = post_json(api, URL, {"detected_since_mjd": 0, "cheat_gentypes": [20]})  # truth: admins only
    assert res.status_code == 403 and "only ELAsTiCC admins" in res.json()["error"]
    admins, _ = Group.objects.get_or_create(name="elasticc_admin")
    User.objects.get(username="apiuser").groups.add(admins)
    assert [o["objectid"] for o in hot(api, detected_since_mjd=0, cheat_gentypes=[20, 60])] == [O2, O3]
    assert hot(api, detected_since_mjd=0, cheat_gentypes=[]) == []


def test_get_is_an_alias(api, followup):
    res = get_json(api, URL, {"detected_since_mjd": 60020})
    assert res.status_code == 200 and len(res.json()["diaobject"]) == 2


@pytest.mark.parametrize("body, text", [
    ({"foo": 1, "mjd_now": 1}, "Error, unknown parameters passed in request body: ['foo']"),
    ({"return_format": 3}, "Error, unknown return_format 3"),
    ({"return_format": "x"}, 'Error, unknown return_format "x"'),
    ({"detected_since_mjd": 1, "detected_in_last_days": 2},
     "Error, only give one of detected_since_mjd or detected_in_last_days"),
    ({"cheat_gentypes": 10}, "Error, cheat_gentypes must be a list"),
    ({"cheat_gentypes": ["Ia"]},
     'Exception in GetHotSNeView: every entry of cheat_gentypes must be an integer, not "Ia"'),
    ({"mjd_now": "today"}, 'Exception in GetHotSNeView: mjd_now must be a finite number, not "today"'),
    ({"detected_since_mjd": None, "detected_in_last_days": "many"},
     'Exception in GetHotSNeView: detected_in_last_days must be a finite number, not "many"'),
    ([1, 2], "Exception in GetHotSNeView: request body must be a JSON object, not a list"),
])
def test_errors(api, followup, body, text):
    assert_error(post_json(api, URL, body), 400, text)


def test_bad_json_and_anonymous(client, api, followup):
    res = post_json(api, URL, "{not json")
    assert res.status_code == 400 and "request body is not valid JSON" in res.json()["error"]
    client.logout()
    assert_error(post_json(client, URL, {}), 401, "Authentication credentials were not provided.")


def test_leaf_classes():
    assert 2222 in LEAF_CLASSES and 2221 in LEAF_CLASSES and 2332 in LEAF_CLASSES
    assert not {0, 300, 2000, 2200, 2220, 2230, 2320} & set(LEAF_CLASSES)
