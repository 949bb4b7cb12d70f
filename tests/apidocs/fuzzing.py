"""The schemathesis fuzz run used by test_fuzz.py and benchmarks/fuzz.sh.

Every operation of the served OpenAPI description gets ``examples`` generated requests (positive
mode: bodies and parameters valid under the schema) against a real server, authenticated with a
superuser's token. Each answer is checked (no 5xx; status code, content type and body as
described), and each rejected call of an operation that writes is checked to have left the
tables it writes unchanged. Failures are collected per operation, not raised at the first one.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import jsonschema
import requests
import schemathesis
from django.db import connection, connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from desctom.apidocs.contracts import writes_by_path as contract_writes
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
    return contract_writes()


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
                if requests.get(f"{url}/healthz?scope=web", timeout=30).status_code == 200:
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
    operation, base_url: str, headers: dict, examples: int, writes: tuple[str, ...], negative: bool = False
) -> OperationRun:
    """Run ``examples`` generated cases of ``operation``; returns what was seen.

    ``negative``: requests that violate the schema (wrong types, missing or unknown keys, ...); then
    only "no 5xx" and the partial-write check apply (a 404 of URL routing, for instance, is fine).
    """
    run = OperationRun(f"{'negative ' if negative else ''}{operation.method.upper()} {operation.path}")
    mode = GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE
    checks = [not_a_server_error] if negative else CHECKS

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def one_case(case):
        before = table_counts(writes) if writes else None
        response = case.call(base_url=base_url, headers=headers, timeout=120)
        run.calls += 1
        run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
        problems = []
        try:
            case.validate_response(response, checks=checks, headers=headers)
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
    try:
        one_case()
    except Unsatisfiable:
        if not negative:
            raise
        run.label += " (no invalid request possible)"
    run.seconds = time.perf_counter() - start
    return run


#: Hostile input (issue 16 item 4), as JSON text json.dumps would not write from Python values.
BIG = "1" + "0" * 400
HOSTILE_NUMBERS = (BIG, "-" + BIG, "1e308", "-1e308", "1e39")
HOSTILE_STRINGS = ('"a\\u0000b"', '"\\ud800"', '"\\udfff x"', json.dumps("x" * 1_000_000))
DEEP = "[" * 5000 + "]" * 5000


def hostile_values(prop: dict) -> list[str]:
    """JSON texts no field of this schema should accept or choke on."""
    kinds = [prop.get("type")] + [o.get("type") for o in prop.get("oneOf", []) + prop.get("anyOf", [])]
    values = []
    if {"integer", "number"} & set(kinds):
        values += HOSTILE_NUMBERS
    if "string" in kinds:
        values += HOSTILE_STRINGS
    if "array" in kinds:
        items = prop.get("items") or next((o["items"] for o in prop.get("oneOf", []) if "items" in o), {})
        values += [f"[{v}]" for v in hostile_values(items or {})] or [f"[{DEEP}]"]
    values += [f'{{"k": {DEEP}}}', '{"\\ud800": 1}']  # any field: too deep, or an unstorable key
    if "object" in kinds:
        values.append(BIG)
    return values


def _plain_value(prop: dict) -> str:
    kind = prop.get("type") or next((o.get("type") for o in prop.get("oneOf", [])), "string")
    if "enum" in prop:
        return json.dumps(prop["enum"][0])
    plain = {"integer": "1", "number": "1.5", "boolean": "true", "array": "[1]", "object": "{}"}
    return plain.get(kind, '"x"')


def hostile_bodies(body_schema: dict) -> list[tuple[str, str, bool]]:
    """``(field, JSON text, must refuse)``: the schema's required fields with plain values, one field
    hostile. It must be refused if the description forbids it (type, range, length, pattern) or it
    holds what no database stores (NUL, a lone surrogate); otherwise only "no 5xx, no partial write"
    apply (e.g. a described "at most 365000 days counts as ever")."""
    props = body_schema.get("properties", {})
    base = {k: _plain_value(props[k]) for k in body_schema.get("required", []) if k in props}
    result = [("the body", DEEP, True)]
    for name, prop in props.items():
        for value in hostile_values(prop):
            fields = {**base, name: value}
            text = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"
            result.append((name, text, _forbidden(value, prop)))
    return result


def _forbidden(text: str, prop: dict) -> bool:
    if "\\u0000" in text or "\\ud" in text or "[[[[" in text:
        return True
    value = json.loads(text)
    prop = {k: v for k, v in prop.items() if k != "nullable"}
    return not jsonschema.Draft4Validator(prop).is_valid(value)


def json_body_schema(operation) -> dict | None:
    """The operation's JSON request-body schema, if it is an inline object (no path parameters)."""
    definition = operation.definition.raw
    content = (definition.get("requestBody") or {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if not schema or "$ref" in json.dumps(schema) or "{" in operation.path:
        return None
    return schema


def fuzz_hostile(operation, base_url: str, headers: dict, writes: tuple[str, ...]) -> OperationRun:
    """Send every hostile body of :func:`hostile_bodies`: each must be rejected (4xx, or the SQL API's
    ``status: error``) without a 5xx and without changing the tables the operation writes."""
    run = OperationRun(f"hostile {operation.method.upper()} {operation.path}")
    start = time.perf_counter()
    for field_name, text, must_refuse in hostile_bodies(json_body_schema(operation) or {}):
        before = table_counts(writes) if writes else None
        response = requests.request(operation.method.upper(), base_url + operation.path,
                                    data=text.encode("utf-8", "surrogatepass"), timeout=120,
                                    headers={**headers, "Content-Type": "application/json"})
        run.calls += 1
        run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
        problem = None
        if response.status_code >= 500:
            problem = f"{response.status_code} for hostile {field_name}: {response.text[:300]}"
        elif not is_rejected(response):
            run.accepted += 1
            if must_refuse:
                problem = f"hostile {field_name} accepted ({response.status_code}): {text[:120]}"
        elif before is not None and table_counts(writes) != before:
            problem = f"hostile {field_name} rejected but tables changed"
        if problem and len(run.failures) < MAX_FAILURES_PER_OPERATION:
            run.failures.append(problem)
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


#: What the forked workers of :func:`fuzz_in_processes` read (set just before they are forked).
_FORKED: dict = {}


def _run_group(index: int) -> list[tuple[int, OperationRun]]:
    """In a worker process: fuzz the operations of group ``index``; ``(operation index, run)`` pairs."""
    st = _FORKED
    pairs = []
    try:
        for i in st["groups"][index]:
            op = st["ops"][i]
            writes = st["writes"].get(op.path, ())
            pairs.append((i, fuzz_operation(op, st["base_url"], st["headers"], st["examples"], writes)))
            if json_body_schema(op) is not None:
                pairs.append((i, fuzz_hostile(op, st["base_url"], st["headers"], writes)))
            if st["negative"] and has_inputs(op):
                pairs.append(
                    (
                        i,
                        fuzz_operation(
                            op, st["base_url"], st["headers"], st["negative"], writes, negative=True
                        ),
                    )
                )
    finally:
        connections.close_all()  # this worker's own database connection
    return pairs


def fuzz_in_processes(
    ops: list, base_url: str, headers: dict, examples: int, writes: dict, negative: int = 0, workers: int = 2
) -> list[tuple[object, OperationRun]]:
    """Fuzz ``ops`` in ``workers`` forked processes (while one waits for the server, another generates):
    ``examples`` valid requests each, then ``negative`` invalid ones. Returns ``(operation, run)`` pairs
    in the order of ``ops``. (Processes, not threads: Hypothesis's internals are not all thread-safe.)"""
    index = {id(op): i for i, op in enumerate(ops)}
    groups = [[index[id(op)] for op in group] for group in groups_by_tables(ops, writes)]
    _FORKED.update(
        ops=ops,
        groups=groups,
        base_url=base_url,
        headers=headers,
        examples=examples,
        writes=writes,
        negative=negative,
    )
    connections.close_all()  # a forked child must not share the parent's connection
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pairs = [pair for done in pool.imap_unordered(_run_group, range(len(groups))) for pair in done]
    return [(ops[i], run) for i, run in sorted(pairs, key=lambda pair: pair[0])]
