"""The "beyond one node" recipe of docs/scaling.md, run: two DESC TOM hosts (own data dirs, own web
servers and workers) on one external PostgreSQL and one external Kafka, sharing the secrets the
recipe names. What one host stores, the other serves; Kafka messages read by both hosts' pollers
(one consumer group) are stored exactly once; the SQL interface answers on both."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from test_cli_stack import run

from desctom.localstack.procs import free_port
from desctom.survey import schemas
from desctom.survey.kafka import ensure_topics, make_producer

ADMIN_PASSWORD = "two-hosts-admin-pw-42"


@pytest.fixture
def shared_database(pg_server):
    """A database of its own on the session's PostgreSQL: the recipe's ``DATABASE_URL``."""
    name = f"twohosts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"postgresql://{pg_server.user}:{pg_server.password()}@127.0.0.1:{pg_server.port}/{name}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def two_hosts(shared_database, kafka_server):
    """Environments of two hosts: own DESCTOM_HOME and web port, everything else shared."""
    topic = f"classifications-{uuid.uuid4().hex[:8]}"
    results = Path(tempfile.mkdtemp(prefix="desctom-shared-results-"))
    shared = {"DATABASE_URL": shared_database, "KAFKA_BOOTSTRAP_SERVERS": kafka_server.bootstrap,
              "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2, "DESCTOM_SQL_PASSWORD": uuid.uuid4().hex,
              "DESCTOM_ADMIN_PASSWORD": ADMIN_PASSWORD, "DESCTOM_SQL_RESULTS_DIR": str(results),
              "DESCTOM_CLASSIFICATION_TOPIC": topic, "DESCTOM_WEB_WORKERS": "1", "DESCTOM_SQL_RUNNERS": "1"}
    hosts = []
    for _ in range(2):
        home = Path(tempfile.mkdtemp(prefix="desctom-host-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("DESCTOM_")}
        env.update(shared, DESCTOM_HOME=str(home), DESCTOM_WEB_PORT=str(free_port()))
        hosts.append(env)
    yield topic, hosts
    for env in hosts:
        run(env, "down", timeout=120)
        shutil.rmtree(env["DESCTOM_HOME"], ignore_errors=True)
    shutil.rmtree(results, ignore_errors=True)


def web(env) -> str:
    return f"http://127.0.0.1:{env['DESCTOM_WEB_PORT']}"


def token(env) -> dict:
    res = requests.post(f"{web(env)}/api/token-auth/", data={"username": "admin", "password": ADMIN_PASSWORD},
                        timeout=30)
    assert res.status_code == 200, res.text
    return {"Authorization": f"Token {res.json()['token']}"}


def sql(env, auth, query: str) -> list[dict]:
    res = requests.post(f"{web(env)}/db/runsqlquery/", headers=auth, timeout=60, json={"query": query})
    assert res.status_code == 200, res.text
    return res.json()["rows"]


def test_two_hosts_share_one_database_and_one_kafka(two_hosts):
    topic, (a, b) = two_hosts
    for env in (a, b):
        res = run(env, "up", "--detach")
        assert res.returncode == 0, res.stderr + res.stdout
    for env in (a, b):
        status = json.loads(run(env, "status", "--json").stdout)
        own = {n: (c["running"], c["healthy"]) for n, c in status["components"].items()
               if n not in ("postgres", "kafka")}
        assert own and all(v == (True, True) for v in own.values()), status["components"]
        assert requests.get(f"{web(env)}/healthz", timeout=30).json()["database"] == "ok"

    # A message PUT through host A is served by host B.
    auth_a, auth_b = token(a), token(b)
    msg = record(1)
    put = requests.put(f"{web(a)}/elasticc2/brokermessage/", json=msg, headers=auth_a, timeout=30)
    assert put.status_code == 201 and put.json()["num_loaded"] == 1, put.text
    one = requests.get(f"{web(b)}/elasticc2/brokermessage/{put.json()['brokerMessageId']}/", headers=auth_b,
                       timeout=30)
    assert one.status_code == 200 and one.json()["alertId"] == msg["alertId"]

    # Both hosts' pollers read the shared classification topic in one group: each message once.
    ensure_topics(a["KAFKA_BOOTSTRAP_SERVERS"], [topic], partitions=2)
    producer = make_producer(a["KAFKA_BOOTSTRAP_SERVERS"])
    for i in range(100, 400):
        producer.produce(topic, schemas.encode(schemas.broker_classification_schema(), record(i)))
    assert producer.flush(30) == 0
    # Users' SQL answers on either host (the read-only role's password is shared).
    query = ("SELECT count(*) AS n, count(DISTINCT alert_id) AS alerts FROM elasticc2_brokermessage "
             "WHERE alert_id BETWEEN 1100 AND 1399")
    deadline = time.monotonic() + 90
    while (got := sql(b, auth_b, query)) != [{"n": 300, "alerts": 300}] and time.monotonic() < deadline:
        time.sleep(1)
    assert got == [{"n": 300, "alerts": 300}]
    time.sleep(3)  # a message stored twice would show by now
    total = "SELECT count(*) AS n FROM elasticc2_brokermessage"
    assert sql(a, auth_a, total) == sql(b, auth_b, total) == [{"n": 301}]


def record(i: int) -> dict:
    """A brokerClassification record (what a broker PUTs as JSON or sends as Avro)."""
    return {"alertId": 1000 + i, "diaSourceId": 5000 + i, "elasticcPublishTimestamp": 1_760_000_000_000 + i,
            "brokerIngestTimestamp": 1_760_000_000_500 + i, "brokerName": "TestBroker", "brokerVersion": "v2",
            "classifierName": "RandomSNType", "classifierParams": "p",
            "classifications": [{"classId": 2222, "probability": 0.6}, {"classId": 2223, "probability": 0.4}]}
