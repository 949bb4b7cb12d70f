"""FASTDB's spectrum routes over real HTTP, as its client calls them (``oid`` or ``root_diaobject_id``)."""

from __future__ import annotations

import pytest
from fastdb_helpers import PASSWORD, ROOT_A, ROOT_B, login, make_sky, post

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "00000000-0000-4000-8000-0000000000ff"


@pytest.fixture
def api(live_server):
    from django.contrib.auth.models import User

    user = User.objects.create_user("specuser")
    user.set_password(PASSWORD)
    user.save()
    make_sky()
    session = login(live_server.url, "specuser")
    return lambda url, body=None: post(session, live_server.url, url, body)


def test_ask_plan_report_and_what_is_wanted(api):
    from desctom.live.models import WantedSpectra

    res = api(
        "spectrum/askforspectrum",
        {"requester": "desc", "objectids": [str(ROOT_A), str(ROOT_B)], "priorities": [3, 9]},
    ).json()
    assert res == {"status": "ok", "message": "wanted spectra created", "num": 2}
    assert WantedSpectra.objects.get(wantspec_id=f"{ROOT_B} ; desc").priority == 5  # clamped
    # "now" = MJD 60006: A was detected at 60005 (within 14 days), B at 59900 (not)
    wanted = api("spectrum/spectrawanted", {"mjd_now": 60006.0, "requested_since": "2000-01-01"}).json()
    assert wanted["status"] == "ok"
    assert wanted["wantedspectra"] == []  # the requests were made now, after MJD 60006
    wanted = api("spectrum/spectrawanted", {"detected_since_mjd": 60000.0}).json()["wantedspectra"]
    assert [(w["oid"], w["req"], w["prio"]) for w in wanted] == [(str(ROOT_A), "desc", 3)]
    w = wanted[0]
    assert (w["ra"], w["dec"], w["latest_source_band"], w["latest_source_mjd"]) == (10.0, -5.0, "r", 60005.0)
    assert w["latest_source_mag"] == pytest.approx(31.4 - 2.5 * 3.4771212547196626)  # 3000 nJy
    assert (w["latest_forced_band"], w["latest_forced_mjd"]) == ("g", 60003.0)
    assert (
        api("spectrum/spectrawanted", {"detected_since_mjd": 60000.0, "lim_mag": 20.0}).json()[
            "wantedspectra"
        ]
        == []
    )  # 22.7 is fainter than 20
    assert len(api("spectrum/spectrawanted", {"detected_since_mjd": None}).json()["wantedspectra"]) == 2
    assert api(
        "spectrum/planspectrum",
        {"oid": str(ROOT_A), "facility": "SOAR", "plantime": "2030-01-02 03:04:05", "comment": "maybe"},
    ).json() == {"status": "ok"}
    assert api("spectrum/spectrawanted", {"detected_since_mjd": 60000.0}).json()["wantedspectra"] == []
    assert api(
        "spectrum/removespectrumplan", {"root_diaobject_id": str(ROOT_A), "facility": "SOAR"}
    ).json() == {"status": "ok", "ndel": 1}
    assert api("spectrum/removespectrumplan", {"oid": str(ROOT_A), "facility": "SOAR"}).json()["ndel"] == 0
    assert api(
        "spectrum/reportspectruminfo",
        {"oid": str(ROOT_A), "facility": "SOAR", "mjd": 60004.5, "z": 0.05, "classid": 2222},
    ).json() == {"status": "ok"}
    assert api(
        "spectrum/reportspectruminfo",
        {"oid": str(ROOT_B), "facility": "NOT", "mjd": 59901, "z": "", "classid": 0},
    ).json() == {"status": "ok"}
    assert (
        api("spectrum/spectrawanted", {"detected_since_mjd": 60000.0, "mjd_now": 60005.5}).json()[
            "wantedspectra"
        ]
        == []
    )


def test_getknownspectruminfo(api):
    api(
        "spectrum/reportspectruminfo",
        {"oid": str(ROOT_A), "facility": "SOAR", "mjd": 60004.5, "z": 0.05, "classid": 2222},
    )
    api(
        "spectrum/reportspectruminfo",
        {"root_diaobject_id": str(ROOT_B), "facility": "NOT", "mjd": 59901, "z": None, "classid": 0},
    )
    known = api("spectrum/getknownspectruminfo").json()
    assert isinstance(known, list) and [k["oid"] for k in known] == [str(ROOT_A), str(ROOT_B)]
    first = known[0]
    assert set(first) == {"specinfo_id", "oid", "facility", "inserted_at", "mjd", "z", "classid"}
    assert (first["facility"], first["mjd"], first["z"], first["classid"]) == ("SOAR", 60004.5, 0.05, 2222)
    assert known[1]["z"] is None
    assert [k["oid"] for k in api("spectrum/getknownspectruminfo", {"oid": str(ROOT_B)}).json()] == [
        str(ROOT_B)
    ]
    assert len(api("spectrum/getknownspectruminfo", {"oid": [str(ROOT_A), str(ROOT_B)]}).json()) == 2
    assert [k["facility"] for k in api("spectrum/getknownspectruminfo", {"mjd_min": 60000}).json()] == [
        "SOAR"
    ]
    assert api("spectrum/getknownspectruminfo", {"classid": 0, "facility": "NOT"}).json()[0]["oid"] == str(
        ROOT_B
    )
    assert api("spectrum/getknownspectruminfo", {"since": "2100-01-01"}).json() == []


BAD = [
    ("spectrum/spectrawanted", {"mjd_now": 10**400}, "mjd_now must be a finite number"),
    ("spectrum/spectrawanted", {"mjd_now": -5}, "mjd_now must not be negative"),
    (
        "spectrum/spectrawanted",
        {"not_claimed_in_last_days": 1e300},
        "not_claimed_in_last_days must be a finite",
    ),
    (
        "spectrum/reportspectruminfo",
        {"oid": str(ROOT_A), "facility": "X", "mjd": 1, "z": 1e300, "classid": 1},
        "z must be a finite number",
    ),
    (
        "spectrum/askforspectrum",
        {"requester": "desc", "objectids": [str(ROOT_A)], "priorities": []},
        "Mal-formed data for askforspectrum",
    ),
    ("spectrum/askforspectrum", {"objectids": [str(ROOT_A)], "priorities": [1]}, "requester must be"),
    (
        "spectrum/askforspectrum",
        {"requester": "d", "objectids": [101], "priorities": [1]},
        "objectids must be",
    ),
    (
        "spectrum/askforspectrum",
        {"requester": "d", "objectids": [UNKNOWN], "priorities": [1]},
        "Unknown objects",
    ),
    (
        "spectrum/askforspectrum",
        {"requester": "d", "objectids": [str(ROOT_A)], "priorities": ["high"]},
        "priorities must be an integer",
    ),
    ("spectrum/spectrawanted", {"requested_since": "yesterday"}, "Failed to parse YYYY-MM-DD HH:MM:SS from"),
    ("spectrum/spectrawanted", {"lim_mag": "bright"}, "lim_mag must be a finite number"),
    ("spectrum/spectrawanted", {"processing_version": "v9"}, "Unknown processing version v9"),
    (
        "spectrum/planspectrum",
        {"oid": str(ROOT_A), "facility": "SOAR"},
        "must include keys oid, facility, plantime",
    ),
    (
        "spectrum/planspectrum",
        {"oid": UNKNOWN, "facility": "SOAR", "plantime": "2030-01-01"},
        "Unknown object",
    ),
    (
        "spectrum/planspectrum",
        {"oid": str(ROOT_A), "facility": "SOAR", "plantime": "soon"},
        "Failed to parse",
    ),
    ("spectrum/removespectrumplan", {"oid": str(ROOT_A)}, "must include keys oid and facility"),
    (
        "spectrum/reportspectruminfo",
        {"oid": str(ROOT_A), "facility": "X", "mjd": 1, "classid": 1},
        "must include keys oid, facility, mjd, z, and classid",
    ),
    (
        "spectrum/reportspectruminfo",
        {"oid": "x", "facility": "X", "mjd": 1, "z": 0, "classid": 1},
        "oid must be a root object id",
    ),
    (
        "spectrum/reportspectruminfo",
        {"oid": str(ROOT_A), "facility": "X", "mjd": 1, "z": 0, "classid": 2**40},
        "classid is out of range",
    ),
    ("spectrum/getknownspectruminfo", {"oid": 5}, "oid must be a root object id"),
    ("spectrum/getknownspectruminfo", {"since": "never"}, "Failed to parse"),
    ("spectrum/getknownspectruminfo", [], "Post data must be a JSON dict"),
]


def test_bad_input_is_422_and_writes_nothing(api):
    from desctom.live.models import PlannedSpectra, SpectrumInfo, WantedSpectra

    for url, body, text in BAD:
        res = api(url, body)
        assert res.status_code == 422 and text in res.text, (url, body, res.status_code, res.text)
    assert not WantedSpectra.objects.exists() and not PlannedSpectra.objects.exists()
    assert not SpectrumInfo.objects.exists()
