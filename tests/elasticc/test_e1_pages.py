"""ELAsTiCC 1 pages (front, summary, admin summary) and the taxonomy, checked against the shared CSVs."""

from __future__ import annotations

import csv

import pytest
from django.db import connection
from e1_helpers import PASSWORD, make_user

from desctom.elasticc.loaders.brokermessages import load_messages
from desctom.elasticc.models import ClassIdOfGentype, GentypeOfClassId
from desctom.elasticc.models import taxonomy_tree as taxonomy
from desctom.testing.paths import SHARED_DATA

TAXONOMY = SHARED_DATA / "taxonomy"


def scalar(query: str) -> int:
    with connection.cursor() as cur:
        cur.execute(query)
        return cur.fetchone()[0]


@pytest.mark.django_db
def test_taxonomy_tables_equal_the_shared_csvs():
    with open(TAXONOMY / "elasticc_classification_map.csv") as fh:
        expected = sorted(
            (int(r["classId"]), int(r["snana_gentype"]) if r["snana_gentype"] else None, r["description"])
            for r in csv.DictReader(fh)
        )
    got = sorted(
        GentypeOfClassId.objects.values_list("classId", "gentype", "description"),
        key=lambda r: (r[0], r[1] if r[1] is not None else -1),
    )
    assert got == sorted(expected, key=lambda r: (r[0], r[1] if r[1] is not None else -1)) and len(got) == 47
    with open(TAXONOMY / "elasticc_classid_of_gentype.csv") as fh:
        expected = sorted(
            (
                int(r["classId"]),
                int(r["gentype"]),
                r["description"],
                r["exactmatch"] == "True",
                r["categorymatch"] == "True",
            )
            for r in csv.DictReader(fh)
        )
    got = sorted(
        ClassIdOfGentype.objects.values_list(
            "classId", "gentype", "description", "exactmatch", "categorymatch"
        )
    )
    assert got == expected and len(got) == 93
    assert taxonomy.exact_classid(84) == 123 and taxonomy.exact_classid(999) is None


@pytest.mark.django_db
def test_page_permissions(client):
    for url in ("/elasticc/", "/elasticc/summary", "/elasticc/adminsummary"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    client.force_login(make_user("reader"))
    assert client.get("/elasticc/").status_code == 200
    assert client.post("/elasticc/summary").status_code == 200
    resp = client.get("/elasticc/adminsummary")  # a non-admin: 403, which this site turns into the login page
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    assert b"adminsummary" not in client.get("/elasticc/").content
    client.force_login(make_user("boss", group="elasticc_admin"))
    resp = client.get("/elasticc/adminsummary")
    assert resp.status_code == 200 and b"elasticc_brokerclassification" in resp.content


@pytest.mark.browser
def test_summary_pages_in_chromium_show_the_sql_counts(live_server, browser, transactional_db, snana_dirs):
    from desctom.elasticc.loaders.snana import load_directories
    from desctom.loaders.snana.rows import LoadOptions

    assert load_directories(snana_dirs, LoadOptions()).errors == []
    with connection.cursor() as cur:
        cur.execute(
            'UPDATE elasticc_diaalert SET "alertSentTimestamp" = now() WHERE "alertId" IN '
            '(SELECT "alertId" FROM elasticc_diaalert ORDER BY "alertId" LIMIT 17)'
        )
    msg = {
        "alertId": 1,
        "diaSourceId": 1,
        "elasticcPublishTimestamp": 0,
        "brokerIngestTimestamp": None,
        "brokerName": "B",
        "brokerVersion": "1",
        "classifications": [
            {"classifierName": n, "classifierParams": "", "classId": c, "probability": 0.5}
            for n in ("one", "two")
            for c in (111, 112, 113)[: 2 if n == "one" else 3]
        ],
    }
    load_messages([msg, {**msg, "alertId": 2}], topic="t")
    make_user("boss", group="elasticc_admin")
    page = browser.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/elasticc/summary")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}/elasticc/summary")
    expected = {
        "alerts-sent": scalar(
            'SELECT count(*) FROM elasticc_diaalert WHERE "alertSentTimestamp" IS NOT NULL'
        ),
        "alerts-unsent": scalar('SELECT count(*) FROM elasticc_diaalert WHERE "alertSentTimestamp" IS NULL'),
        "objects": scalar("SELECT count(*) FROM elasticc_diaobject"),
        "sources": scalar("SELECT count(*) FROM elasticc_diasource"),
        "forcedsources": scalar("SELECT count(*) FROM elasticc_diaforcedsource"),
        "brokermessages": scalar("SELECT count(*) FROM elasticc_brokermessage"),
    }
    assert expected["alerts-sent"] == 17 and expected["objects"] == 346
    for key, value in expected.items():
        assert page.inner_text(f"#count-{key}") == str(value)
    with connection.cursor() as cur:
        cur.execute(
            'SELECT "classifierId", count(*) FROM elasticc_brokerclassification GROUP BY 1 ORDER BY 1'
        )
        per_classifier = cur.fetchall()
    assert [n for _, n in per_classifier] == [4, 6]
    for cid, n in per_classifier:
        assert page.inner_text(f'tr[data-classifier="{cid}"] td.count') == str(n)
    page.goto(f"{live_server.url}/elasticc/adminsummary")
    assert page.inner_text('tr[data-table="elasticc_diaforcedsource"] td.count') == str(
        scalar("SELECT count(*) FROM elasticc_diaforcedsource")
    )
    with connection.cursor() as cur:
        cur.execute("SELECT gentype, count(*) FROM elasticc_diaobjecttruth GROUP BY 1")
        types = cur.fetchall()
    assert len(types) >= 3
    for gentype, n in types:
        assert page.inner_text(f'tr[data-gentype="{gentype}"] td.count') == str(n)
    page.close()
