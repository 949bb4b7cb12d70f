"""The ELAsTiCC 1 admin loaders: success shapes, 400s that write nothing, and the admin rule."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from e1_helpers import JsonClient, make_user

from desctom.elasticc.models import DiaAlert, DiaForcedSource, DiaObject, DiaObjectTruth, DiaSource, DiaTruth

pytestmark = pytest.mark.django_db
ENDPOINTS = ["adddiaobject", "addelasticcalert", "addtruth", "addobjecttruth", "markalertsent"]


def obj(oid=7, **extra):
    return {
        "diaObjectId": oid,
        "simVersion": "v0.9",
        "ra": 10.5,
        "decl": -3.25,
        "mwebv": 0.02,
        "hostgal_mag_Y": 21.5,
        "hostgal_zphot_p50": 0.3,
        **extra,
    }


def src(sid, oid=7, mjd=60000.0):
    return {
        "diaSourceId": sid,
        "ccdVisitId": sid,
        "diaObjectId": oid,
        "parentDiaSourceId": None,
        "midPointTai": mjd,
        "filterName": "r",
        "ra": 10.5,
        "decl": -3.25,
        "psFlux": 1000.0,
        "psFluxErr": 10.0,
        "snr": 100.0,
        "nobs": None,
    }


def forced(fid, oid=7, mjd=59990.0):
    return {
        "diaForcedSourceId": fid,
        "ccdVisitId": fid,
        "diaObjectId": oid,
        "midPointTai": mjd,
        "filterName": "g",
        "psFlux": 5.0,
        "psFluxErr": 10.0,
        "totFlux": None,
        "totFluxErr": None,
    }


def alert(sid, prv=(), prv_forced=(), oid=7):
    return {
        "alertId": sid,
        "diaSource": src(sid, oid),
        "prvDiaSources": [src(p, oid, 59999.0) for p in prv],
        "prvDiaForcedSources": [forced(f, oid) for f in prv_forced],
        "prvDiaNondetectionLimits": None,
        "diaObject": obj(oid),
        "cutoutDifference": None,
        "cutoutTemplate": None,
    }


def object_truth(oid=7):
    values = {
        "diaObjectId": oid,
        "libid": 1,
        "sim_searcheff_mask": 3,
        "gentype": 50,
        "sim_template_index": 2,
        "galnmatch": None,
        "galid": None,
        "nobs": 30,
        "nobs_saturate": 0,
    }
    for name in (
        "zcmb",
        "zhelio",
        "zcmb_smear",
        "ra",
        "dec",
        "mwebv",
        "rv",
        "av",
        "mu",
        "lensdmu",
        "peakmjd",
        "mjd_detect_first",
        "mjd_detect_last",
        "dtseason_peak",
        "peakmag_u",
        "peakmag_g",
        "peakmag_r",
        "peakmag_i",
        "peakmag_z",
        "peakmag_Y",
        "snrmax",
        "snrmax2",
        "snrmax3",
    ):
        values[name] = 1.5
    return values


def test_adddiaobject(admin_client):
    resp = admin_client.post("/elasticc/adddiaobject", obj())
    assert resp.status_code == 200 and resp.json() == {"status": "ok", "message": "ObjectID: 7"}
    stored = DiaObject.objects.get(pk=7)
    assert stored.hostgal_mag_Y == 21.5 and stored.hostgal_zphot_p50 == 0.3 and stored.hostgal_ra is None
    assert admin_client.post("/elasticc/adddiaobject", obj(ra=99.0)).status_code == 200
    assert DiaObject.objects.get(pk=7).ra == 10.5  # an existing object is left alone


def test_addelasticcalert_inserts_only_new_rows(admin_client):
    resp = admin_client.post(
        "/elasticc/addelasticcalert",
        [alert(701, prv=[700], prv_forced=[800, 801]), alert(702, prv=[700, 701], prv_forced=[800])],
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "status": "ok",
        "message": {"objects": 1, "sources": 3, "forcedsources": 2, "alerts": 2},
    }
    assert DiaAlert.objects.filter(alertSentTimestamp__isnull=True).count() == 2
    again = admin_client.post("/elasticc/addelasticcalert", alert(702)).json()
    assert again["message"] == {"objects": 0, "sources": 0, "forcedsources": 0, "alerts": 0}


def test_addtruth_and_addobjecttruth(admin_client):
    admin_client.post("/elasticc/addelasticcalert", alert(701))
    rows = [
        {"SourceID": 701, "SNID": 7, "MJD": 60000.0, "DETECT": True, "TRUE_GENTYPE": 50, "TRUE_GENMAG": 22.0},
        {
            "SourceID": 705,
            "SNID": 7,
            "MJD": 60001.0,
            "DETECT": False,
            "TRUE_GENTYPE": 50,
            "TRUE_GENMAG": 25.0,
        },
    ]
    resp = admin_client.post("/elasticc/addtruth", rows)
    assert resp.json() == {"status": "ok", "message": [701, 705], "missing": [705]}
    assert admin_client.post("/elasticc/addtruth", rows[0]).json()["message"] == []  # a dict works too
    assert DiaTruth.objects.get(pk=705).detect is False
    resp = admin_client.post("/elasticc/addobjecttruth", [object_truth()])
    assert (
        resp.json() == {"status": "ok", "message": [7]} and DiaObjectTruth.objects.get(pk=7).peakmag_Y == 1.5
    )


def test_markalertsent(admin_client):
    admin_client.post("/elasticc/addelasticcalert", [alert(701), alert(702)])
    resp = admin_client.post("/elasticc/markalertsent", [701])
    body = resp.json()
    assert resp.status_code == 200 and body["alertIds"] == [701] and body["timestamp"].endswith("Z")
    assert list(DiaAlert.objects.filter(alertSentTimestamp__isnull=False).values_list("pk", flat=True)) == [
        701
    ]
    assert admin_client.post("/elasticc/markalertsent", 702).json()["alertIds"] == [702]


@pytest.mark.parametrize(
    "url,data,text",
    [
        ("adddiaobject", {"ra": 1.0, "decl": 2.0}, "missing diaObjectId"),
        ("adddiaobject", {**obj(), "bogus": 1}, "unknown key 'bogus'"),
        ("adddiaobject", {**obj(), "ra": "east"}, "ra must be a finite number"),
        ("adddiaobject", [1], "must be a JSON object"),
        (
            "addelasticcalert",
            [alert(701), {**alert(702), "diaSource": {"diaSourceId": 702}}],
            "alert 1: diaSource",
        ),
        ("addelasticcalert", {**alert(701), "diaObject": None}, "unknown diaObjectId"),
        ("addelasticcalert", [], "no alerts given"),
        ("addtruth", [{"SourceID": "x", "SNID": 7}], "SourceID must be an integer"),
        ("addobjecttruth", [object_truth(oid=99)], "unknown diaObjectId(s) [99]"),
        ("markalertsent", [12345], "unknown alertId"),
        ("markalertsent", ["a"], "alertId must be an integer"),
    ],
)
def test_bad_input_is_4xx_and_writes_nothing(admin_client, url, data, text):
    resp = admin_client.post(f"/elasticc/{url}", data)
    assert 400 <= resp.status_code < 500 and text in resp.json()["error"]
    assert not any(m.objects.exists() for m in (DiaObject, DiaSource, DiaForcedSource, DiaAlert, DiaTruth))


def test_not_json_is_400(admin_client):
    resp = admin_client.client.post("/elasticc/adddiaobject", "{nope", content_type="application/json")
    assert resp.status_code == 400 and "not valid JSON" in resp.json()["error"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_admin_rule(url, user_client, anon_client, admin_client):
    assert anon_client.post(f"/elasticc/{url}", {}).status_code == 401
    resp = user_client.post(f"/elasticc/{url}", obj())
    assert resp.status_code == 403 and "not an ELAsTiCC admin" in resp.json()["error"]
    assert admin_client.get(f"/elasticc/{url}").status_code == 405
    assert not DiaObject.objects.exists()


def test_superuser_and_permission_holder_are_admins():
    for user in (make_user("root", superuser=True), make_user("permitted")):
        if not user.is_superuser:
            user.user_permissions.add(
                Permission.objects.get(codename="elasticc_admin", content_type__app_label="elasticc")
            )
        client = Client()
        client.force_login(user)
        resp = JsonClient(client).post("/elasticc/adddiaobject", obj(oid=user.pk + 100))
        assert resp.status_code == 200
