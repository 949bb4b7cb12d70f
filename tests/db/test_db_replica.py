"""Users' SQL on a real hot standby of the session's PostgreSQL (issue 18), through real HTTP.

The standby is a ``pg_basebackup -R`` copy of the test cluster, streaming from it on its own port;
the live server (a thread of this process) reads ``DESCTOM_SQL_DATABASE_URL`` at each request.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from conftest import PASSWORD, owner_connection

from desctom.db.workers.long_query_runner import Runner
from desctom.localstack.procs import free_port
from desctom.localstack.replica import LocalStandby, replication_status
from desctom.testing.livestack import wait_for

NEW_ID = 900_001


@pytest.fixture(scope="module")
def standby(pg_server, django_db_setup, django_db_blocker):
    """A hot standby of the session's cluster (no slot: it is thrown away with the cluster)."""
    node = LocalStandby(pg_server, pg_server.base / f"standby-{free_port()}", free_port(), slot=None)
    node.init()
    node.start()
    yield node
    node.stop()


@pytest.fixture
def on_replica(standby, science_tables, monkeypatch, settings):
    """The SQL API and the runner pointed at the standby, which runs (restarted if a test stopped it)."""
    standby.start()
    name = settings.DATABASES["default"]["NAME"]
    monkeypatch.setenv("DESCTOM_SQL_DATABASE_URL", f"postgresql://127.0.0.1:{standby.port}/{name}")
    monkeypatch.delenv("DESCTOM_SQL_REPLICA_FALLBACK", raising=False)
    yield standby
    standby.start()
    with psycopg.connect(standby.conninfo(name), autocommit=True) as conn:
        if conn.execute("SELECT pg_is_wal_replay_paused()").fetchone()[0]:
            conn.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture
def web(live_server, transactional_db):
    """A requests session logged in (HTTP basic) as an ordinary user of the live server."""
    from django.contrib.auth.models import User

    User.objects.create_user("replicauser", password=PASSWORD)
    session = requests.Session()
    session.auth = ("replicauser", PASSWORD)
    session.base = live_server.url
    return session


def run_sql(web, *queries) -> requests.Response:
    return web.post(web.base + "/db/runsqlquery/", json={"query": list(queries)}, timeout=60)


def rows(web, query):
    res = run_sql(web, query)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["status"] == "ok", body
    return body["rows"]


def replica_busy(standby) -> bool:
    with psycopg.connect(standby.conninfo("postgres")) as conn:
        # the role runs with track_activities off: its backends show, their state does not
        sessions = "SELECT count(*) FROM pg_stat_activity WHERE usename = 'desctom_ro'"
        return conn.execute(sessions).fetchone()[0] > 0


def test_users_sql_runs_on_the_standby_sees_new_rows_and_no_temp_tables(on_replica, web, pg_server):
    assert rows(web, "SELECT pg_is_in_recovery() AS standby") == [{"standby": True}]
    count = f"SELECT count(*) AS n FROM elasticc2_sqltest WHERE id = {NEW_ID}"
    assert rows(web, count) == [{"n": 0}]
    with owner_connection() as conn:
        conn.execute("INSERT INTO elasticc2_sqltest (id, name) VALUES (%s, 'replicated')", (NEW_ID,))
    try:
        wait_for(lambda: rows(web, count) == [{"n": 1}], 10, "the new row on the replica")
    finally:
        with owner_connection() as conn:
            conn.execute("DELETE FROM elasticc2_sqltest WHERE id = %s", (NEW_ID,))
    status = replication_status(pg_server.conninfo(), on_replica.conninfo())
    assert status["in_recovery"] is True and status["streaming"] is True
    assert status["lag_bytes"] is not None and status["lag_seconds"] is not None

    # a hot standby cannot hold temporary tables: the message says why
    res = run_sql(web, "CREATE TEMP TABLE scratch AS SELECT 1 AS a", "SELECT a FROM scratch")
    body = res.json()
    assert body["status"] == "error"
    assert "read-only replica" in body["error"] and "temporary tables" in body["error"]


def test_a_replica_too_far_behind_is_not_used(on_replica, web, monkeypatch, settings):
    monkeypatch.setenv("DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS", "1")
    with psycopg.connect(on_replica.conninfo(settings.DATABASES["default"]["NAME"]), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    with owner_connection() as conn:  # WAL the paused standby receives and does not replay
        conn.execute("INSERT INTO elasticc2_sqltest (id, name) VALUES (%s, 'lagging')", (NEW_ID,))
        conn.execute("DELETE FROM elasticc2_sqltest WHERE id = %s", (NEW_ID,))
    time.sleep(1.5)
    res = wait_for(lambda: (r := run_sql(web, "SELECT 1 AS one")).status_code == 503 and [r], 10, "a 503")[0]
    assert res.headers["Retry-After"] == "30"
    body = res.json()
    assert body["status"] == "error" and "behind the primary" in body["error"]
    assert "DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS=1" in body["error"]


def test_stopped_replica_503_fallback_and_queued_queries_wait(on_replica, web, monkeypatch):
    with ThreadPoolExecutor(1) as pool:  # a query running when the replica stops: 503 too
        running = pool.submit(run_sql, web, "SELECT pg_sleep(10) AS slept")
        wait_for(lambda: replica_busy(on_replica), 10, "the query to run on the replica", every=0.2)
        on_replica.stop()
        cut = running.result(timeout=30)
    assert cut.status_code == 503 and cut.headers["Retry-After"] == "30", cut.text
    res = run_sql(web, "SELECT 1 AS one")
    assert res.status_code == 503, res.text
    assert res.headers["Retry-After"] == "30"
    body = res.json()
    assert body["status"] == "error"
    assert f"read replica (127.0.0.1:{on_replica.port}/" in body["error"]
    assert "does not answer" in body["error"]
    # the rest of the system works
    assert web.get(web.base + "/healthz?scope=web", timeout=30).status_code == 200
    assert web.post(web.base + "/db/listsqlqueries/", json={}, timeout=30).json()["status"] == "ok"

    monkeypatch.setenv("DESCTOM_SQL_REPLICA_FALLBACK", "primary")
    assert rows(web, "SELECT pg_is_in_recovery() AS standby") == [{"standby": False}]
    monkeypatch.delenv("DESCTOM_SQL_REPLICA_FALLBACK")

    sub = web.post(web.base + "/db/submitsqlquery/", timeout=30, json={
        "query": "SELECT pg_is_in_recovery() AS standby, count(*) AS n FROM elasticc2_sqltest",
        "format": "csv"}).json()
    assert sub["status"] == "ok", sub
    check = web.base + f"/db/checksqlquery/{sub['queryid']}/"
    runner = Runner()
    try:
        assert runner.run_once() is None  # the replica is down: nothing is claimed
        assert web.post(check, json={}, timeout=30).json()["status"] == "queued"
        on_replica.start()
        wait_for(lambda: runner.run_once() is not None, 30, "the runner to run the queued query")
    finally:
        runner.close()
    state = web.post(check, json={}, timeout=30).json()
    assert state["status"] == "finished", state
    got = web.post(web.base + f"/db/getsqlqueryresults/{sub['queryid']}/", json={}, timeout=30)
    assert got.status_code == 200
    assert got.text.splitlines()[1].split(",")[0] in ("t", "True", "true")
