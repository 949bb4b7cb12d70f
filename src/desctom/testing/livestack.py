"""Drive a real ``desctom up`` installation from tests: its database, its Kafka, its web API."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import psycopg
import requests

from desctom.core.config import EMBEDDED_DB_NAME, EMBEDDED_DB_USER
from desctom.localstack.postgres import LocalPostgres
from desctom.survey import schemas
from desctom.survey.kafka import ensure_topics, make_producer
from desctom.testing.cli import DESCTOM

LEAVES = [2222, 2223, 2224, 2225, 2226, 2232, 2233, 2234, 2235, 2242]
T0 = 1_760_000_000_000


class LiveStack:
    """One private installation (the ``stack_env`` fixture's environment)."""

    def __init__(self, env: dict):
        self.env = env
        self.home = Path(env["DESCTOM_HOME"])
        self.web = f"http://127.0.0.1:{env['DESCTOM_WEB_PORT']}"
        self.kafka = f"127.0.0.1:{env['DESCTOM_KAFKA_PORT']}"

    def desctom(self, *args, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([DESCTOM, *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def up(self) -> None:
        res = self.desctom("up", "--detach")
        assert res.returncode == 0, res.stderr + res.stdout

    def down(self) -> None:
        self.desctom("down", timeout=180)

    @property
    def postgres(self) -> LocalPostgres:
        return LocalPostgres(self.home / "pgdata", int(self.env["DESCTOM_PG_PORT"]), EMBEDDED_DB_USER,
                             self.home / "secrets" / "pg_password", EMBEDDED_DB_NAME)

    def services(self) -> dict[str, int]:
        return json.loads((self.home / "run" / "desctom.json").read_text())["services"]

    def log(self, name: str) -> str:
        path = self.home / "log" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- database ---------------------------------------------------------------------------------
    def sql(self, query: str, params=None) -> list[tuple]:
        with psycopg.connect(self.postgres.conninfo()) as conn:
            return conn.execute(query, params).fetchall()

    # -- web --------------------------------------------------------------------------------------
    @property
    def auth(self) -> tuple[str, str]:
        return "admin", (self.home / "secrets" / "admin_password").read_text().strip()

    def api(self, path: str, data: dict | None = None) -> requests.Response:
        return requests.post(self.web + path, json=data or {}, auth=self.auth, timeout=60)

    def submit(self, query: str, fmt: str = "csv") -> str:
        res = self.api("/db/submitsqlquery/", {"query": query, "format": fmt}).json()
        assert res["status"] == "ok", res
        return res["queryid"]

    def query_status(self, queryid: str) -> dict:
        return self.api(f"/db/checksqlquery/{queryid}/").json()

    def wait_query(self, queryid: str, states=("finished", "error"), timeout: float = 180) -> dict:
        return wait_for(lambda: (s := self.query_status(queryid))["status"] in states and s,
                        timeout, f"query {queryid} in {states}")

    # -- Kafka ------------------------------------------------------------------------------------
    def produce_classifications(self, start: int, count: int, topic: str = "classifications") -> None:
        """``count`` classification messages, alert ids ``start`` .. ``start + count - 1``."""
        ensure_topics(self.kafka, [topic], partitions=2)
        producer = make_producer(self.kafka)
        for i in range(start, start + count):
            producer.produce(topic, classification(i))
            producer.poll(0)
        assert producer.flush(30) == 0


def classification(i: int, classifier: str = "FaultTest") -> bytes:
    probs = np.random.default_rng(i).dirichlet(np.ones(len(LEAVES)))
    return schemas.encode(schemas.broker_classification_schema(), {
        "alertId": i, "diaSourceId": 5_000_000 + i // 2, "elasticcPublishTimestamp": T0 + i,
        "brokerIngestTimestamp": T0 + i + 500, "brokerName": "TestBroker", "brokerVersion": "v2",
        "classifierName": classifier, "classifierParams": "p",
        "classifications": [{"classId": c, "probability": float(p)}
                            for c, p in zip(LEAVES, probs, strict=True)]})


def wait_for(check, timeout: float, what: str, every: float = 0.5):
    """Call ``check`` until it returns something true; that value. Fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})")
        time.sleep(every)
