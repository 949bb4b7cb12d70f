"""The schemathesis fuzz run used by test_fuzz.py and benchmarks/fuzz.sh.

Every operation of the served OpenAPI description gets ``examples`` generated requests (positive
mode: bodies and parameters valid under the schema) against a real server, authenticated with a
superuser's token. Each answer is checked (no 5xx; status code, content type and body as
described), and each rejected call of an operation that writes is checked to have left the
tables it writes unchanged. Failures are collected per operation, not raised at the first one.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
import schemathesis
from django.db import connection, connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from desctom.apidocs.groups import GROUPS
from desctom.localstack.procs import free_port

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Answers that mean "rejected" (the SQL API rejects with 200 and status "error").
MAX_FAILURES_PER_OPERATION = 3


@dataclass
class OperationRun:
    """What the fuzzing of one operation saw."""

    label: str
    calls: int = 0
    accepted: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def table_counts(tables) -> dict[str, int]:
    """Row counts of ``tables`` in one statement (small test tables: exact ``count(*)``)."""
    tables = list(tables)
    if not tables:
        return {}
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables))
        return dict(zip(tables, cur.fetchone(), strict=True))


def all_tables() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        return [r[0] for r in cur.fetchall()]


def writes_by_path() -> dict[str, tuple[str, ...]]:
    """OpenAPI path -> tables a successful call of its writing operations may change (the registry's)."""
    return {e.path: e.writes for g in GROUPS for e in g.ENDPOINTS if e.writes}


def is_rejected(response) -> bool:
    if response.status_code >= 400:
        return True
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("status") == "error"
    return False


@contextlib.contextmanager
def gunicorn_on_test_database(workers: int = 2):
    """gunicorn serving the project from the test database (committed data only); yields its URL.

    Its workers keep their database connections (pytest-django's live server opens one per
    request, which costs more than most requests).
    """
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DESCTOM_DB_CONN_MAX_AGE": "600",
        "DATABASE_URL": f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/"
        f"{quote(db['NAME'])}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "desctom.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start (exit status {proc.poll()})")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load_schema(base_url: str):
    """The description as the server serves it (anonymous GET of ``/api/schema/``)."""
    res = requests.get(f"{base_url}/api/schema/", params={"format": "json"}, timeout=60)
    res.raise_for_status()
    return schemathesis.openapi.from_dict(res.json())


def fuzz_operation(
    operation, base_url: str, headers: dict, examples: int, writes: tuple[str, ...]
) -> OperationRun:
    """Run ``examples`` generated cases of ``operation``; returns what was seen."""
    run = OperationRun(f"{operation.method.upper()} {operation.path}")

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def one_case(case):
        before = table_counts(writes) if writes else None
        response = case.call(base_url=base_url, headers=headers, timeout=120)
        run.calls += 1
        run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
        problems = []
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, reported at the end
            problems.append(str(exc)[:3000])
        if is_rejected(response):
            if before is not None and table_counts(writes) != before:
                problems.append(
                    f"rejected ({response.status_code}) but tables changed: {before} -> "
                    f"{table_counts(writes)}\n{case.as_curl_command()}"
                )
        else:
            run.accepted += 1
        if problems and len(run.failures) < MAX_FAILURES_PER_OPERATION:
            run.failures.extend(problems)

    start = time.perf_counter()
    one_case()
    run.seconds = time.perf_counter() - start
    return run


def operations(schema, skip=lambda op: False):
    for result in schema.get_all_operations():
        operation = result.ok()
        if not skip(operation):
            yield operation


def has_inputs(operation) -> bool:
    """Whether the operation takes anything (parameters or a body) that can vary."""
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def groups_by_tables(ops: list, writes: dict[str, tuple[str, ...]]) -> list[list]:
    """``ops`` in groups to run one after the other: operations that write a common table share a
    group (so a rejected call's row counts are not changed by another thread's accepted call)."""
    groups: list[tuple[set[str], list]] = []
    for op in ops:
        tables = set(writes.get(op.path, ()))
        joined = [g for g in groups if tables and g[0] & tables]
        merged = (tables.union(*(g[0] for g in joined)), [o for g in joined for o in g[1]] + [op])
        groups = [g for g in groups if not any(g is j for j in joined)] + [merged]
    return sorted((g[1] for g in groups), key=len, reverse=True)


def fuzz_in_threads(
    ops: list, base_url: str, headers: dict, examples: int, writes: dict, threads: int = 2
) -> list[tuple[object, OperationRun]]:
    """Fuzz ``ops`` in ``threads`` threads (one waits for the server while the other generates);
    ``(operation, run)`` in the order of ``ops``."""

    def run_group(group):
        try:
            return [
                (op, fuzz_operation(op, base_url, headers, examples, writes.get(op.path, ()))) for op in group
            ]
        finally:
            connections.close_all()  # this thread's own database connection

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = [pair for done in pool.map(run_group, groups_by_tables(ops, writes)) for pair in done]
    order = {id(op): i for i, op in enumerate(ops)}
    return sorted(results, key=lambda pair: order[id(pair[0])])
