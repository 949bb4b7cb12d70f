"""The long-query queue cannot jam: a query that kills its own backend fails once, retry limits
persist, runners share the queue fairly between users, checksqlquery shows the position, and a
result file over its cap fails that query and leaves no file."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import owner_connection
from test_db_queue import check, make_user, submit

from desctom.db.models import QueryQueue
from desctom.db.workers.long_query_runner import MAX_ATTEMPTS, TERMINATED, Runner

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


@pytest.fixture
def clients(science_tables, results_dir):
    from django.test import Client

    made = {}
    for name in ("alice", "bob"):
        made[name] = Client()
        made[name].force_login(make_user(name))
    return made


@pytest.fixture
def runners():
    made = []

    def make() -> Runner:
        made.append(Runner())
        return made[-1]

    yield make
    for runner in made:
        runner.close()


def test_a_self_terminating_query_fails_once_and_the_next_users_query_runs(clients, runners):
    killer = submit(clients["alice"], "SELECT pg_terminate_backend(pg_backend_pid())")
    fine = submit(clients["bob"], "SELECT 1 AS one")
    runner = runners()
    assert runner.run_once().queryid == killer
    state = check(clients["alice"], killer)
    assert state["status"] == "error" and "pg_terminate_backend" in state["error"]
    assert runner.run_once().queryid == fine
    assert check(clients["bob"], fine)["status"] == "finished"
    assert QueryQueue.objects.get(queryid=killer).attempts == 1


def test_a_terminated_backend_while_the_database_answers_is_a_failure_not_an_outage(clients, runners):
    slow = submit(clients["alice"], "SELECT pg_sleep(30)")

    def terminate():  # as an admin (or the query itself, had it the right) would
        with owner_connection() as conn:
            for _ in range(100):
                if conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = 'desctom-sql'").fetchall():
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=terminate, daemon=True)
    thread.start()
    assert runners().run_once().queryid == slow
    thread.join(15)
    state = check(clients["alice"], slow)
    assert state["status"] == "error" and state["error"] == TERMINATED


def test_the_retry_limit_is_persisted(clients, runners):
    worn = submit(clients["alice"], "SELECT 1 AS one")
    QueryQueue.objects.filter(queryid=worn).update(attempts=MAX_ATTEMPTS)
    fresh = submit(clients["bob"], "SELECT 2 AS two")
    assert runners().run_once().queryid == fresh
    state = check(clients["alice"], worn)
    assert state["status"] == "error" and f"interrupted {MAX_ATTEMPTS} times" in state["error"]


def test_two_runners_share_the_queue_between_users_and_positions_follow(clients, runners):
    alice, bob = clients["alice"], clients["bob"]
    mine = [submit(alice, f"SELECT {i} AS n") for i in range(3)]
    theirs = submit(bob, "SELECT 9 AS n")
    assert [check(alice, q)["position"] for q in mine] + [check(bob, theirs)["position"]] == [1, 2, 3, 4]
    first, second = runners(), runners()
    assert first.claim().queryid == mine[0]
    # alice has a query running and bob none: bob's comes next, ahead of alice's older ones
    assert check(bob, theirs)["position"] == 1
    assert [check(alice, q)["position"] for q in mine[1:]] == [2, 3]
    assert second.claim().queryid == theirs
    running = check(alice, mine[0])
    assert running["status"] == "started" and running["position"] is None
    assert {"queryid", "queries", "subdicts", "format", "submitted", "status", "started"} <= set(running)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "pandas"])
def test_a_result_file_over_its_cap_fails_that_query_and_leaves_no_file(clients, runners, results_dir,
                                                                        monkeypatch, fmt):
    monkeypatch.setenv("DESCTOM_SQL_RESULT_MAX_BYTES", "200000")
    big = submit(clients["alice"], "SELECT g, md5(g::text) AS h FROM generate_series(1, 100000) g", fmt=fmt)
    small = submit(clients["alice"], "SELECT g FROM generate_series(1, 10) g", fmt=fmt)
    runner = runners()
    assert runner.run_once().queryid == big
    state = check(clients["alice"], big)
    assert state["status"] == "error" and "DESCTOM_SQL_RESULT_MAX_BYTES" in state["error"], state
    assert not any(p.name.startswith(big) for p in results_dir.iterdir())
    assert runner.run_once().queryid == small
    assert check(clients["alice"], small)["status"] == "finished"
