"""Queued queries start at once (issue 19 item 7): the runner waits on LISTEN, not on its idle sleep.

The runner is the real ``desctom long_query_runner --loop`` process; queries are submitted over real
HTTP (the live server). A runner sleeping 60 s when idle must still start a new query within 2 s.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
import requests
from conftest import PASSWORD, owner_connection
from django.db import connection

from desctom.core import config
from desctom.db.workers.long_query_runner import RUNNER_NAME, Runner
from desctom.db.workers.queue_wakeup import LISTENER_NAME, QueueListener

pytestmark = pytest.mark.django_db(transaction=True)

#: The functional bound of issue 19: a submitted query has started within this many seconds.
STARTS_WITHIN = 2.0


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


@pytest.fixture
def start_runner(tmp_path, results_dir, science_tables):
    """Start ``desctom long_query_runner --loop --sleep S`` on the test database; returns the process."""
    db = connection.settings_dict
    env = {**os.environ, "DESCTOM_HOME": str(tmp_path), "DESCTOM_SQL_RESULTS_DIR": str(results_dir),
           "DESCTOM_SQL_PASSWORD": config.sql_password(config.load()),
           "DATABASE_URL": f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/"
                           f"{quote(db['NAME'])}"}
    env.pop("DESCTOM_SQL_DATABASE_URL", None)
    started = []

    def start(sleep: float) -> subprocess.Popen:
        log = open(tmp_path / f"runner-{len(started)}.log", "wb")  # noqa: SIM115  (closed below)
        proc = subprocess.Popen([sys.executable, "-m", "desctom.cli", "long_query_runner", "--loop",
                                 "--sleep", str(sleep)], env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append((proc, log))
        wait_until_idle(proc)
        return proc

    yield start
    for proc, log in started:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def backends() -> dict[str, tuple[int, str, str]]:
    """The runner's connections to the test database: application_name -> (pid, state, last query)."""
    with owner_connection() as conn:
        rows = conn.execute("SELECT application_name, pid, state, query FROM pg_stat_activity "
                            "WHERE datname = current_database() AND application_name IN (%s, %s)",
                            (RUNNER_NAME, LISTENER_NAME)).fetchall()
    return {name: (pid, state, query) for name, pid, state, query in rows}


def wait_until_idle(proc: subprocess.Popen, not_listener: int | None = None) -> int:
    """Wait until the runner listens and has found the queue empty (it is then in its idle wait);
    returns the listening backend's pid (``not_listener``: one other than this)."""
    deadline = time.monotonic() + 60
    while True:
        found = backends()
        listener, runner = found.get(LISTENER_NAME), found.get(RUNNER_NAME)
        if (listener and listener[0] != not_listener and listener[2].startswith("LISTEN")
                and runner and runner[1] == "idle" and "pg_advisory_lock" in runner[2]):
            return listener[0]
        assert proc.poll() is None, "the runner stopped"
        assert time.monotonic() < deadline, f"the runner did not become idle: {found}"
        time.sleep(0.1)


@pytest.fixture
def web(live_server):
    from django.contrib.auth.models import User

    User.objects.create_user("waker", password=PASSWORD)
    session = requests.Session()
    session.auth = ("waker", PASSWORD)
    session.base = live_server.url
    return session


def submit(web, query: str) -> str:
    body = web.post(f"{web.base}/db/submitsqlquery/", json={"query": query, "format": "csv"},
                    timeout=30).json()
    assert body["status"] == "ok", body
    return body["queryid"]


def status(web, queryid: str) -> str:
    return web.post(f"{web.base}/db/checksqlquery/{queryid}/", timeout=30).json()["status"]


def status_after(web, queryid: str, seconds: float, wanted=("started", "finished")) -> str:
    """The query's status once it is one of ``wanted`` or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while (now := status(web, queryid)) not in wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return now


def test_a_submitted_query_starts_at_once_although_the_runner_sleeps_60_s(start_runner, web, tmp_path):
    proc = start_runner(60)
    queryid = submit(web, "SELECT 42 AS answer")
    assert status_after(web, queryid, STARTS_WITHIN) in ("started", "finished")
    assert status_after(web, queryid, 60, ("finished", "error")) == "finished"
    res = web.post(f"{web.base}/db/getsqlqueryresults/{queryid}/", timeout=30)
    assert res.status_code == 200 and list(csv.reader(io.StringIO(res.text))) == [["answer"], ["42"]]

    # a lost listening connection is made again: the next query starts at once too
    first = wait_until_idle(proc)
    with owner_connection() as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone()[0]
    wait_until_idle(proc, not_listener=first)  # listening on a new connection, not polling for 60 s
    again = submit(web, "SELECT 43 AS answer")
    assert status_after(web, again, STARTS_WITHIN) in ("started", "finished")
    assert status_after(web, again, 60, ("finished", "error")) == "finished"
    assert proc.poll() is None
    log = (tmp_path / "runner-0.log").read_text()
    assert "cannot listen for queued queries" in log and "Traceback" not in log


def test_a_query_queued_without_notification_is_found_by_polling(start_runner, web):
    start_runner(0.5)
    from django.contrib.auth.models import User

    owner = User.objects.get(username="waker").pk
    with owner_connection() as conn:  # by hand, as an admin might: no NOTIFY
        queryid = str(conn.execute(
            "INSERT INTO db_queryqueue (queryid, owner_id, submitted, queries, subdicts, format, error, "
            "attempts) VALUES (gen_random_uuid(), %s, now(), ARRAY['SELECT 7 AS seven'], "
            "ARRAY['{}'::jsonb], 'csv', false, 0) RETURNING queryid", (owner,)).fetchone()[0])
    assert status_after(web, queryid, 60, ("finished", "error")) == "finished"


def test_a_query_put_back_in_the_queue_wakes_the_runners(results_dir, science_tables, web):
    listener = QueueListener()
    runner = Runner()
    try:
        queryid = submit(web, "SELECT 1 AS one")
        assert listener.ready()  # listening; what came before (the submission) is dropped
        assert runner.claim().queryid == queryid
        runner._requeue(queryid)
        assert listener.wait(30) is True  # woken by the requeue's NOTIFY, not by the timeout
        assert status(web, queryid) == "queued"
    finally:
        runner.close()
        listener.close()
