"""Users' SQL on a real gunicorn as ``desctom up`` runs it (2 workers x 4 threads): slow fast queries
never hold up /healthz or other users, and an oversize answer is refused while the worker's memory
stays bounded."""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import psutil
import pytest
import requests
from django.db import connection

from desctom.core import config
from desctom.localstack.procs import free_port
from desctom.localstack.services import web_service

pytestmark = pytest.mark.django_db(transaction=True)
MB = 1_000_000


@pytest.fixture
def server(tmp_path, science_tables):
    """The web service of ``desctom up`` with its default 2 workers x 4 threads, on the test database."""
    db = connection.settings_dict
    env = {**os.environ, "DESCTOM_HOME": str(tmp_path), "DESCTOM_WEB_PORT": str(free_port()),
           "DESCTOM_WEB_WORKERS": "2", "DESCTOM_WEB_THREADS": "4",
           "DATABASE_URL": f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/"
                           f"{quote(db['NAME'])}"}
    for name in ("DESCTOM_SQL_FAST_TOTAL", "DESCTOM_SQL_FAST_PER_USER", "DESCTOM_SQL_MAX_BYTES"):
        env.pop(name, None)  # the defaults are what is tested
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        cfg = config.load()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    env["DESCTOM_SQL_PASSWORD"] = config.sql_password(config.load())  # the role as the fixtures set it up
    proc = subprocess.Popen(web_service(cfg).argv, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{cfg.web_url}/healthz?scope=web", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield cfg.web_url, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def tokens(count: int) -> list[str]:
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    users = [User.objects.create_user(f"sqluser{i}") for i in range(count)]
    return [Token.objects.get_or_create(user=user)[0].key for user in users]


def sql(url: str, token: str, query: str, timeout: float = 60) -> requests.Response:
    return requests.post(f"{url}/db/runsqlquery/", json={"query": query}, timeout=timeout,
                         headers={"Authorization": f"Token {token}"})


def timed(call) -> tuple[float, requests.Response]:
    t0 = time.monotonic()
    res = call()
    return time.monotonic() - t0, res


def test_sixteen_slow_fast_queries_never_hold_up_healthz_or_other_users(server):
    url, _ = server
    keys = tokens(5)
    slow, other = keys[:4], keys[4]
    with ThreadPoolExecutor(16) as pool:
        started = time.monotonic()
        futures = [pool.submit(sql, url, slow[i % 4], "SELECT pg_sleep(6)") for i in range(16)]
        time.sleep(1.0)
        health = [timed(lambda: requests.get(f"{url}/healthz?scope=web", timeout=60)) for _ in range(3)]
        schema = timed(lambda: requests.get(f"{url}/db/schema/", timeout=60,
                                            headers={"Authorization": f"Token {other}"}))
        during = time.monotonic() - started
        answers = [f.result() for f in futures]
    assert during < 6, "the checks were not made while the slow queries ran"
    assert all(res.status_code == 200 for _, res in health) and max(t for t, _ in health) < 1.0, health
    assert schema[1].status_code == 200 and schema[1].json()["status"] == "ok" and schema[0] < 2.0
    codes = sorted(res.status_code for res in answers)
    assert codes.count(200) <= 4 and codes.count(200) >= 1, codes  # DESCTOM_SQL_FAST_TOTAL = 4
    refused = [res for res in answers if res.status_code != 200]
    assert refused and all(res.status_code == 429 and res.headers.get("Retry-After") for res in refused)
    assert all("db/submitsqlquery/" in res.json()["error"] for res in refused)


def peak_rss(proc: psutil.Process) -> int:
    """Largest peak resident size (VmHWM) among gunicorn's workers."""
    peaks = []
    for child in proc.children():
        with open(f"/proc/{child.pid}/status") as fh:
            peaks += [int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:")]
    return max(peaks)


def test_an_oversize_answer_is_a_413_and_the_workers_memory_stays_bounded(server):
    url, proc = server
    (key,) = tokens(1)
    assert sql(url, key, "SELECT 1 AS one").json() == {"status": "ok", "rows": [{"one": 1}]}
    before = peak_rss(proc)
    # 90,000 rows (under the row cap) of 3.4 kB: a 306 MB answer
    res = sql(url, key, "SELECT repeat('x', 3400) AS s FROM generate_series(1, 90000)", timeout=120)
    after = peak_rss(proc)
    assert res.status_code == 413, res.status_code
    assert "DESCTOM_SQL_MAX_BYTES" in res.json()["error"] and "db/submitsqlquery/" in res.json()["error"]
    assert after - before < 250 * MB, (before, after)
    fine = sql(url, key, "SELECT repeat('x', 3400) AS s FROM generate_series(1, 5000)")  # 17 MB
    assert fine.status_code == 200 and len(fine.json()["rows"]) == 5000
