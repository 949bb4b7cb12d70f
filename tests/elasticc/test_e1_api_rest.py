"""The ELAsTiCC 1 REST lists and details, getalerts, getalertsandtruth, on the loaded shared data."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db
LISTS = {
    "diaobject": ("elasticc_diaobject", "diaObjectId"),
    "diasource": ("elasticc_diasource", "diaSourceId"),
    "diatruth": ("elasticc_diatruth", "diaSourceId"),
    "diaalert": ("elasticc_diaalert", "alertId"),
}


def sql(query: str, params=()):
    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def walk(client, url: str) -> list[dict]:
    """Follow ``next`` from ``url`` to the end; check the page shape on the way."""
    rows, pages = [], 0
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, resp.content
        page = resp.json()
        assert set(page) == {"count", "next", "previous", "results"}
        assert (page["previous"] is None) == (pages == 0)
        rows += page["results"]
        pages += 1
        url = page["next"]
    return rows


@pytest.mark.parametrize("name", LISTS)
def test_every_list_paginates_to_the_end(user_client, admin_client, loaded, name):
    table, key = LISTS[name]
    if name == "diatruth":  # truth: ELAsTiCC admins only
        user_client = admin_client
    first = user_client.get(f"/elasticc/{name}/").json()
    total = sql(f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608 - test constants
    assert first["count"] == total > 100 and len(first["results"]) == 100
    url = f"/elasticc/{name}/" if name not in ("diatruth",) else "/elasticc/diatruth/?limit=1000"
    rows = walk(user_client, url)
    ids = [r[key] for r in rows]
    assert len(ids) == total and ids == sorted(ids) and len(set(ids)) == total


def test_details_and_their_shapes(user_client, admin_client, loaded):
    ((oid, ra),) = sql('SELECT "diaObjectId", ra FROM elasticc_diaobject ORDER BY "diaObjectId" LIMIT 1')
    obj = user_client.get(f"/elasticc/diaobject/{oid}/").json()
    assert (
        obj["diaObjectId"] == oid
        and obj["ra"] == ra
        and "hostgal_mag_Y" in obj
        and "hostgal_zphot_p50" in obj
    )
    ((sid, mjd),) = sql(
        'SELECT "diaSourceId", "midPointTai" FROM elasticc_diasource '
        'WHERE "diaObjectId" = %s ORDER BY "midPointTai" DESC LIMIT 1',
        [oid],
    )
    src = user_client.get(f"/elasticc/diasource/{sid}/").json()
    assert src["diaObject"] == oid and src["midPointTai"] == mjd and src["nobs"] is None
    assert user_client.get(f"/elasticc/diatruth/{sid}/").status_code == 403  # truth: admins only
    truth = admin_client.get(f"/elasticc/diatruth/{sid}/").json()
    assert truth["diaSourceId"] == sid and truth["detect"] is True and truth["diaObjectId"] == oid
    alert = user_client.get(f"/elasticc/diaalert/{sid}/").json()
    assert set(alert) == {
        "alertId",
        "diaSource",
        "prvDiaSources",
        "prvDiaForcedSources",
        "prvDiaNondetectionLimits",
        "diaObject",
        "cutoutDifference",
        "cutoutTemplate",
    }
    assert alert["diaSource"]["diaSourceId"] == sid and alert["diaObject"]["diaObjectId"] == oid
    earlier = sql(
        'SELECT "diaSourceId" FROM elasticc_diasource WHERE "diaObjectId" = %s AND "midPointTai" < %s '
        'ORDER BY "midPointTai"',
        [oid, mjd],
    )
    assert [s["diaSourceId"] for s in alert["prvDiaSources"]] == [r[0] for r in earlier]


@pytest.mark.parametrize(
    "url",
    [
        "/elasticc/diaobject/1/",
        "/elasticc/diasource/abc/",
        "/elasticc/diatruth/-5/",
        "/elasticc/diaalert/99999999999999999999999/",
    ],
)
def test_unknown_or_malformed_ids_are_404(admin_client, url):
    resp = admin_client.get(url)
    assert resp.status_code == 404 and resp.json() == {"detail": "Not found."}


@pytest.mark.parametrize("name", LISTS)
def test_lists_need_a_login(anon_client, name):
    resp = anon_client.get(f"/elasticc/{name}/")
    assert resp.status_code == 401 and "credentials" in resp.json()["detail"]


def test_getalerts_pages_with_offset_and_num(user_client, loaded):
    ids = [r[0] for r in sql('SELECT "alertId" FROM elasticc_diaalert ORDER BY "alertId"')]
    resp = user_client.post("/elasticc/getalerts", {"offset": 5, "num": 7})
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "ok" and body["totnum"] == len(ids)
    assert (body["offset"], body["num"]) == (5, 7)
    assert [a["alertId"] for a in body["alerts"]] == ids[5:12]
    default = user_client.post("/elasticc/getalerts").json()
    assert len(default["alerts"]) == 100 and default["offset"] == 0
    # forced photometry only once an alert is > 0.5 d after the object's first detection
    for alert in default["alerts"]:
        t = alert["diaSource"]["midPointTai"]
        first = min([s["midPointTai"] for s in alert["prvDiaSources"]] + [t])
        assert bool(alert["prvDiaForcedSources"]) <= (t - first > 0.5)
        assert all(first - 30 <= f["midPointTai"] < t for f in alert["prvDiaForcedSources"])


def test_getalertsandtruth_adds_truth(user_client, admin_client, loaded):
    resp = user_client.post("/elasticc/getalertsandtruth", {"offset": 0, "num": 3})
    assert resp.status_code == 403 and "ELAsTiCC admins" in resp.json()["error"]  # truth: admins only
    body = admin_client.post("/elasticc/getalertsandtruth", {"offset": 0, "num": 3}).json()
    assert len(body["alerts"]) == 3
    for alert in body["alerts"]:
        sid, oid = alert["diaSource"]["diaSourceId"], alert["diaObject"]["diaObjectId"]
        assert body["truth"][str(sid)]["detect"] is True
        assert body["objecttruth"][str(oid)]["gentype"] == body["truth"][str(sid)]["gentype"]


@pytest.mark.parametrize(
    "data,text",
    [
        ({"offset": -1}, "offset must be"),
        ({"num": "x"}, "num must be"),
        ({"num": 5000}, "num must be"),
        ({"foo": 1}, "Unknown parameters"),
        ([1, 2], "JSON object"),
    ],
)
def test_getalerts_bad_input_is_400(user_client, data, text):
    resp = user_client.post("/elasticc/getalerts", data)
    assert resp.status_code == 400 and text in resp.json()["error"]


def test_getalerts_needs_a_login(anon_client):
    assert anon_client.post("/elasticc/getalerts", {}).status_code == 401
    assert anon_client.post("/elasticc/getalertsandtruth", {}).status_code == 401
