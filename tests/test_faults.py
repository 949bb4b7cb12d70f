"""Faults: PostgreSQL restarted under the running system; unwritable query results; the 503 middleware."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone

from desctom.testing.livestack import LiveStack, wait_for
from desctom.web.middleware import DatabaseUnavailableMiddleware, database_unavailable

MESSAGES_BEFORE, MESSAGES_DURING = 400, 300
SLOW_QUERY = "SELECT 42 AS answer FROM pg_sleep(12)"


def message_count(stack: LiveStack) -> tuple[int, int]:
    return stack.sql("SELECT count(*), count(DISTINCT alert_id) FROM elasticc2_brokermessage "
                     "WHERE topicname = 'classifications'")[0]


def get(url, **kwargs) -> requests.Response:
    return requests.get(url, timeout=30, **kwargs)


def test_postgres_restart_under_running_stack(stack_env):
    stack_env["DESCTOM_SQL_RUNNERS"] = "1"  # one runner, so its log holds the interrupted query's story
    # The brokers are outside and keep classifying while the database is down: a broker whose storage is
    # this PostgreSQL would go down with it (operations.md, "Broker storage"), so this one keeps memory.
    stack_env["DESCTOM_KAFKA_STORAGE"] = "memory"
    stack = LiveStack(stack_env)
    try:
        stack.up()
        stack.produce_classifications(0, MESSAGES_BEFORE)
        wait_for(lambda: message_count(stack) == (MESSAGES_BEFORE, MESSAGES_BEFORE), 120, "first messages")
        browser = requests.Session()  # a logged-in browser session (its session lives in the database)
        login = browser.get(f"{stack.web}/accounts/login/", timeout=30)
        assert login.status_code == 200
        user, password = stack.auth
        res = browser.post(f"{stack.web}/accounts/login/", timeout=30, headers={"Referer": login.url},
                           data={"username": user, "password": password,
                                 "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        assert res.status_code == 200 and "Logged in as" in res.text

        slow = stack.submit(SLOW_QUERY)
        queued = stack.submit("SELECT count(*) AS n FROM elasticc2_brokerclassifier")
        stack.wait_query(slow, states=("started",), timeout=150)  # the runner polls the queue every 60 s
        pids = stack.services()

        pg = stack.postgres
        stopping_at = time.monotonic()
        pg.stop()
        stopped_at = time.monotonic()
        assert not pg.running()
        # The web answers 503 with a clear message, JSON for programs, a page for browsers; no traceback.
        health = get(f"{stack.web}/healthz")
        detected = time.monotonic() - stopped_at
        assert health.status_code == 503 and health.json()["error"] == "database unavailable"
        api = stack.api(f"/db/checksqlquery/{slow}/")
        assert api.status_code == 503 and api.headers["Retry-After"].isdigit()
        assert api.json()["error"].startswith("database unavailable")
        page = browser.get(f"{stack.web}/", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
        assert "Database unavailable" in page.text
        for res in (health, api, page):
            assert "Traceback" not in res.text and "psycopg" not in res.text
        # Brokers keep classifying while the database is down: the poller must wait, not lose them.
        stack.produce_classifications(MESSAGES_BEFORE, MESSAGES_DURING)
        wait_for(lambda: "database unavailable" in stack.log("brokerpoll"), 60, "the poller to notice")
        wait_for(lambda: "database unavailable" in stack.log("long-query-runner"), 60,
                 "the runner to notice")

        pg.start()
        restarted_at = time.monotonic()
        outage = restarted_at - stopping_at
        wait_for(lambda: get(f"{stack.web}/healthz?scope=web").status_code == 200, 60, "the web to recover")
        recovered = time.monotonic() - restarted_at
        page = browser.get(f"{stack.web}/", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "Logged in as" in page.text  # same session, same web process

        total = MESSAGES_BEFORE + MESSAGES_DURING
        wait_for(lambda: message_count(stack) == (total, total), 120, "the poller to catch up")
        caught_up = time.monotonic() - restarted_at
        status = stack.wait_query(slow, timeout=240)
        assert status["status"] == "finished", status
        rerun = time.monotonic() - restarted_at
        result = stack.api(f"/db/getsqlqueryresults/{slow}/")
        assert result.status_code == 200 and result.text.split() == ['"answer"', "42"]
        assert stack.wait_query(queued)["status"] == "finished"
        # Nothing was restarted: every service rode the outage out in its own process.
        assert stack.services() == pids
        assert "exited with status" not in stack.log("desctom")
        assert "restarting in" not in stack.log("brokerpoll")  # its consumer process did not die either
        assert "put back in the queue" in stack.log("long-query-runner")
        time.sleep(3)  # anything re-read after the restart would have been stored by now
        assert message_count(stack) == (total, total)
        logs = stack.log("brokerpoll") + stack.log("long-query-runner")
        retries = [line for line in logs.splitlines()
                   if "database unavailable" in line or "put back in the queue" in line]
        print(f"\nfault figures: outage {outage:.1f} s; pg_ctl stop took {stopped_at - stopping_at:.1f} s, "
              f"503 seen {detected:.2f} s after it; "
              f"web healthy {recovered:.2f} s after pg_ctl start; poller caught up ({MESSAGES_DURING} "
              f"messages) {caught_up:.1f} s after start; interrupted 12 s query finished {rerun:.1f} s "
              "after start", *retries, sep="\n  ")
    finally:
        stack.down()


# -- result files that cannot be written -----------------------------------------------------------------
def queue(query: str, seconds_ago: float):
    from desctom.db.models import QueryQueue

    return QueryQueue.objects.create(owner=None, queries=[query], subdicts=[{}], format="csv",
                                     submitted=timezone.now() - timezone.timedelta(seconds=seconds_ago))


@pytest.fixture
def runner_factory(monkeypatch):
    from desctom.db.workers.long_query_runner import Runner
    from desctom.db.workers.roles import ensure_readonly_role

    ensure_readonly_role()
    made = []

    def make(results_dir: Path):
        monkeypatch.setenv("DESCTOM_SQL_RESULTS_DIR", str(results_dir))
        made.append(Runner())
        return made[-1]

    yield make
    for runner in made:
        runner.close()


def state(query) -> tuple:
    query.refresh_from_db()
    return query.status, query.errortext


@pytest.mark.django_db(transaction=True)
def test_disk_full_fails_only_that_query(tmp_path, runner_factory):
    results = tmp_path / "results"
    runner = runner_factory(results)
    full, fine = queue("SELECT generate_series(1, 5000) AS n", 20), queue("SELECT 1 AS one", 10)
    results.mkdir()
    os.symlink("/dev/full", results / f"{full.queryid}.part")  # writing there: ENOSPC, even as root
    assert runner.run_once().queryid == str(full.queryid)
    assert runner.run_once().queryid == str(fine.queryid)
    status, text = state(full)
    assert status == "error" and "No space left on device" in text and str(results) in text
    assert state(fine) == ("finished", None)
    assert (results / str(fine.queryid)).read_text().split() == ['"one"', "1"]
    assert sorted(p.name for p in results.iterdir()) == [str(fine.queryid)]  # no partial file left


@pytest.mark.django_db(transaction=True)
def test_unusable_results_dir_errors_queries_and_runner_keeps_going(tmp_path, runner_factory):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    runner = runner_factory(blocker / "results")  # its parent is a regular file: ENOTDIR, even as root
    first = queue("SELECT 1 AS one", 20)
    assert runner.run_once().queryid == str(first.queryid)
    status, text = state(first)
    assert status == "error" and "Not a directory" in text and "result file" in text
    # The same runner goes on with the next query once the folder is usable.
    runner.cfg = runner_factory(tmp_path / "good").cfg
    second = queue("SELECT 2 AS two", 10)
    assert runner.run_once().queryid == str(second.queryid)
    assert state(second) == ("finished", None)


# -- the middleware's decisions ----------------------------------------------------------------------------
def django_error(cause: Exception | None) -> OperationalError:
    exc = OperationalError(str(cause or "connection refused"))
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(("cause", "unavailable"), [
    (None, True),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
    (psycopg.errors.DeadlockDetected("deadlock detected"), False),
])
def test_only_lost_connections_count_as_unavailable(cause, unavailable):
    assert database_unavailable(django_error(cause)) is unavailable


def test_middleware_answers_json_to_programs_and_a_page_to_browsers():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    api = middleware.process_exception(RequestFactory().get("/db/listsqlqueries/"), django_error(None))
    assert api.status_code == 503 and api["Retry-After"] == "10"
    assert api["Content-Type"] == "application/json" and b'"database unavailable' in api.content
    page = middleware.process_exception(RequestFactory().get("/targets/", HTTP_ACCEPT="text/html"),
                                        django_error(None))
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    timeout = django_error(psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))
    assert middleware.process_exception(RequestFactory().get("/db/"), timeout) is None


@pytest.mark.django_db
def test_outage_outside_views_becomes_503_too(client, monkeypatch, caplog):
    """An outage raised in another middleware (here: saving the session) is a 503, not a 500."""
    from django.contrib.sessions.middleware import SessionMiddleware

    def broken(self, request, response):
        raise django_error(None)

    monkeypatch.setattr(SessionMiddleware, "process_response", broken)
    client.raise_request_exception = False
    res = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert res.status_code == 503 and res.json()["error"].startswith("database unavailable")
    res = client.get("/accounts/login/", HTTP_ACCEPT="text/html")
    assert res.status_code == 503 and b"Database unavailable" in res.content
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged and not any(r.exc_info for r in logged)  # no traceback in the log either
    expected = "database unavailable while serving /accounts/login/: connection refused"
    assert expected in [r.getMessage() for r in logged if r.levelname == "WARNING"]


# -- the runner's loop while the database is away -------------------------------------------------------
@pytest.mark.parametrize(("error", "lost"), [
    (psycopg.OperationalError("connection refused"), True),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
    (psycopg.InterfaceError("the connection is closed"), True),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
    (psycopg.errors.UndefinedTable('relation "nope" does not exist'), False),
])
def test_runner_tells_a_lost_database_from_a_bad_query(error, lost):
    from desctom.db.workers.long_query_runner import database_lost

    assert database_lost(error) is lost


def test_runner_waits_with_back_off_and_requeues_the_interrupted_query(monkeypatch):
    """Down at start (twice), then a query cut by a restart: retried with back-off, put back, not lost."""
    from desctom.db.workers import long_query_runner as runner_mod

    events, sleeps = [], []

    class FakeConn:
        closed = False

        def close(self):
            events.append("close")

    attempts = iter([psycopg.OperationalError("connection refused")] * 2 + [FakeConn(), FakeConn()])

    def connect(**kwargs):
        got = next(attempts)
        if isinstance(got, Exception):
            raise got
        events.append("connect")
        return got

    runs = iter(["cut", "stop"])

    def run_once(self):
        step = next(runs)
        if step == "cut":
            self.current = runner_mod.Claimed("q1", ["SELECT 1"], [{}], "csv")
            raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")
        raise KeyboardInterrupt

    monkeypatch.setattr(runner_mod, "app_connect", connect)
    monkeypatch.setattr(runner_mod.time, "sleep", sleeps.append)
    monkeypatch.setattr(runner_mod.Runner, "run_once", run_once)
    monkeypatch.setattr(runner_mod.Runner, "_requeue", lambda self, qid: events.append(f"requeue {qid}"))
    monkeypatch.setattr(runner_mod.QueueListener, "ready", lambda self: True)  # no LISTEN connection here
    runner = runner_mod.Runner(cfg=object(), connect=False)
    with pytest.raises(KeyboardInterrupt):
        runner.serve(idle_sleep=60)
    assert sleeps == [1.0, 2.0, 4.0]  # doubling while the database is away
    assert events == ["connect", "close", "connect", "requeue q1"]
    assert runner.current is None and runner._interrupted == {}
