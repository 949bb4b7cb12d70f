"""Users' SQL is sandboxed by PostgreSQL: no advisory locks, no signalling backends, no raising the
capped settings, bounded temporary tables; fast answers capped in bytes; fast-query slots (429)."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import owner_connection
from sqlhelpers import post, run_sql

from desctom.elasticc2.workers import source_updater as known
from desctom.elasticc2.workers.sender import service as sender

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(fn):
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("value", fn()), daemon=True)
    thread.start()
    return thread, out


def lock_free(key: int) -> bool:
    """Whether the app's own role gets the advisory lock ``key`` now (released at once)."""
    with owner_connection() as conn:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
        if got:
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])
        return got


@pytest.mark.parametrize("key", [sender.LOCK_KEY, known.LOCK_KEY], ids=["sender", "updater"])
def test_users_cannot_take_the_apps_advisory_locks(api, key):
    thread, out = in_thread(lambda: run_sql(api, f"SELECT pg_advisory_lock({key}), pg_sleep(3)"))
    time.sleep(1)
    assert lock_free(key), "the app must get its lock while a user tries to hold it"
    thread.join(20)
    assert out["value"]["status"] == "error"
    assert "permission denied for function pg_advisory_lock" in out["value"]["error"]


@pytest.mark.parametrize("query", [
    "SELECT pg_try_advisory_lock(1)", "SELECT pg_advisory_xact_lock(1)", "SELECT pg_try_advisory_lock(1, 2)",
    "SELECT pg_advisory_lock_shared(1)", "SELECT pg_try_advisory_xact_lock_shared(1)",
])
def test_every_advisory_lock_function_is_refused(api, query):
    res = run_sql(api, query)
    assert res["status"] == "error" and "permission denied for function pg_" in res["error"], res


@pytest.mark.parametrize("function", ["pg_cancel_backend", "pg_terminate_backend"])
def test_users_cannot_signal_another_users_query(api, function):
    from desctom.db.queries import sqlexec

    victim = sqlexec.connect(30)
    try:
        pid = victim.info.backend_pid
        thread, out = in_thread(lambda: victim.execute("SELECT pg_sleep(2), 'done'").fetchone())
        time.sleep(0.5)
        res = run_sql(api, f"SELECT {function}({pid})")
        assert res["status"] == "error" and f"permission denied for function {function}" in res["error"]
        thread.join(20)
        assert out["value"][1] == "done", "the other user's query was not disturbed"
    finally:
        victim.close()


@pytest.mark.parametrize("statements", [
    ["SET work_mem = '4GB'"], ["SET LOCAL work_mem = '4GB'"], ["SET hash_mem_multiplier = 1000"],
    ["SET temp_buffers = '4GB'"], ["SET maintenance_work_mem = '4GB'"], ["SET statement_timeout = 0"],
    ["SET idle_in_transaction_session_timeout = 0"], ["SET max_parallel_workers_per_gather = 64"],
])
def test_raising_a_capped_setting_is_refused_before_the_next_statement(api, statements):
    res = run_sql(api, [*statements, "SELECT current_setting('work_mem') AS wm"])
    assert res["status"] == "error" and "is not allowed" in res["error"] and "caps it" in res["error"], res


def test_lowering_a_setting_is_fine_raising_another_is_not(api):
    res = run_sql(api, ["SET work_mem = '1MB'", "SET statement_timeout = '5s'",
                        "SELECT current_setting('work_mem') AS wm"])
    assert res == {"status": "ok", "rows": [{"wm": "1MB"}]}
    res = run_sql(api, ["SET work_mem = '1MB'", "SET temp_buffers = '1GB'", "SELECT 1 AS one"])
    assert res["status"] == "error" and "raising temp_buffers is not allowed" in res["error"]


@pytest.mark.parametrize(("query", "message"), [
    ("SELECT set_config('work_mem', '4GB', false)", "permission denied for function set_config"),
    ("CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql SET work_mem = '4GB' AS 'SELECT 1'",
     "permission denied for language sql"),
    ("DO $$ BEGIN PERFORM pg_sleep(0); END $$", "permission denied for language plpgsql"),
])
def test_no_way_around_set(api, query, message):
    res = run_sql(api, query)
    assert res["status"] == "error" and message in res["error"], res


def test_temp_tables_are_bounded(api, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_TEMP_MAX_BYTES", "1000000")
    small = run_sql(api, ["CREATE TEMP TABLE t AS SELECT g FROM generate_series(1, 100) g",
                          "SELECT count(*) AS n FROM t"])
    assert small == {"status": "ok", "rows": [{"n": 100}]}
    big = run_sql(api, ["CREATE TEMP TABLE t AS SELECT g, repeat('x', 200) AS pad "
                        "FROM generate_series(1, 20000) g",
                        "SELECT count(*) AS n FROM t"])
    assert big["status"] == "error" and "DESCTOM_SQL_TEMP_MAX_BYTES" in big["error"], big


def test_an_answer_over_the_byte_cap_is_a_413_pointing_to_the_queue(api, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_MAX_BYTES", "100000")
    big = "SELECT repeat('x', 100) AS s FROM generate_series(1, 5000)"
    res = post(api, "/db/runsqlquery/", {"query": big})
    assert res.status_code == 413
    body = res.json()
    assert body["status"] == "error" and "db/submitsqlquery/" in body["error"] and "100000" in body["error"]
    fine = post(api, "/db/runsqlquery/", {"query": big.replace("5000", "50")})
    assert fine.status_code == 200 and len(fine.json()["rows"]) == 50


def test_a_user_over_their_slots_gets_an_immediate_429(api, user, monkeypatch):
    from desctom.db.queries.slots import USER_CLASS

    monkeypatch.setenv("DESCTOM_SQL_FAST_PER_USER", "2")
    with owner_connection() as other_session:  # as if two of the user's queries ran in other workers
        for i in range(2):
            taken = other_session.execute("SELECT pg_try_advisory_lock(%s, %s)", [USER_CLASS + i, user.pk])
            assert taken.fetchone()[0]
        t0 = time.monotonic()
        res = post(api, "/db/runsqlquery/", {"query": "SELECT 1 AS one"})
        assert res.status_code == 429 and time.monotonic() - t0 < 5
        assert res["Retry-After"] and "DESCTOM_SQL_FAST_PER_USER" in res.json()["error"]
    assert run_sql(api, "SELECT 1 AS one") == {"status": "ok", "rows": [{"one": 1}]}
