"""The read-only DRF REST views of the PPDB under ``/elasticc2/``."""

import pytest
from django.db import connection
from django.urls import Resolver404, resolve
from test_e2_api_data import OBJ_A, OBJ_B, OBJ_C, POSITIONS, make_user, token_header

from desctom.core.rest import estimated_rows
from desctom.elasticc2.http.api.rest import PPDBPagination
from desctom.elasticc2.models import PPDBDiaObject
from desctom.survey.columns import FORCED_COLUMNS, OBJECT_COLUMNS, SOURCE_COLUMNS

pytestmark = pytest.mark.django_db

#: JSON keys: the lower-case column names, with the foreign key under its relation name.
OBJECT_KEYS = set(OBJECT_COLUMNS)
SOURCE_KEYS = set(SOURCE_COLUMNS) - {"diaobject_id"} | {"diaobject"}
FORCED_KEYS = set(FORCED_COLUMNS) - {"diaobject_id"} | {"diaobject"}


def all_forced(sample):
    rows = (r for per_object in sample["forced"].values() for r in per_object)
    return sorted(rows, key=lambda r: r["diaforcedsource_id"])


def test_object_list_and_detail(api, sample):
    res = api.get("/elasticc2/ppdbdiaobject/")
    assert res.status_code == 200
    page = res.json()
    assert page["count"] == 4 and page["next"] is None and page["previous"] is None
    assert [o["diaobject_id"] for o in page["results"]] == sorted(POSITIONS)
    first = page["results"][0]
    assert set(first) == OBJECT_KEYS
    assert (first["ra"], first["decl"], first["simversion"]) == (*POSITIONS[OBJ_A], "test")
    assert first["hostgal_mag_u"] == 23.5 and first["hostgal_zspec"] is None and first["isddf"] is False
    detail = api.get(f"/elasticc2/ppdbdiaobject/{OBJ_A}/").json()
    assert detail == first


def test_source_list_and_detail(api, sample):
    sources = [s for rows in sample["sources"].values() for s in rows]
    sources.sort(key=lambda s: s["diasource_id"])
    page = api.get("/elasticc2/ppdbdiasource/").json()
    assert page["count"] == len(sources)
    assert [s["diasource_id"] for s in page["results"]] == [s["diasource_id"] for s in sources]
    assert set(page["results"][0]) == SOURCE_KEYS
    one = sources[-1]
    got = api.get(f"/elasticc2/ppdbdiasource/{one['diasource_id']}/").json()
    assert got == {**one, "diaobject": OBJ_B}


def test_forced_source_pagination(api, sample):
    rows = all_forced(sample)
    res = api.get("/elasticc2/ppdbdiaforcedsource/?limit=5&offset=10")
    page = res.json()
    assert page["count"] == len(rows) == 23
    assert [r["diaforcedsource_id"] for r in page["results"]] == [
        r["diaforcedsource_id"] for r in rows[10:15]]
    assert page["next"].endswith("/elasticc2/ppdbdiaforcedsource/?limit=5&offset=15")
    assert page["previous"].endswith("/elasticc2/ppdbdiaforcedsource/?limit=5&offset=5")
    assert set(page["results"][0]) == FORCED_KEYS
    assert page["results"][0] == {**rows[10], "diaobject": OBJ_A}
    last = api.get("/elasticc2/ppdbdiaforcedsource/?limit=5&offset=20").json()
    assert len(last["results"]) == 3 and last["next"] is None


def test_default_page_is_100_and_limit_is_capped(api, sample):
    PPDBDiaObject.objects.bulk_create(PPDBDiaObject(diaobject_id=5000 + i, ra=1.0, decl=1.0)
                                      for i in range(150))
    page = api.get("/elasticc2/ppdbdiaobject/").json()
    assert page["count"] == 154 and len(page["results"]) == 100
    assert "limit=100&offset=100" in page["next"]
    ids = [o["diaobject_id"] for o in page["results"]]
    assert ids == sorted(ids)  # primary-key order
    assert PPDBPagination.max_limit == 10000
    assert len(api.get("/elasticc2/ppdbdiaobject/?limit=1000000").json()["results"]) == 154


def test_count_of_a_huge_unfiltered_table_is_the_planner_estimate(api, sample):
    """Past ``estimate_count_above`` rows the count comes from pg_class, not from COUNT(*)."""
    with connection.cursor() as cur:
        cur.execute("ANALYZE elasticc2_ppdbdiaforcedsource")
        cur.execute("UPDATE pg_class SET reltuples = 987000000 "
                    "WHERE oid = 'elasticc2_ppdbdiaforcedsource'::regclass")
    assert estimated_rows("elasticc2_ppdbdiaforcedsource") == 987000000
    page = api.get("/elasticc2/ppdbdiaforcedsource/?limit=2").json()
    assert page["count"] == 987000000
    assert [r["diaforcedsource_id"] for r in page["results"]] == [OBJ_A * 100000, OBJ_A * 100000 + 1]
    assert page["next"] is not None
    # a small table still gets an exact count
    assert api.get("/elasticc2/ppdbdiaobject/").json()["count"] == 4


@pytest.mark.parametrize("url", ["/elasticc2/ppdbdiaobject/999/", "/elasticc2/ppdbdiasource/999/",
                                 "/elasticc2/ppdbdiaforcedsource/999/", "/elasticc2/ppdbdiaobject/abc/",
                                 "/elasticc2/ppdbdiaobject/99999999999999999999999/",
                                 "/elasticc2/ppdbdiaobjectwithsources/999/",
                                 "/elasticc2/ppdbdiaobjectofsource/999/",
                                 "/elasticc2/ppdbdiaobjectofsource/x/"])
def test_unknown_pk_is_404_not_found(api, sample, url):
    res = api.get(url)
    assert res.status_code == 404
    assert res.json() == {"detail": "Not found."}


def test_object_with_sources(api, sample):
    res = api.get(f"/elasticc2/ppdbdiaobjectwithsources/{OBJ_A}/")
    assert res.status_code == 200
    got = res.json()
    assert set(got) == OBJECT_KEYS | {"diasources", "diaforcedsources"}
    assert got["diaobject_id"] == OBJ_A
    assert got["diasources"] == [{**s, "diaobject": OBJ_A} for s in sample["sources"][OBJ_A]]
    assert got["diaforcedsources"] == [{**f, "diaobject": OBJ_A} for f in sample["forced"][OBJ_A]]
    empty = api.get(f"/elasticc2/ppdbdiaobjectwithsources/{OBJ_C}/").json()
    assert empty["diasources"] == [] and empty["diaforcedsources"] == []


def test_object_of_source_has_photometry_up_to_the_source(api, sample):
    source = sample["sources"][OBJ_A][2]
    got = api.get(f"/elasticc2/ppdbdiaobjectofsource/{source['diasource_id']}/").json()
    assert got["diaobject_id"] == OBJ_A and set(got) == OBJECT_KEYS | {"diasources", "diaforcedsources"}
    t = source["midpointtai"]
    assert [s["diasource_id"] for s in got["diasources"]] == [
        s["diasource_id"] for s in sample["sources"][OBJ_A] if s["midpointtai"] <= t]
    assert got["diasources"][-1]["diasource_id"] == source["diasource_id"]  # the source itself is included
    assert [f["diaforcedsource_id"] for f in got["diaforcedsources"]] == [
        f["diaforcedsource_id"] for f in sample["forced"][OBJ_A] if f["midpointtai"] <= t]


@pytest.mark.parametrize(("url", "text"), [("/elasticc2/ppdbdiaobjectwithsources/", "Must give an object id"),
                                           ("/elasticc2/ppdbdiaobjectofsource/", "Must give a source id")])
def test_list_forms_need_an_id(api, sample, url, text):
    res = api.get(url)
    assert res.status_code == 400
    assert res.json() == {"error": text}


@pytest.mark.parametrize("url", [f"/elasticc2/ppdbdiaobject/{OBJ_A}/", "/elasticc2/ppdbdiaobject/999/",
                                 "/elasticc2/ppdbdiaobjectwithsources/"])
def test_json_even_for_a_browser(api, sample, url):
    res = api.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert res["Content-Type"] == "application/json"
    res.json()


def test_json_format_suffix(api, sample):
    res = api.get(f"/elasticc2/ppdbdiaobject/{OBJ_B}.json")
    assert res.status_code == 200 and res.json()["diaobject_id"] == OBJ_B


def test_read_only(api, sample):
    res = api.post("/elasticc2/ppdbdiaobject/", {"diaobject_id": 7, "ra": 1, "decl": 2},
                   content_type="application/json")
    assert res.status_code == 405
    assert api.delete(f"/elasticc2/ppdbdiaobject/{OBJ_A}/").status_code == 405
    assert PPDBDiaObject.objects.count() == 4


def test_token_auth(client, sample):
    res = client.get("/elasticc2/ppdbdiasource/", **token_header(make_user("tokenuser")))
    assert res.status_code == 200 and res.json()["count"] == 9


def test_no_api_root_at_the_campaign_page():
    """``/elasticc2/`` is left to the HTML front page: the router has no API-root view."""
    try:
        match = resolve("/elasticc2/")
    except Resolver404:
        return
    assert match.url_name != "api-root"


@pytest.mark.parametrize("url", ["/elasticc2/ppdbdiaobject/", f"/elasticc2/ppdbdiaobject/{OBJ_A}/",
                                 "/elasticc2/ppdbdiasource/", "/elasticc2/ppdbdiaforcedsource/",
                                 f"/elasticc2/ppdbdiaobjectwithsources/{OBJ_A}/",
                                 "/elasticc2/ppdbdiaobjectwithsources/",
                                 f"/elasticc2/ppdbdiaobjectofsource/{OBJ_A * 100000 + 7}/"])
def test_anonymous_gets_401(client, sample, url):
    res = client.get(url)
    assert res.status_code == 401
    assert res.json() == {"detail": "Authentication credentials were not provided."}
