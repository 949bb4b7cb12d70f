"""FASTDB's data routes over real HTTP with a session from the challenge-response login, as FASTDB's
client calls them (JSON POST, no CSRF token): the keys it reads, bad input (422 text), no login (401)."""

from __future__ import annotations

import pytest
import requests
from fastdb_helpers import PASSWORD, ROOT_A, ROOT_B, login, make_sky, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server):
    from django.contrib.auth.models import User

    user = User.objects.create_user("ltcvuser")
    user.set_password(PASSWORD)
    user.save()
    make_sky()
    base = live_server.url
    session = login(base, "ltcvuser")
    return lambda url, body=None: post(session, base, url, body)


def test_getmanyltcvs_patch_forced_detections(api):
    curves = api("ltcv/getmanyltcvs", {"objids": [str(ROOT_A)]}).json()
    assert len(curves) == 1
    a = curves[0]
    assert a["rootid"] == str(ROOT_A)
    assert a["mjd"] == [60000.0, 60001.0, 60003.0, 60005.0]
    assert a["visit"] == [0, 1, 2, 3] and a["band"] == ["g", "r", "g", "r"]
    assert a["flux"] == [5.0, 990.0, 1990.0, 3000.0] and a["fluxerr"] == [20.0, 20.0, 20.0, 10.0]
    assert a["isdet"] == [0, 1, 1, 1] and a["ispatch"] == [0, 0, 0, 1]
    assert a["diasourceid"] == [None, 1001, 1002, 1003] and a["diaforcedsourceid"] == [5000, 5001, 5002, None]
    assert a["diaobjectid"] == [101, 101, 101, 101]
    forced = api("ltcv/getmanyltcvs/default", {"objids": [102], "which": "forced"}).json()[0]
    assert forced["mjd"] == [60000.0, 60001.0, 60003.0] and "ispatch" not in forced
    dets = api("ltcv/getmanyltcvs/realtime/", {"objids": 101, "which": "detections", "bands": ["r"]}).json()[
        0
    ]
    assert dets["diasourceid"] == [1001, 1003] and "diaforcedsourceid" not in dets
    assert dets["isdet"] == [1, 1]
    cut = api(
        "ltcv/getmanyltcvs", {"objids": ["101", "201"], "mjd_now": 60002.0, "include_source_positions": True}
    ).json()
    assert [c["rootid"] for c in cut] == [str(ROOT_A), str(ROOT_B)]
    assert cut[0]["mjd"] == [60000.0, 60001.0] and cut[0]["det_ra"] == [None, 10.0]
    assert cut[1]["mjd"] == [59900.0] and cut[1]["ispatch"] == [1]


def test_getmanyltcvs_with_object_info(api):
    answer = api("ltcv/getmanyltcvs", {"objids": [str(ROOT_A)], "return_object_info": True}).json()
    assert set(answer) == {"ltcvs", "objinfo"}
    info = answer["objinfo"]
    assert info["diaobjectid"] == [101, 102] and info["rootid"] == [str(ROOT_A)] * 2
    assert info["ra"] == [10.0, 10.0001] and info["raerr"] == [None, None]


def test_getltcv_both_forms_and_stringified_ints(api, live_server):
    one = api(f"ltcv/getltcv/{ROOT_B}").json()
    assert one["rootid"] == str(ROOT_B) and one["diasourceid"] == [2001]
    assert api("ltcv/getltcv/realtime/201").json() == one
    wrapped = api("ltcv/getltcv/default/101", {"return_object_info": True}).json()
    assert set(wrapped) == {"ltcv", "objinfo"} and wrapped["ltcv"]["rootid"] == str(ROOT_A)
    session = login(live_server.url, "ltcvuser")
    res = session.post(
        f"{live_server.url}/ltcv/getltcv/201", headers={"Fastdb-Stringifyints": "1"}, timeout=30
    )
    assert res.json()["diasourceid"] == ["2001"] and res.json()["mjd"] == [59900.0]


def test_getrandomltcv(api):
    curve = api("ltcv/getrandomltcv").json()
    assert curve["rootid"] in (str(ROOT_A), str(ROOT_B)) and len(curve["mjd"]) == len(curve["flux"])


def test_gethottransients(api):
    hot = api("ltcv/gethottransients", {"mjd_now": 60004.0, "detected_in_last_days": 10}).json()
    assert set(hot) == {"ltcvs", "objinfo"}
    assert [c["rootid"] for c in hot["ltcvs"]] == [str(ROOT_A)]
    assert hot["ltcvs"][0]["mjd"] == [60000.0, 60001.0, 60003.0]  # nothing after mjd_now
    assert hot["objinfo"]["diaobjectid"] == [101, 102] and "ra" in hot["objinfo"]
    both = api(
        "ltcv/gethottransients/realtime",
        {
            "detected_since_mjd": 59000,
            "mjd_now": 60010,
            "source_patch": False,
            "include_object_positions": False,
        },
    )
    assert [c["rootid"] for c in both.json()["ltcvs"]] == [str(ROOT_B), str(ROOT_A)]
    assert "ra" not in both.json()["objinfo"] and "ispatch" not in both.json()["ltcvs"][0]
    assert api("ltcv/gethottransients").json() == {
        "ltcvs": [],
        "objinfo": {
            "diaobjectid": [],
            "rootid": [],
            "ra": [],
            "dec": [],
            "raerr": [],
            "decerr": [],
            "ra_dec_cov": [],
        },
    }  # nothing in the last 30 days


def test_getprocvers_and_count(api):
    assert api("getprocvers").json() == {"status": "ok", "procvers": ["default", "realtime"]}
    assert api("count/object").json() == {
        "status": "ok",
        "table": "diaobject",
        "count": 2,
        "isestimate": False,
    }
    assert api("count/diasource/realtime").json()["count"] == 4
    assert api("count/forced").json()["count"] == 3


BAD = [
    ("ltcv/getmanyltcvs", {"objids": [1], "mjd_now": 10**400}, "mjd_now must be a finite number"),
    ("ltcv/gethottransients", {"detected_in_last_days": 1e300}, "detected_in_last_days must be a finite"),
    ("ltcv/getmanyltcvs", {}, "no objids requested"),
    ("ltcv/getmanyltcvs", {"objids": []}, "no objids requested"),
    (
        "ltcv/getmanyltcvs",
        {"objids": [1, str(ROOT_A)]},
        "objids must be a list of integers or a list of uuids",
    ),
    ("ltcv/getmanyltcvs", {"objids": [2**70]}, "objids must be a list of integers"),
    ("ltcv/getmanyltcvs", {"objids": [1], "colour": "red"}, "Unknown data parameters: {'colour'}"),
    ("ltcv/getmanyltcvs", {"objids": [1], "which": "all"}, "which must be one of"),
    ("ltcv/getmanyltcvs", {"objids": [1], "mjd_now": "soon"}, "mjd_now must be a finite number"),
    ("ltcv/getmanyltcvs", {"objids": [1], "bands": 3}, "bands must be a list of strings"),
    ("ltcv/getmanyltcvs", [1, 2], "Post data must be a JSON dict"),
    ("ltcv/getmanyltcvs/pv42", {"objids": [1]}, "Unknown processing version pv42"),
    ("ltcv/getltcv/999", None, "Could not find lightcurve for 999 in processing version default"),
    ("ltcv/getltcv/nonsense", None, "objids must be a list of integers or a list of uuids"),
    ("ltcv/getltcv/old/101", None, "Unknown processing version old"),
    ("ltcv/gethottransients", {"detected_since_mjd": 1, "detected_in_last_days": 2}, "at most one of"),
    (
        "ltcv/gethottransients",
        {"detected_in_last_days": "x"},
        "detected_in_last_days must be a finite number",
    ),
    ("ltcv/gethottransients/v1", {}, "Unknown processing version v1"),
    ("count/planets", None, "Unknown thing to count: planets"),
]


def test_bad_input_is_422_naming_the_problem(api):
    for url, body, text in BAD:
        res = api(url, body)
        assert res.status_code == 422 and text in res.text, (url, body, res.status_code, res.text)
        assert res.headers["Content-Type"].startswith("text/plain")


def test_not_json_body_is_422(api, live_server):
    session = login(live_server.url, "ltcvuser")
    res = session.post(
        f"{live_server.url}/ltcv/getmanyltcvs",
        data=b'{"objids": [1',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert res.status_code == 422 and "not valid JSON" in res.text


ROUTES = [
    "ltcv/getmanyltcvs",
    "ltcv/getltcv/101",
    "ltcv/getrandomltcv",
    "ltcv/gethottransients",
    "getprocvers",
    "count/object",
    "spectrum/askforspectrum",
    "spectrum/spectrawanted",
    "spectrum/planspectrum",
    "spectrum/removespectrumplan",
    "spectrum/reportspectruminfo",
    "spectrum/getknownspectruminfo",
]


def test_not_logged_in_is_refused(live_server):
    for url in ROUTES:
        res = requests.post(f"{live_server.url}/{url}", json={}, timeout=30)
        assert res.status_code == 401 and res.text == "Not logged in", url


def test_get_is_405(api, live_server):
    session = login(live_server.url, "ltcvuser")
    for url in [r for r in ROUTES if r.startswith(("ltcv", "spectrum"))]:
        res = session.get(f"{live_server.url}/{url}", timeout=30)
        assert res.status_code == 405 and "use POST" in res.text, (url, res.status_code, res.text)


def test_sql_routes_with_fastdb_session(api):
    from desctom.db.workers.roles import ensure_readonly_role

    ensure_readonly_role()
    sql = "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(n, s) ORDER BY n"
    rows = api("db/runsqlquery/", {"query": sql, "return_format": 0}).json()
    assert rows == {"status": "ok", "rows": [{"n": 1, "s": "a"}, {"n": 2, "s": "b"}]}
    cols = api("db/runsqlquery/", {"query": [sql], "subdict": [{}], "return_format": 1}).json()
    assert cols == {"status": "ok", "data": {"n": [1, 2], "s": ["a", "b"]}}
    bad = api("db/runsqlquery/", {"query": sql, "return_format": 2}).json()
    assert bad["status"] == "error" and "return_format must be 0 (rows) or 1 (columns)" in bad["error"]
    submitted = api("db/submitsqlquery/", {"query": sql, "return_format": "csv"}).json()
    assert submitted["status"] == "ok"
    check = api(f"db/checksqlquery/{submitted['queryid']}/").json()
    assert check["status"] == "queued" and check["format"] == "csv"
    res = api(f"db/getsqlqueryresults/{submitted['queryid']}/")
    assert res.status_code == 409 and "hasn't started yet" in res.text
    zero = api("db/submitsqlquery/", {"query": sql, "return_format": 0}).json()
    assert api(f"db/checksqlquery/{zero['queryid']}/").json()["format"] == "csv"
    bad = api("db/submitsqlquery/", {"query": sql, "return_format": "numpy"}).json()
    assert bad == {"status": "error", "error": "Unknown format numpy"}
