"""What the schemathesis run found (each was a 500), fixed in the views: a 4xx or a proper answer now."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("regress", password="regress-password-1"))

    def post(url: str, body):
        return client.post(url, json.dumps(body), content_type="application/json")

    return post


SOURCE = {
    "diaSourceId": 11,
    "ccdVisitId": 5,
    "midPointTai": 60000.5,
    "filterName": "r",
    "ra": 10.0,
    "decl": -5.0,
    "psFlux": 1000.0,
    "psFluxErr": 10.0,
    "snr": 100.0,
}


def test_alert_source_without_its_nullable_columns_is_stored(api):
    from desctom.elasticc.models import DiaAlert, DiaSource

    res = api("/elasticc/addelasticcalert", {"alertId": 7, "diaSource": SOURCE})  # was KeyError 'diaObjectId'
    assert res.status_code == 200, res.content
    assert res.json()["message"] == {"objects": 0, "sources": 1, "forcedsources": 0, "alerts": 1}
    source = DiaSource.objects.get(pk=11)
    assert (source.diaObject_id, source.parentDiaSourceId, source.nobs) == (None, None, None)
    assert DiaAlert.objects.get(pk=7).diaSource_id == 11


def test_integers_too_large_for_integer_columns_are_refused(api):
    from desctom.elasticc.models import DiaObject, DiaObjectTruth, DiaTruth

    res = api(
        "/elasticc/addtruth", [{"SourceID": 1, "TRUE_GENTYPE": 10}, {"SourceID": 2, "TRUE_GENTYPE": 2**40}]
    )
    assert res.status_code == 400  # was a 500 (integer out of range)
    assert res.json()["error"] == (
        f"truth 1: TRUE_GENTYPE must be an integer from {-(2**31)} to {2**31 - 1}, not {2**40}"
    )
    assert DiaTruth.objects.count() == 0
    DiaObject.objects.create(diaObjectId=3, ra=1.0, decl=2.0)
    row = {
        "diaObjectId": 3,
        "libid": 2**31,
        "sim_searcheff_mask": 1,
        "gentype": 10,
        "sim_template_index": 1,
        "zcmb": 0.1,
        "zhelio": 0.1,
        "zcmb_smear": 0.1,
        "ra": 1.0,
        "dec": 2.0,
        "mwebv": 0.0,
        "rv": 3.1,
        "av": 0.0,
        "mu": 40.0,
        "lensdmu": 0.0,
        "peakmjd": 60000.0,
        "mjd_detect_first": 60000.0,
        "mjd_detect_last": 60010.0,
        "dtseason_peak": 1.0,
        **{f"peakmag_{b}": 20.0 for b in "ugrizY"},
        "snrmax": 10.0,
        "snrmax2": 9.0,
        "snrmax3": 8.0,
        "nobs": 10,
        "nobs_saturate": 0,
    }
    res = api("/elasticc/addobjecttruth", row)
    assert res.status_code == 400 and "libid must be an integer from" in res.json()["error"]
    res = api("/elasticc/addobjecttruth", {**row, "libid": 2**31 - 1, "galid": 2**40})  # galid is a bigint
    assert res.status_code == 200, res.content
    assert DiaObjectTruth.objects.get(pk=3).galid == 2**40


def test_cone_search_with_tiny_numbers(api):
    res = api("/elasticc2/conesearch", {"ra": 1e-300, "dec": 8.46e-133, "radius_arcsec": 1e-300})
    assert res.status_code == 200 and res.json() == {"status": "ok", "objects": []}  # was a 500 (underflow)


def test_spectra_wanted_not_claimed_for_ages(api):
    res = api("/elasticc2/spectrawanted", {"not_claimed_in_last_days": 1e300})
    assert res.status_code == 200 and res.json() == {"status": "ok", "wantedspectra": []}  # was OverflowError


def test_sql_with_nul_characters_is_refused(api):
    from desctom.db.models import QueryQueue

    res = api("/db/submitsqlquery/", {"query": "SELECT 1 -- \x00"})
    assert res.json() == {"status": "error", "error": "queries must not contain NUL characters"}
    res = api("/db/submitsqlquery/", {"query": "SELECT %(a)s", "subdict": {"a": ["x\x00"]}})
    assert res.json() == {
        "status": "error",
        "error": "subdict keys and values must not contain NUL characters",
    }
    assert QueryQueue.objects.count() == 0  # both were 500s (PostgreSQL text and jsonb hold no NUL)
    res = api("/db/runsqlquery/", {"query": "SELECT '\x00'"})
    assert res.json() == {"status": "error", "error": "queries must not contain NUL characters"}
