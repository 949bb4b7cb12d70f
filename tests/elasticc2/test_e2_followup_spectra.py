"""askforspectrum, spectrawanted, planspectrum, removespectrumplan, reportspectruminfo,
getknownspectruminfo: shapes, semantics, errors (nothing written), login and method rules."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from test_e2_api_data import assert_error, post_json, strict_json
from test_e2_followup_data import O1, O2, O3, O4, count, forced_points, load_followup_sample

from desctom.elasticc2.models import PlannedSpectra, SpectrumInfo, WantedSpectra

E2 = "/elasticc2/"
ENDPOINTS = ["askforspectrum", "spectrawanted", "planspectrum", "removespectrumplan", "reportspectruminfo",
             "getknownspectruminfo"]


@pytest.fixture
def followup(db):
    return load_followup_sample()


def ok(api, page, body):
    res = post_json(api, E2 + page, body)
    assert res.status_code == 200, res.content
    out = strict_json(res)
    assert out["status"] == "ok"
    return out


def ask(api, requester, prios: dict, status=200):
    return ok(api, "askforspectrum", {"requester": requester, "objectids": list(prios),
                                      "priorities": list(prios.values())})


def wanted(api, **body):
    return ok(api, "spectrawanted", {"detected_since_mjd": 60000, **body})["wantedspectra"]


def expected_latest(oid, until=None):
    """Each band's most recent forced point with S/N > 3, magnitudes at zeropoint 31.4."""
    latest = {}
    for r in forced_points(oid):
        if r["psflux"] > 3 * r["psfluxerr"] and (until is None or r["midpointtai"] <= until):
            latest[r["filtername"]] = {"mjd": r["midpointtai"], "mag": -2.5 * math.log10(r["psflux"]) + 31.4}
    return latest


def assert_latest(got, want):
    assert set(got) == set(want)
    for band, point in want.items():
        assert got[band]["mjd"] == point["mjd"] and got[band]["mag"] == pytest.approx(point["mag"], abs=1e-9)


def test_ask_replaces_and_counts_changes(api, followup, django_user_model):
    out = ask(api, "RESSPECT", {O1: 3, O2: 5, O3: 1})
    assert out == {"status": "ok", "message": "wanted spectra created", "num": 3}
    assert ask(api, "RESSPECT", {O1: 3, O2: 4})["num"] == 1  # O2's priority changed, O1's did not
    assert count("wantedspectra") == 3
    assert WantedSpectra.objects.get(wantspec_id=f"{O2} ; RESSPECT").priority == 4
    assert {w.user.username for w in WantedSpectra.objects.all()} == {"apiuser"}
    assert ask(api, "Other", {O1: 4})["num"] == 1 and count("wantedspectra") == 4


def test_spectrawanted_order_latest_and_requester(api, followup):
    ask(api, "RESSPECT", {O1: 3, O2: 5, O3: 1})
    ask(api, "Other", {O1: 4})
    items = wanted(api)
    assert [(w["oid"], w["req"], w["prio"]) for w in items] == [(O2, "RESSPECT", 5), (O1, "Other", 4),
                                                                (O3, "RESSPECT", 1)]
    assert all(set(w) == {"oid", "ra", "dec", "req", "prio", "latest"} for w in items)
    assert (items[1]["ra"], items[1]["dec"]) == (10.0, -5.0)
    for w in items:
        assert_latest(w["latest"], expected_latest(w["oid"]))
    # O1's latest r point (60036, S/N 2) does not count: an earlier one does
    r_points = [p for p in forced_points(O1) if p["filtername"] == "r"]
    assert r_points[-1]["psflux"] / r_points[-1]["psfluxerr"] < 3
    assert items[1]["latest"]["r"]["mjd"] < r_points[-1]["midpointtai"]
    with_user = wanted(api, include_user=True)
    assert [w["user"] for w in with_user] == ["apiuser"] * 3
    # mjd_now bounds the detections and the photometry
    at = wanted(api, mjd_now=60021, detected_since_mjd=None, detected_in_last_days=15)
    assert [w["oid"] for w in at] == [O1]
    assert_latest(at[0]["latest"], expected_latest(O1, 60021))
    assert [w["oid"] for w in wanted(api, detected_since_mjd=60010)] == [O2, O1]  # strictly after


def test_spectrawanted_filters(api, followup):
    ask(api, "RESSPECT", {O1: 3, O2: 5, O3: 1, O4: 2})  # O4 was never detected: never listed
    mags = {oid: expected_latest(oid).get("g", {}).get("mag") for oid in (O1, O2, O3)}
    limit = sorted(m for m in mags.values() if m is not None)[1]
    bright = wanted(api, lim_mag=limit, lim_mag_band="g")
    expected = sorted(o for o, m in mags.items() if m is not None and m <= limit)
    assert sorted(w["oid"] for w in bright) == expected
    assert 0 < len(bright) < 3
    assert wanted(api, lim_mag=1.0, lim_mag_band="Y") == []
    assert [w["oid"] for w in wanted(api, requested_since="2000-01-01")] == [O2, O1, O3]
    assert wanted(api, requested_since="2999-01-01T00:00:00") == []
    # a plan claims O1 for 7 days; 0 days: no claim counts
    ok(api, "planspectrum", {"objectid": O1, "facility": "Keck"})
    assert [w["oid"] for w in wanted(api)] == [O2, O3]
    assert [w["oid"] for w in wanted(api, not_claimed_in_last_days=0)] == [O2, O1, O3]
    # a spectrum of O3 within no_spectra_in_last_days of mjd_now drops it
    SpectrumInfo.objects.create(diaobject_id=O3, facility="F", mjd=60038.0)
    assert [w["oid"] for w in wanted(api, mjd_now=60040)] == [O2]
    assert [w["oid"] for w in wanted(api, mjd_now=60040, no_spectra_in_last_days=0)] == [O2, O3]
    assert [w["oid"] for w in wanted(api, mjd_now=60046)] == [O2, O3]


@pytest.mark.parametrize("body, text", [
    ({"requested_since": "yesterday"},
     'Exception in WhatSpectraAreWanted: Failed to parse YYYY-MM-DD HH:MM:SS from "yesterday"'),
    ({"requested_since": "2024-13-01"},
     'Exception in WhatSpectraAreWanted: Failed to parse YYYY-MM-DD HH:MM:SS from "2024-13-01"'),
    ({"lim_mag": 20}, "Exception in WhatSpectraAreWanted: lim_mag and lim_mag_band go together: "
                      "give both or neither"),
    ({"lim_mag": 20, "lim_mag_band": "q"},
     'Exception in WhatSpectraAreWanted: lim_mag_band must be one of u, g, r, i, z, Y, not "q"'),
    ({"lim_mag": "bright", "lim_mag_band": "g"},
     'Exception in WhatSpectraAreWanted: lim_mag must be a finite number, not "bright"'),
    ({"not_claimed_in_last_days": "x"},
     'Exception in WhatSpectraAreWanted: not_claimed_in_last_days must be a finite number, not "x"'),
    ({"foo": 1}, "Exception in WhatSpectraAreWanted: Unknown parameters: {'foo'} (allowed: "
                 "requested_since, not_claimed_in_last_days, no_spectra_in_last_days, detected_since_mjd, "
                 "detected_in_last_days, lim_mag, lim_mag_band, mjd_now, include_user)"),
])
def test_spectrawanted_errors(api, followup, body, text):
    assert_error(post_json(api, E2 + "spectrawanted", body), 400, text)


A = "Mal-formed data for askforspectrum: "


@pytest.mark.parametrize("body, text", [
    ({"objectids": [O1], "priorities": [1]},
     A + "missing requester (give requester, objectids and priorities)"),
    ({"requester": "R", "objectids": [O1], "priorities": [1], "x": 1},
     A + "unknown keys {'x'} (give requester, objectids and priorities)"),
    ({"requester": "", "objectids": [O1], "priorities": [1]},
     A + 'requester must be a non-empty string, not ""'),
    ({"requester": "R", "objectids": O1, "priorities": [1]}, A + f"objectids must be a list, not {O1}"),
    ({"requester": "R", "objectids": [O1, O2], "priorities": [1]},
     A + "objectids and priorities must have the same length, not 2 and 1"),
    ({"requester": "R", "objectids": [], "priorities": []},
     A + "objectids is empty: give at least one object"),
    ({"requester": "R", "objectids": [O1, O2], "priorities": [1, 0]},
     A + "priorities must be from 1 (low) to 5 (high), not 0"),
    ({"requester": "R", "objectids": [O1], "priorities": [6]},
     A + "priorities must be from 1 (low) to 5 (high), not 6"),
    ({"requester": "R", "objectids": [O1], "priorities": [2.5]},
     A + "every entry of priorities must be an integer, not 2.5"),
    ({"requester": "R", "objectids": ["x"], "priorities": [2]},
     A + 'every entry of objectids must be an integer, not "x"'),
    ({"requester": "R", "objectids": [O1, O1], "priorities": [2, 3]},
     A + f"objectid {O1} appears more than once"),
    ({"requester": "R", "objectids": [O1, 7, 5], "priorities": [2, 3, 1]},
     A + "unknown objectids [5, 7]: the TOM knows only objects brokers have classified"),
    ([1], A + "the body must be a JSON object with keys requester, objectids, priorities"),
])
def test_ask_errors_write_nothing(api, followup, body, text):
    assert_error(post_json(api, E2 + "askforspectrum", body), 400, text)
    assert count("wantedspectra") == 0


def test_plan_replan_second_facility_remove(api, followup, django_user_model):
    out = ok(api, "planspectrum", {"objectid": O1, "facility": "Keck", "plantime": "2026-03-01 04:30:00",
                                   "comment": "first"})
    assert set(out) == {"status", "objectid", "facility", "created_at", "plantime", "comment"}
    assert (out["objectid"], out["facility"], out["plantime"], out["comment"]) == (
        O1, "Keck", "2026-03-01T04:30:00Z", "first")
    created = dt.datetime.fromisoformat(out["created_at"])
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 600
    again = ok(api, "planspectrum", {"objectid": O1, "facility": "Keck",
                                     "plantime": "2026-03-02T01:00+02:00"})
    assert (again["plantime"], again["comment"]) == ("2026-03-01T23:00:00Z", "")
    assert count("plannedspectra") == 1
    assert ok(api, "planspectrum", {"objectid": O1, "facility": "SOAR", "plantime": None})["plantime"] is None
    assert count("plannedspectra") == 2
    assert {p.user.username for p in PlannedSpectra.objects.all()} == {"apiuser"}
    out = ok(api, "removespectrumplan", {"objectid": O1, "facility": "Keck"})
    assert out == {"status": "ok", "facility": "Keck", "objectid": O1, "n_deleted": 1}
    assert ok(api, "removespectrumplan", {"objectid": O1, "facility": "Keck"})["n_deleted"] == 0
    assert list(PlannedSpectra.objects.values_list("facility", flat=True)) == ["SOAR"]


N = "Post data must be json with keys objectid and facility"


@pytest.mark.parametrize("page", ["planspectrum", "removespectrumplan"])
@pytest.mark.parametrize("body, text", [
    ({"objectid": O1}, N), ({"facility": "Keck"}, N), ([O1, "Keck"], N),
    ({"objectid": O1, "facility": ""}, "facility can't be an empty string"),
    ({"objectid": O1, "facility": 5}, "facility must be a string, not 5"),
    ({"objectid": "one", "facility": "Keck"}, 'objectid must be an integer, not "one"'),
    ({"objectid": O1, "facility": "Keck", "when": 1},
     "Unknown parameters: {'when'} (allowed: objectid, facility{})"),
])
def test_plan_and_remove_errors(api, followup, page, body, text):
    allowed = ", plantime, comment" if page == "planspectrum" else ""
    assert_error(post_json(api, E2 + page, body), 400, text.replace("{}", allowed))
    assert count("plannedspectra") == 0


@pytest.mark.parametrize("body, text", [
    ({"plantime": "next full moon"},
     'Failed to parse "next full moon" as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS'),
    ({"plantime": 60000}, "Failed to parse 60000 as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"),
    ({"comment": ["a"]}, 'comment must be a string, not ["a"]'),
    ({"objectid": 12345}, "Unknown objectid 12345"),
])
def test_plan_errors(api, followup, body, text):
    assert_error(post_json(api, E2 + "planspectrum", {"objectid": O1, "facility": "Keck", **body}), 400, text)
    assert count("plannedspectra") == 0


def test_report_removes_plan_and_requests(api, followup):
    ask(api, "RESSPECT", {O1: 3, O2: 5})
    ask(api, "Other", {O1: 2})
    ok(api, "planspectrum", {"objectid": O1, "facility": "Keck"})
    ok(api, "planspectrum", {"objectid": O1, "facility": "SOAR"})
    mjd = 60041.123456789
    out = ok(api, "reportspectruminfo", {"objectid": O1, "facility": "Keck", "mjd": mjd, "z": 0.1234,
                                         "classid": 2222})
    assert set(out) == {"status", "objectid", "facility", "inserted_at", "mjd", "z", "classid"}
    assert (out["objectid"], out["facility"], out["mjd"], out["z"], out["classid"]) == (O1, "Keck", mjd,
                                                                                       0.1234, 2222)
    assert SpectrumInfo.objects.get().mjd == mjd and SpectrumInfo.objects.get().user.username == "apiuser"
    assert list(PlannedSpectra.objects.values_list("facility", flat=True)) == ["SOAR"]
    assert list(WantedSpectra.objects.values_list("diaobject_id", flat=True)) == [O2]
    blank = ok(api, "reportspectruminfo", {"objectid": O2, "facility": "X", "mjd": 60042, "z": "",
                                           "classid": None})
    assert (blank["z"], blank["classid"]) == (None, None)


R = "Incorrect fields. "
FULL = {"objectid": O1, "facility": "Keck", "mjd": 60041.5, "z": 0.1, "classid": 2222}


@pytest.mark.parametrize("change, text", [
    ({"z": ..., "classid": ...}, R + "Missing required fields: {'classid', 'z'}."),
    ({"colour": "red"}, R + "Unknown fields: {'colour'}."),
    ({"objectid": 12345}, "Unknown objectid 12345"),
    ({"facility": ""}, "facility can't be an empty string"),
    ({"mjd": "tonight"}, 'mjd must be a finite number, not "tonight"'),
    ({"z": -2}, 'z must be greater than -1, not -2 (use null or "" for unknown)'),
    ({"classid": 9999}, "classid 9999 is not in the ELAsTiCC2 taxonomy (see elasticc2/classids); use 300 "
                        "(NotClassified) if the spectrum does not tell"),
    ({"classid": "Ia"}, 'classid must be an integer, not "Ia"'),
])
def test_report_errors_write_nothing(api, followup, change, text):
    ask(api, "RESSPECT", {O1: 3})
    body = {k: v for k, v in {**FULL, **change}.items() if v is not ...}
    assert_error(post_json(api, E2 + "reportspectruminfo", body), 400, text)
    assert (count("spectruminfo"), count("wantedspectra")) == (0, 1)


def test_getknownspectruminfo_filters(api, followup):
    reports = [(O1, "Keck", 60030.25, 0.1, 2222), (O2, "Keck", 60031.5, 0.5, 2232),
               (O2, "SOAR", 60032.75, None, 300), (O3, "SOAR", 60029.0, 1.5, None)]
    for oid, facility, mjd, z, classid in reports:
        ok(api, "reportspectruminfo", {"objectid": oid, "facility": facility, "mjd": mjd, "z": z,
                                       "classid": classid})

    def known(**body):
        spectra = ok(api, "getknownspectruminfo", body)["spectra"]
        return [(s["objectid"], s["facility"], s["mjd"]) for s in spectra]

    everything = ok(api, "getknownspectruminfo", {})["spectra"]
    assert [s["mjd"] for s in everything] == [60029.0, 60030.25, 60031.5, 60032.75]
    assert all(set(s) == {"objectid", "facility", "mjd", "z", "classid", "report_time"} for s in everything)
    assert known(objectid=O2) == [(O2, "Keck", 60031.5), (O2, "SOAR", 60032.75)]
    assert known(objectid=[O1, O3]) == [(O3, "SOAR", 60029.0), (O1, "Keck", 60030.25)]
    assert known(facility="SOAR") == [(O3, "SOAR", 60029.0), (O2, "SOAR", 60032.75)]
    assert known(mjd_min=60030.25, mjd_max=60031.5) == [(O1, "Keck", 60030.25), (O2, "Keck", 60031.5)]
    assert known(classid=2232) == [(O2, "Keck", 60031.5)]
    assert known(z_min=0.2) == [(O2, "Keck", 60031.5), (O3, "SOAR", 60029.0)][::-1]
    assert known(z_max=0.2) == [(O1, "Keck", 60030.25)]
    assert len(known(since="2000-01-01")) == 4 and known(since="2999-01-01T00:00:00") == []
    with_user = ok(api, "getknownspectruminfo", {"include_user": True})["spectra"]
    assert {s["user"] for s in with_user} == {"apiuser"}
    P = "Exception in GetKnownSpectrumInfo: "
    for body, text in [({"mjd_min": "x"}, P + 'mjd_min must be a finite number, not "x"'),
                       ({"since": "last week"},
                        P + 'Failed to parse YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS from "last week"'),
                       ({"objectid": ["a"]}, P + 'objectid must be an integer, not "a"'),
                       ({"mjd": 1}, P + "Unknown parameters: {'mjd'} (allowed: objectid, facility, mjd_min, "
                                        "mjd_max, classid, z_min, z_max, since, include_user)")]:
        assert_error(post_json(api, E2 + "getknownspectruminfo", body), 400, text)


@pytest.mark.parametrize("page", ENDPOINTS + ["gethottransients"])
def test_login_required_and_any_user_may_use(client, page, followup):
    assert_error(post_json(client, E2 + page, {}), 401, "Authentication credentials were not provided.")


@pytest.mark.parametrize("page", ENDPOINTS)
def test_get_is_405(db, api, page):
    res = api.get(E2 + page)
    assert res.status_code == 405 and res.json()["error"] == "Method GET not allowed here; use POST, OPTIONS."
