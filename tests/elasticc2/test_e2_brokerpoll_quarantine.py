"""A poison message never stops a stream; both ingest paths share one set of value rules.

Kafka: through the real poller on a real tansu; what breaks the rules or fails to store is moved to
``elasticc2_brokermessagequarantine`` (counted, its offset committed), the messages behind it stored.
HTTP PUT: the same values are refused with a 400 naming the field.
"""

import io
import json
import math
import uuid

import fastavro
import numpy as np
import pytest
from django.db import connection
from test_e2_api_brokermessages import message, pusher, put, stored_anything, taxonomy_back_afterwards  # noqa: F401
from test_e2_api_data import assert_error
from test_e2_brokerpoll import LEAVES, T0, classification, poll, produce, query

from desctom.survey import schemas

YEAR_10000 = 253_402_300_800_000  # ms of 10000-01-01
RULE = "milliseconds since 1970-01-01 UTC (a number from 0 to 32503680000000, before the year 3000)"
#: (field, value) of every silent-corruption value of issue 15
POISON = [("elasticcPublishTimestamp", -10**15), ("elasticcPublishTimestamp", 10**16),
          ("elasticcPublishTimestamp", 2**62), ("elasticcPublishTimestamp", YEAR_10000),
          ("brokerIngestTimestamp", 2**63 - 1), ("brokerIngestTimestamp", YEAR_10000),
          ("probability", math.nan), ("probability", 1.5)]


def expected(key: str, value) -> str:
    """The error both paths give for ``key`` = ``value`` (PUT prefixes ``message <index>: ``)."""
    if key == "probability":
        return f"classifications[0].probability must be a number from 0 to 1, not {json.dumps(value)}"
    return f"{key} must be {RULE}{' or null' if key == 'brokerIngestTimestamp' else ''}, not {value}"


def poisoned(i: int, key: str, value) -> bytes:
    """Message ``i`` of the poller tests with ``key`` set to ``value`` (bypassing any check)."""
    record = fastavro.schemaless_reader(io.BytesIO(classification(i)), schemas.broker_classification_schema())
    if key == "probability":
        record["classifications"][0]["probability"] = value
    else:
        record[key] = value
    return schemas.encode(schemas.broker_classification_schema(), record)


def status():
    return query("SELECT consumed, stored, skipped, quarantined, last_progress IS NOT NULL, "
                 "member_id IS NOT NULL, assigned, lag FROM elasticc2_brokerpollerstatus "
                 "WHERE broker = 'test'")[0]


@pytest.mark.django_db(transaction=True)
def test_poison_messages_are_quarantined_and_the_stream_goes_on(kafka_server):
    topic = f"poison-{uuid.uuid4().hex[:8]}"
    values = [classification(i) for i in range(200)]
    bad = {5 + 10 * k: p for k, p in enumerate(POISON)}
    for i, (key, value) in bad.items():
        values[i] = poisoned(i, key, value)
    values[150] = b"\x01\x02garbage"
    produce(kafka_server.bootstrap, topic, values)
    poll(kafka_server.bootstrap, topic, "--batch-size", "64")
    ok = [i for i in range(200) if i not in bad and i != 150]
    assert query("SELECT count(*), min(elasticcpublishtimestamp) >= '2025-01-01', "
                 "max(elasticcpublishtimestamp) < '2026-01-01' "
                 "FROM elasticc2_brokermessage") == [(len(ok), True, True)]
    assert query("SELECT count(*) FROM elasticc2_brokermessage WHERE 'NaN' = ANY(probability) "
                 "OR brokeringesttimestamp < '2000-01-01' OR brokeringesttimestamp > '2100-01-01'") == [(0,)]
    rows = query("SELECT broker, topicname, kafkapartition, kafkaoffset, msghdrtimestamp IS NOT NULL, error, "
                 "payload FROM elasticc2_brokermessagequarantine ORDER BY kafkaoffset")
    assert [r[3] for r in rows] == [*bad, 150]
    for (broker, t, part, offset, has_time, error, payload), poison in zip(rows, POISON, strict=False):
        assert (broker, t, part, has_time) == ("test", topic, 0, True)
        assert error == expected(*poison)
        assert bytes(payload) == values[offset]
    assert rows[-1][5] == "bad union index for brokerIngestTimestamp"  # the decoder's reason
    consumed, stored, skipped, quarantined, progress, member, assigned, lag = status()
    nbad = len(bad) + 1
    assert (consumed, stored, skipped, quarantined, progress) == (200, len(ok), nbad, nbad, True)
    assert json.loads(assigned) in ([], [f"{topic}[0]"]) and (lag is None or lag >= 0)  # measured every 10 s
    # read everything again (as after a crash): nothing doubles, in either table
    poll(kafka_server.bootstrap, topic, "--reset")
    assert query("SELECT (SELECT count(*) FROM elasticc2_brokermessage), "
                 "(SELECT count(*) FROM elasticc2_brokermessagequarantine)") == [(len(ok), len(bad) + 1)]


@pytest.mark.django_db(transaction=True)
def test_a_store_failure_of_one_row_loses_that_row_only(kafka_server):
    topic = f"onerow-{uuid.uuid4().hex[:8]}"
    produce(kafka_server.bootstrap, topic, [classification(i) for i in range(300)])
    with connection.cursor() as cur:  # PostgreSQL refuses one message of a batch
        cur.execute("ALTER TABLE elasticc2_brokermessage ADD CONSTRAINT test_no_1137 "
                    "CHECK (alert_id <> 1137)")
    try:
        poll(kafka_server.bootstrap, topic, "--batch-size", "300")
    finally:
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE elasticc2_brokermessage DROP CONSTRAINT test_no_1137")
    assert query("SELECT count(*), count(*) FILTER (WHERE alert_id = 1137) "
                 "FROM elasticc2_brokermessage") == [(299, 0)]
    rows = query("SELECT kafkaoffset, error FROM elasticc2_brokermessagequarantine")
    assert len(rows) == 1 and rows[0][0] == 137 and "test_no_1137" in rows[0][1], rows
    assert status()[:4] == (300, 299, 1, 1)
    assert query("SELECT count(*) FROM elasticc2_brokersourceids") == [(150,)]  # 1137's source has 1136 too


@pytest.mark.parametrize(("key", "value"), POISON, ids=[f"{k}={v}" for k, v in POISON])
def test_put_refuses_the_same_values(pusher, key, value):  # noqa: F811
    if key == "probability":
        msg = message(classifications=[{"classId": LEAVES[0], "probability": value}])
    else:
        msg = message(**{key: value})
    assert_error(put(pusher, json.dumps(msg, allow_nan=True)), 400, f"message 0: {expected(key, value)}")
    assert stored_anything() == (0, 0, 0)


def test_the_rules_bound_timestamps_inside_what_numpy_and_postgresql_hold():
    from desctom.elasticc2.models.messagerules import MAX_MS

    assert MAX_MS < 2**62 // 1000 and np.datetime64(MAX_MS, "ms").astype(object).year == 3000
    assert T0 < MAX_MS
