"""schemathesis against a real server (gunicorn on the test database): every operation of /api/schema/,
authenticated as a superuser.

No 5xx, every answer as described (status, content type, body), no 5xx for invalid requests either,
and a rejected request never leaves a write behind. ``DESCTOM_FUZZ_EXAMPLES`` (default 100) and
``DESCTOM_FUZZ_NEGATIVE`` (default 20) set the valid and invalid requests per operation;
benchmarks/fuzz.sh runs the same with many more. See docs/api_openapi.md.
"""

from __future__ import annotations

import os
import re

import pytest
import requests
from fuzzing import (
    all_tables,
    fuzz_in_processes,
    gunicorn_on_test_database,
    has_inputs,
    load_schema,
    operations,
    table_counts,
    writes_by_path,
)

EXAMPLES = int(os.environ.get("DESCTOM_FUZZ_EXAMPLES", "100"))
#: Requests per operation that violate the schema (only "no 5xx" and the partial-write check apply).
NEGATIVE = int(os.environ.get("DESCTOM_FUZZ_NEGATIVE", "20"))
#: Only operations whose "METHOD /path" matches this regular expression (fuzz.sh's second argument).
ONLY = re.compile(os.environ.get("DESCTOM_FUZZ_ONLY", ""))
#: The TOM Toolkit's own REST API (third-party code, described by drf-spectacular) is not fuzzed.
TOM_TOOLKIT_PREFIXES = ("/api/", "/targets/")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(max(900, EXAMPLES * 12))]


def refill_taxonomies():
    from desctom.elasticc.models import ClassIdOfGentype as E1ClassIdOfGentype
    from desctom.elasticc.models import GentypeOfClassId as E1GentypeOfClassId
    from desctom.elasticc.models import taxonomy_tree as e1_taxonomy
    from desctom.elasticc2.models import ClassIdOfGentype, GentypeOfClassId
    from desctom.survey import taxonomy

    taxonomy.fill_tables(GentypeOfClassId, ClassIdOfGentype)
    e1_taxonomy.fill_tables(E1GentypeOfClassId, E1ClassIdOfGentype)


@pytest.fixture(scope="module", autouse=True)
def taxonomy_back_afterwards(django_db_setup, django_db_blocker):
    """The transactional test's flush empties every table; the tests after this module need the taxonomy."""
    yield
    with django_db_blocker.unblock():
        refill_taxonomies()


def load_campaign(base_url: str, headers: dict) -> None:
    """A small synthetic survey, broker classifications of its first alerts (PUT over HTTP), the
    known tables filled from them, and the SQL API's read-only role."""
    from django.db import connection

    from desctom.db.workers.roles import ensure_readonly_role
    from desctom.elasticc2.loaders.synth import synthesize
    from desctom.elasticc2.workers.source_updater import update_known_tables

    refill_taxonomies()
    synthesize(25, 11, first_id=1, workers=1)  # small ids: generated integers often hit them
    with connection.cursor() as cur:
        cur.execute("SELECT alert_id, diasource_id FROM elasticc2_ppdbalert ORDER BY alert_id LIMIT 40")
        alerts = cur.fetchall()
    assert alerts, "the synthetic survey made no alerts"
    messages = [
        {
            "alertId": a,
            "diaSourceId": s,
            "elasticcPublishTimestamp": 1.7e12,
            "brokerIngestTimestamp": 1.7e12,
            "brokerName": "FuzzBroker",
            "brokerVersion": "1",
            "classifierName": "c",
            "classifierParams": "p",
            "classifications": [
                {"classId": 2222, "probability": 0.75},
                {"classId": 2223, "probability": 0.25},
            ],
        }
        for a, s in alerts
    ]
    res = requests.put(f"{base_url}/elasticc2/brokermessage/", json=messages, headers=headers, timeout=60)
    assert res.status_code == 201, res.text
    update_known_tables(doall=True)
    ensure_readonly_role()


@pytest.fixture
def server(transactional_db, kafka_server, monkeypatch):
    # /healthz judges Kafka too: without a reachable broker it answers 503.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_server.bootstrap)
    with gunicorn_on_test_database() as url:
        yield url


def test_fuzz_every_operation(server, django_user_model):
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_superuser("fuzzer", password="fuzz-password-1")
    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
    base_url = server
    load_campaign(base_url, headers)
    schema = load_schema(base_url)
    writes = writes_by_path()
    before = table_counts(all_tables())

    def skip(op):
        return op.path.startswith(TOM_TOOLKIT_PREFIXES) or not ONLY.search(f"{op.method.upper()} {op.path}")

    runs = fuzz_in_processes(
        list(operations(schema, skip=skip)), base_url, headers, EXAMPLES, writes, NEGATIVE
    )

    after = table_counts(all_tables())
    summary = "\n".join(
        f"{r.label}: {r.calls} calls, {r.accepted} accepted, statuses {sorted(r.statuses.items())}, "
        f"{r.seconds:.1f} s"
        for _, r in runs
    )
    print(summary)
    print("\n".join(f"FAILURE {r.label}: {text[:400]}" for _, r in runs for text in r.failures))
    failures = [f"{r.label}:\n{text[:1500]}" for _, r in runs for text in r.failures]
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)

    positive = [r for _, r in runs if not r.label.startswith(("negative", "hostile"))]
    assert len(positive) >= (60 if not ONLY.pattern else 1), summary
    few = [
        r.label
        for op, r in runs
        if has_inputs(op) and not r.label.startswith(("negative", "hostile")) and r.calls < EXAMPLES
    ]
    assert not few, f"operations with fewer than {EXAMPLES} examples: {few}"
    assert all(r.calls >= 1 for _, r in runs if not r.label.startswith("negative"))
    hostile = [r for _, r in runs if r.label.startswith("hostile")]
    assert len(hostile) >= (20 if not ONLY.pattern else 0) and all(r.calls for r in hostile), summary

    # Only tables that an operation which accepted some calls may write have changed.
    allowed = {t for op, r in runs if r.accepted for t in writes.get(op.path, ())}
    changed = {t for t in before if before[t] != after.get(t)}
    assert changed <= allowed, f"tables changed without an accepted write: {sorted(changed - allowed)}"
