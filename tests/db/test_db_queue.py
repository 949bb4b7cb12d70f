"""The long-query queue: submit, check, runner, results in every format, listing, permissions, prune."""

from __future__ import annotations

import datetime
import io
import threading
import uuid

import pandas as pd
import pytest
from conftest import PASSWORD, owner_connection
from django.core.management import CommandError, call_command
from django.utils import timezone
from sqlhelpers import post

from desctom.core import config
from desctom.db.models import QueryQueue
from desctom.db.workers.long_query_runner import ABANDONED, Runner, result_path

pytestmark = pytest.mark.django_db(transaction=True)

SIMPLE = "SELECT id, name, flag, mag, flux, seen, day FROM elasticc2_sqltest WHERE id >= %(low)s ORDER BY id"
ARRAYS = "SELECT id, amount, classid, probability, extra FROM elasticc2_sqltest ORDER BY id"


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def make_user(name, **extra):
    from django.contrib.auth.models import User

    return User.objects.create_user(name, password=PASSWORD, **extra)


@pytest.fixture
def alice(client, science_tables, results_dir):
    client.force_login(make_user("alice"))
    return client


@pytest.fixture
def bob(science_tables):
    from django.test import Client

    bob = Client()
    bob.force_login(make_user("bob"))
    return bob


@pytest.fixture
def boss(science_tables):
    from django.test import Client

    boss = Client()
    boss.force_login(make_user("boss", is_staff=True))
    return boss


def submit(client, query, subdict=None, fmt=None) -> str:
    data = {"query": query}
    if subdict is not None:
        data["subdict"] = subdict
    if fmt is not None:
        data["format"] = fmt
    res = post(client, "/db/submitsqlquery/", data).json()
    assert res["status"] == "ok", res
    uuid.UUID(res["queryid"])
    return res["queryid"]


def check(client, queryid) -> dict:
    res = post(client, f"/db/checksqlquery/{queryid}/")
    assert res.status_code == 200
    return res.json()


def run_once() -> str | None:
    runner = Runner()
    try:
        job = runner.run_once()
        return job.queryid if job else None
    finally:
        runner.close()


def direct(query: str, params=None) -> pd.DataFrame:
    with owner_connection() as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


def read_back(content: bytes, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(content), keep_default_na=False, na_values=[""])
        if "seen" in frame:
            frame["seen"] = pd.to_datetime(frame["seen"], utc=True)
        return frame
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(content))
    return pd.read_pickle(io.BytesIO(content))


@pytest.mark.parametrize(("fmt", "ctype"), [("csv", "text/csv; charset=utf-8"),
                                             ("pandas", "application/octet-stream"),
                                             ("parquet", "application/vnd.apache.parquet")])
def test_submit_check_run_fetch_equals_a_direct_query(alice, fmt, ctype):
    queryid = submit(alice, SIMPLE, {"low": 1}, fmt)
    state = check(alice, queryid)
    assert state["status"] == "queued" and state["queries"] == [SIMPLE] and state["subdicts"] == [{"low": 1}]
    assert state["format"] == fmt and datetime.datetime.fromisoformat(state["submitted"])
    assert "started" not in state and "finished" not in state
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    assert (res.status_code, res.content.decode()) == (409, f"Query {queryid} hasn't started yet")

    assert run_once() == queryid
    state = check(alice, queryid)
    assert state["status"] == "finished" and state["started"] <= state["finished"]
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    assert res.status_code == 200 and res["Content-Type"] == ctype
    got = read_back(b"".join(res.streaming_content), fmt)
    want = direct(SIMPLE, {"low": 1})
    assert list(got.columns) == list(want.columns)  # csv: no index column
    want["seen"] = pd.to_datetime(want["seen"], utc=True)
    want["day"] = want["day"].astype(str).replace("None", None)
    got["day"] = got["day"].astype(str).replace({"NaT": None, "None": None, "nan": None})
    if fmt == "csv":  # CSV cannot tell an empty string from a missing value
        got["name"] = got["name"].fillna("")
    assert records(got) == records(want)


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, every missing value (None, NaN, NaT) as None, timestamps in UTC."""
    frame = frame.astype({"seen": "datetime64[us, UTC]", "mag": "float64", "flux": "float64"})
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.mark.parametrize("fmt", ["pandas", "parquet", "csv"])
def test_arrays_json_and_numeric_go_through_the_general_path(alice, fmt):
    queryid = submit(alice, ARRAYS, fmt=fmt)
    run_once()
    assert check(alice, queryid)["status"] == "finished"
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    got = read_back(b"".join(res.streaming_content), fmt)
    assert list(got["id"]) == [1, 2, 3, 4]
    assert list(got["amount"].fillna(-99)) == [1.25, -99, -3.0, 0.0]
    if fmt == "csv":
        assert list(got["classid"].fillna("")) == ["[111, 112]", "[]", "[2222]", ""]
    else:
        assert [None if v is None else list(v) for v in got["classid"]] == [[111, 112], [], [2222], None]
        assert got["extra"][0] == '{"a": 1}'


def test_list_of_queries_with_temp_table_in_the_queue(alice):
    pick = "CREATE TEMP TABLE picked AS SELECT id FROM elasticc2_sqltest WHERE id IN %(ids)s"
    queryid = submit(alice, [pick, "SELECT id FROM picked ORDER BY id"], [{"ids": [2, 4]}, {}], "parquet")
    run_once()
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    assert list(pd.read_parquet(io.BytesIO(b"".join(res.streaming_content)))["id"]) == [2, 4]


def test_empty_result_is_a_file_with_columns(alice):
    queryid = submit(alice, "SELECT id, name FROM elasticc2_sqltest WHERE false", fmt="parquet")
    run_once()
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    frame = pd.read_parquet(io.BytesIO(b"".join(res.streaming_content)))
    assert list(frame.columns) == ["id", "name"] and len(frame) == 0


def test_errors_are_recorded_and_reported(alice):
    queryid = submit(alice, "SELECT * FROM auth_user")
    run_once()
    state = check(alice, queryid)
    assert state["status"] == "error" and state["error"].startswith("permission denied for table auth_user")
    assert "started" in state and "finished" in state
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    assert res.status_code == 409
    assert res.content.decode().startswith("Query errored out: permission denied for table auth_user")
    noresult = submit(alice, "CREATE TEMP TABLE x (a int)")
    run_once()
    assert check(alice, noresult)["error"] == "no results to fetch"


def test_not_finished_unknown_and_gone(alice):
    queryid = submit(alice, SIMPLE, {"low": 1})
    QueryQueue.objects.filter(queryid=queryid).update(started=timezone.now())
    assert check(alice, queryid)["status"] == "started"
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    assert (res.status_code, res.content.decode()) == (409, f"Query {queryid} hasn't finished yet")
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        assert check(alice, bad) == {"status": "error", "error": f"Unknown query {bad}"}
        res = post(alice, f"/db/getsqlqueryresults/{bad}/")
        assert (res.status_code, res.content.decode()) == (404, f"Unknown query {bad}")
    QueryQueue.objects.filter(queryid=queryid).update(finished=timezone.now())
    res = post(alice, f"/db/getsqlqueryresults/{queryid}/")
    assert res.status_code == 410 and "gone" in res.content.decode()


@pytest.mark.parametrize(("body", "text"), [
    ({"query": "SELECT 1", "format": "numpy"}, "Unknown format numpy"),
    ({"query": "SELECT 1", "format": 5}, "Unknown format 5"),
    ({"query": ["SELECT 1", "SELECT 2"], "subdict": {}}, "number of queries and subdicts must match"),
    ({}, "POST data must include 'query'"),
])
def test_submit_errors(alice, body, text):
    assert post(alice, "/db/submitsqlquery/", body).json() == {"status": "error", "error": text}
    assert not QueryQueue.objects.exists()


def test_users_see_only_their_own_queries_admins_all(alice, bob, boss):
    mine = submit(alice, "SELECT 1 AS one")
    run_once()
    assert check(bob, mine) == {"status": "error", "error": f"Unknown query {mine}"}
    res = post(bob, f"/db/getsqlqueryresults/{mine}/")
    assert (res.status_code, res.content.decode()) == (404, f"Unknown query {mine}")
    assert check(boss, mine)["status"] == "finished"
    assert post(boss, f"/db/getsqlqueryresults/{mine}/").status_code == 200

    theirs = submit(bob, "SELECT 2 AS two")
    listed = post(alice, "/db/listsqlqueries/").json()
    assert listed["status"] == "ok" and [q["queryid"] for q in listed["queries"]] == [mine]
    assert listed["queries"][0]["status"] == "finished" and listed["queries"][0]["owner"] == "alice"
    assert post(bob, "/db/listsqlqueries/", {"all": True}).json() == {
        "status": "error", "error": "only admins may list everyone's queries"}
    everyone = post(boss, "/db/listsqlqueries/", {"all": True}).json()["queries"]
    assert {q["queryid"] for q in everyone} == {mine, theirs}
    assert post(boss, "/db/listsqlqueries/").json()["queries"] == []
    assert post(alice, "/db/listsqlqueries/", {"all": "yes"}).json()["status"] == "error"


def test_queue_endpoints_are_post_only(alice):
    assert alice.get("/db/submitsqlquery/").status_code == 405
    assert alice.get(f"/db/checksqlquery/{uuid.uuid4()}/").status_code == 405


def test_two_runners_in_parallel_never_run_the_same_query(alice):
    ids = {submit(alice, "SELECT pg_sleep(0.2), %(i)s AS i", {"i": i}) for i in range(8)}
    ran: list[list[str]] = [[], []]

    def work(mine: list[str]):
        runner = Runner()
        try:
            while (job := runner.run_once()) is not None:
                mine.append(job.queryid)
        finally:
            runner.close()

    threads = [threading.Thread(target=work, args=(ran[i],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    everything = ran[0] + ran[1]
    assert sorted(everything) == sorted(ids) and len(set(everything)) == len(everything)
    assert ran[0] and ran[1]  # both runners did work
    assert all(check(alice, q)["status"] == "finished" for q in ids)


def test_abandoned_query_is_marked_errored(alice):
    queryid = submit(alice, "SELECT 1")
    QueryQueue.objects.filter(queryid=queryid).update(started=timezone.now())
    assert run_once() is None
    state = check(alice, queryid)
    assert state["status"] == "error" and state["error"] == ABANDONED


def test_interrupted_query_goes_back_to_the_queue(alice, monkeypatch):
    queryid = submit(alice, "SELECT 1 AS one", fmt="parquet")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("desctom.db.workers.long_query_runner.export_last", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_once()
    assert check(alice, queryid)["status"] == "queued"
    folder = config.load().sql_results_dir
    assert not any(folder.iterdir()) if folder.exists() else True
    monkeypatch.undo()
    monkeypatch.setenv("DESCTOM_SQL_RESULTS_DIR", str(folder))
    assert run_once() == queryid and check(alice, queryid)["status"] == "finished"


def test_prune_removes_old_finished_rows_and_files(alice):
    old, recent, waiting = (submit(alice, "SELECT 1 AS one") for _ in range(3))
    QueryQueue.objects.filter(queryid=waiting).update(submitted=timezone.now() - datetime.timedelta(days=30))
    run_once()  # runs `waiting` (the oldest)
    run_once()
    run_once()
    waiting_row = QueryQueue.objects.get(queryid=waiting)
    QueryQueue.objects.filter(queryid=waiting).update(started=None, finished=None)
    QueryQueue.objects.filter(queryid=old).update(finished=timezone.now() - datetime.timedelta(days=5))
    cfg = config.load()
    assert result_path(cfg, old).exists() and result_path(cfg, recent).exists()
    call_command("long_query_runner", "--prune", "4")
    assert set(QueryQueue.objects.values_list("queryid", flat=True)) == {waiting_row.queryid,
                                                                         uuid.UUID(recent)}
    assert not result_path(cfg, old).exists() and result_path(cfg, recent).exists()


def test_cli_once_and_arguments(alice, capsys):
    call_command("long_query_runner", "--once")
    assert "no queued query" in capsys.readouterr().out
    queryid = submit(alice, "SELECT 1 AS one")
    call_command("long_query_runner", "-o")
    assert f"ran query {queryid}" in capsys.readouterr().out
    with pytest.raises(CommandError, match="give --once, --loop"):
        call_command("long_query_runner")
    with pytest.raises(CommandError, match="must not be negative"):
        call_command("long_query_runner", "--prune", "-1")


@pytest.mark.parametrize("query", [
    "SELECT 1) TO STDOUT; ROLLBACK; ALTER ROLE desctom_ro PASSWORD 'pwned'; COPY (SELECT 1",
    "SELECT 1 AS a --",
    "EXPLAIN SELECT * FROM elasticc2_sqltest",
    "SELECT 1) TO PROGRAM 'touch /tmp/desctom-pwned' --",
])
def test_runner_copy_wrapping_cannot_be_escaped(alice, query):
    queryid = submit(alice, query, fmt="parquet")
    run_once()
    state = check(alice, queryid)
    if query.startswith(("SELECT 1 AS", "EXPLAIN")):  # harmless: answered through COPY or the general path
        assert state["status"] == "finished"
    else:
        assert state["status"] == "error"
        assert "multiple commands" in state["error"] or "syntax error" in state["error"]
    again = submit(alice, "SELECT 2 AS two", fmt="csv")  # the role still logs in: its password is unchanged
    run_once()
    assert post(alice, f"/db/getsqlqueryresults/{again}/").status_code == 200


def test_repeated_column_names_kept_in_pandas_refused_in_parquet(alice):
    query = "SELECT id, id, name FROM elasticc2_sqltest WHERE id < 3 ORDER BY id"
    pickled = submit(alice, ARRAYS.replace("extra", "id"), fmt="pandas")  # the general path
    parquet = submit(alice, query, fmt="parquet")
    run_once(), run_once()
    frame = pd.read_pickle(io.BytesIO(b"".join(post(alice, f"/db/getsqlqueryresults/{pickled}/")
                                               .streaming_content)))
    assert list(frame.columns) == ["id", "amount", "classid", "probability", "id"]
    state = check(alice, parquet)
    assert state["status"] == "error" and state["error"].startswith("the column name 'id' appears more")
