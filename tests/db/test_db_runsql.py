"""POST /db/runsqlquery/ and GET /db/schema/: request shapes, error texts, values, permissions."""

from __future__ import annotations

import pytest
from sqlhelpers import post, run_sql

from desctom.db.workers.roles import LIVE_TABLES

URL = "/db/runsqlquery/"


def test_single_query_answers_rows_as_dicts(api):
    res = run_sql(api, "SELECT id, name FROM elasticc2_sqltest ORDER BY id")
    assert res == {"status": "ok", "rows": [
        {"id": 1, "name": "SN Ia"}, {"id": 2, "name": "AGN"}, {"id": 3, "name": ""},
        {"id": 4, "name": 'with "quotes", commas'}]}


def test_values_are_json_safe(api):
    rows = run_sql(api, "SELECT * FROM elasticc2_sqltest ORDER BY id")["rows"]
    first, second = rows[0], rows[1]
    assert first["seen"] == "2024-03-28T17:05:01.123Z" and first["day"] == "2024-03-28"
    assert first["classid"] == [111, 112] and first["probability"] == [0.75, 0.25]
    assert first["blob"] == "AP8=" and first["extra"] == {"a": 1} and first["amount"] == "1.25"
    assert second["mag"] is None and second["flux"] is None and second["classid"] == []
    assert rows[2]["flux"] is None  # -Infinity
    assert run_sql(api, "SELECT ARRAY['NaN'::float8, 1.5] AS a")["rows"] == [{"a": [None, 1.5]}]


def test_parameter_substitution_and_lists_become_tuples(api):
    res = run_sql(api, "SELECT id FROM elasticc2_sqltest WHERE name = %(name)s", {"name": "AGN"})
    assert res["rows"] == [{"id": 2}]
    res = run_sql(api, "SELECT id FROM elasticc2_sqltest WHERE id IN %(ids)s ORDER BY id", {"ids": [1, 3]})
    assert res["rows"] == [{"id": 1}, {"id": 3}]
    bobby = "Robert'); DROP TABLE elasticc2_sqltest; --"
    assert run_sql(api, "SELECT %(n)s AS n", {"n": bobby})["rows"] == [{"n": bobby}]


def test_percent_signs_without_subdict_are_literal(api):
    res = run_sql(api, "SELECT count(*) AS n FROM elasticc2_sqltest WHERE name LIKE 'S%'")
    assert res["rows"] == [{"n": 1}]


def test_list_of_queries_with_temp_tables(api):
    res = run_sql(api, ["CREATE TEMP TABLE t AS SELECT id FROM elasticc2_sqltest WHERE id > %(low)s",
                        "INSERT INTO t VALUES (%(extra)s)",
                        "SELECT id FROM t ORDER BY id"], [{"low": 2}, {"extra": 99}, {}])
    assert res == {"status": "ok", "rows": [{"id": 3}, {"id": 4}, {"id": 99}]}
    # Nothing persists: the temporary table is gone for the next request.
    again = run_sql(api, "SELECT * FROM t")
    assert again["status"] == "error" and 'relation "t" does not exist' in again["error"]


def test_one_subdict_for_one_query_in_a_list(api):
    assert run_sql(api, ["SELECT %(x)s AS x"], [{"x": 5}])["rows"] == [{"x": 5}]


def test_empty_result_and_statement_without_rows(api):
    assert run_sql(api, "SELECT id FROM elasticc2_sqltest WHERE false")["rows"] == []
    res = run_sql(api, "CREATE TEMP TABLE x (a int)")
    assert res == {"status": "error", "error": "no results to fetch"}


@pytest.mark.parametrize(("body", "text"), [
    ({}, "POST data must include 'query'"),
    ({"subdict": {}}, "POST data must include 'query'"),
    ({"query": 5}, "query must be either a list of strings or a string"),
    ({"query": {"a": 1}}, "query must be either a list of strings or a string"),
    ({"query": ["SELECT 1", 2]}, "queries must all be strings"),
    ({"query": "SELECT 1", "subdict": "x"}, "subdict must be either a list of dicts or a dict"),
    ({"query": ["SELECT 1"], "subdict": [5]}, "subdicts must all be dicts"),
    ({"query": ["SELECT 1", "SELECT 2"], "subdict": [{}]}, "number of queries and subdicts must match"),
    ({"query": "SELECT 1", "subdict": [{}, {}]}, "number of queries and subdicts must match"),
    ({"query": ["SELECT 1"], "subdict": {}}, None),
    ({"query": []}, "query must not be an empty list"),
    ([1, 2], "POST data must be a JSON object"),
])
def test_request_shape_errors(api, body, text):
    res = post(api, URL, body)
    assert res.status_code == 200
    if text is None:
        assert res.json() == {"status": "ok", "rows": [{"?column?": 1}]}
    else:
        assert res.json() == {"status": "error", "error": text}


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b""])
def test_unparseable_bodies_are_errors_not_500(api, body):
    res = post(api, URL, body)
    assert res.status_code == 200 and res.json()["status"] == "error"


def test_sql_errors_keep_postgresql_text(api):
    res = run_sql(api, "SELECT * FROM nonexistent_table WHERE name=%(name)s", {"name": "Bobby Tables"})
    assert res["status"] == "error" and res["error"].startswith('relation "nonexistent_table" does not exist')
    res = run_sql(api, "SELEKT 1")
    assert res["status"] == "error" and "syntax error" in res["error"]
    res = run_sql(api, "SELECT %(missing)s", {"other": 1})
    assert res["status"] == "error" and "query parameter missing: missing" in res["error"]


def test_row_cap_tells_the_user_to_use_the_queue(api, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_MAX_ROWS", "3")
    assert len(run_sql(api, "SELECT id FROM elasticc2_sqltest LIMIT 3")["rows"]) == 3
    res = run_sql(api, "SELECT id FROM elasticc2_sqltest")
    assert res["status"] == "error"
    assert "more than 3 rows" in res["error"] and "db/submitsqlquery/" in res["error"]


def test_statement_timeout(api, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_TIMEOUT", "1")
    res = run_sql(api, "SELECT pg_sleep(30)")
    assert res["status"] == "error"
    assert "statement timeout" in res["error"] and "db/submitsqlquery/" in res["error"]


def test_lifting_the_timeout_is_refused_before_the_next_statement(api, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_TIMEOUT", "1")
    monkeypatch.setattr("desctom.db.queries.sqlexec.CANCEL_GRACE", 1)
    res = run_sql(api, ["SET statement_timeout = 0", "SELECT pg_sleep(60)"], [{}, {}])
    assert res["status"] == "error" and "raising statement_timeout is not allowed" in res["error"]


def test_anonymous_callers_get_401(client, science_tables):
    for url in (URL, "/db/submitsqlquery/", "/db/listsqlqueries/", "/db/checksqlquery/x/",
                "/db/getsqlqueryresults/x/", "/db/schema/"):
        res = post(client, url, {"query": "SELECT 1"})
        assert res.status_code == 401, url
        assert res.json() == {"error": "Authentication credentials were not provided."}


def test_get_is_405(api):
    res = api.get(URL)
    assert res.status_code == 405 and res.json()["error"].startswith("Method GET not allowed")


def test_token_authentication_works_without_csrf(client, user, science_tables):
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    res = client.post(URL, '{"query": "SELECT 2 AS two"}', content_type="application/json",
                      HTTP_AUTHORIZATION=f"Token {token.key}")
    assert res.json() == {"status": "ok", "rows": [{"two": 2}]}


def test_session_post_without_csrf_token_is_403(science_tables, user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    res = strict.post(URL, '{"query": "SELECT 1"}', content_type="application/json")
    assert res.status_code == 403 and "CSRF" in res.json()["error"]


def test_schema_lists_readable_tables_with_keys(api):
    res = api.get("/db/schema/")
    assert res.status_code == 200
    body = res.json()
    assert body["status"] == "ok"
    tables = body["tables"]
    assert all(name.startswith(("elasticc2_", "elasticc_")) or name in LIVE_TABLES for name in tables)
    assert set(LIVE_TABLES) <= set(tables)  # the live survey's, under FASTDB's names
    sample = tables["elasticc2_sqltest"]
    assert sample["primary_key"] == ["id"]
    assert {"name": "classid", "type": "smallint[]", "nullable": True, "comment": None} in sample["columns"]
    child = tables["elasticc2_sqltestchild"]
    assert child["foreign_keys"][0]["columns"] == ["parent_id"]
    assert child["foreign_keys"][0]["references"] == {"table": "elasticc2_sqltest", "columns": ["id"]}
    for secret in ("auth_user", "django_session", "authtoken_token", "db_queryqueue", "django_admin_log",
                   "live_fastdb_userkey", "live_streamschema"):
        assert secret not in tables
    assert post(api, "/db/schema/").json()["tables"] == tables


def test_the_live_tables_are_read_by_name_and_the_login_keys_are_not(api):
    assert run_sql(api, "SELECT count(*) AS n FROM root_diaobject JOIN diaobject ON rootid = id") == \
        {"status": "ok", "rows": [{"n": 0}]}
    res = run_sql(api, "SELECT * FROM live_fastdb_userkey")
    assert res["status"] == "error" and "permission denied for table live_fastdb_userkey" in res["error"]


def test_unavailable_role_is_a_clear_error(api, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_PASSWORD", "wrong-password")
    res = run_sql(api, "SELECT 1")
    assert res["status"] == "error"
    assert res["error"].startswith("the SQL interface is not available (cannot connect as desctom_ro)")
    assert "wrong-password" not in res["error"]


@pytest.mark.django_db(transaction=True)
def test_a_post_without_the_trailing_slash_is_served_not_redirected(live_server, user, science_tables):
    """Issue 19: the 301 of APPEND_SLASH turned the client's POST into ``405 Method GET not allowed``."""
    import requests

    from desctom.client import TomClient

    tom = TomClient(live_server.url, username=user.username, password="sql-test-password-1")
    res = tom.post("db/runsqlquery", json={"query": "SELECT id FROM elasticc2_sqltest ORDER BY id"})
    assert res.status_code == 200, res.text
    assert [row["id"] for row in res.json()["rows"]] == [1, 2, 3, 4] and not res.history
    # a GET of a page without its slash is still redirected once, as browsers expect
    page = requests.get(f"{live_server.url}/elasticc2/objects", allow_redirects=False, timeout=30)
    assert page.status_code == 301 and page.headers["Location"].endswith("/elasticc2/objects/")
