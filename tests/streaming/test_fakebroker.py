"""The fake broker: classification messages without Kafka, then the run loop on the real tansu broker."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import uuid

import fastavro
import numpy as np
import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from django.core.management import call_command

from desctom.elasticc2.workers.fakebroker import RANDOM_CLASSES, FakeBroker, alert_ids, zigzag_long
from desctom.survey import schemas
from desctom.survey.kafka import ensure_topics, make_consumer, make_producer
from desctom.testing.paths import SHARED_DATA

PUBLISHED = fastavro.schema.load_schema(
    str(SHARED_DATA / "schema" / "elasticc.v0_9_1.brokerClassification.avsc"))
T0 = 1_700_000_000_000


def make_alert(alert_id: int, source_id: int, n_previous: int = 2) -> bytes:
    """A schemaless Avro alert with every part filled in."""
    def source(sid):
        return {"diaSourceId": sid, "diaObjectId": 42, "midPointTai": 60000.5, "filterName": "r",
                "ra": 10.0, "decl": -5.0, "psFlux": 123.0, "psFluxErr": 4.5, "snr": 27.0}

    record = {"alertId": alert_id, "diaSource": source(source_id),
              "prvDiaSources": [source(k + 1) for k in range(n_previous)],
              "prvDiaForcedSources": [{"diaForcedSourceId": 7, "diaObjectId": 42, "midPointTai": 59999.0,
                                       "filterName": "g", "psFlux": 1.0, "psFluxErr": 0.5}],
              "diaObject": {"diaObjectId": 42, "simVersion": "test", "ra": 10.0, "decl": -5.0,
                            "mwebv": 0.02, "hostgal_zphot": 0.3}}
    return schemas.encode(schemas.alert_schema(), record)


def decode(value: bytes) -> dict:
    return fastavro.schemaless_reader(io.BytesIO(value), PUBLISHED, return_record_name=False)


def ms(dt) -> int:
    return round(dt.timestamp() * 1000)


# -- without Kafka ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alert_id, source_id", [
    (0, 0), (1, -1), (63, 64), (127, 128), (2**31, 2**40 + 3), (2**63 - 1, -(2**63)), (1_000_000_123, 77)])
def test_leading_ids_equal_full_decoding(alert_id, source_id):
    value = make_alert(alert_id, source_id)
    full = schemas.decode(schemas.alert_schema(), value)
    assert alert_ids(value) == (full["alertId"], full["diaSource"]["diaSourceId"]) == (alert_id, source_id)
    assert zigzag_long(alert_id) == value[:len(zigzag_long(alert_id))]


def test_two_messages_per_alert_with_the_right_fields():
    broker = FakeBroker(["alerts"], "out", source="unused:1", dest="unused:1", seed=1)
    out = broker.classify([(make_alert(1001, 2002), T0 + 123)], ingest_ms=T0 + 5000)
    assert len(out) == 2
    nugent, rand = (decode(v) for v in out)
    for msg in (nugent, rand):
        assert (msg["alertId"], msg["diaSourceId"]) == (1001, 2002)
        assert ms(msg["elasticcPublishTimestamp"]) == T0 + 123
        assert ms(msg["brokerIngestTimestamp"]) == T0 + 5000
        assert (msg["brokerName"], msg["brokerVersion"]) == ("FakeBroker", "v1.0")
    assert (nugent["classifierName"], nugent["classifierParams"]) == ("NugentClassifier", "100%")
    assert nugent["classifications"] == [{"classId": 2222, "probability": 1.0}]
    assert (rand["classifierName"], rand["classifierParams"]) == ("RandomSNType", "Perfect")
    assert [c["classId"] for c in rand["classifications"]] == list(RANDOM_CLASSES)
    # The project's own schema reads the same bytes.
    assert schemas.decode(schemas.broker_classification_schema(), out[1])["classifications"] == \
        rand["classifications"]


def test_random_vectors_are_probabilities_over_20_classes():
    broker = FakeBroker(["alerts"], "out", source="unused:1", dest="unused:1", seed=2)
    out = broker.classify([(make_alert(i, i + 10), T0) for i in range(300)], ingest_ms=T0)
    assert len(out) == 600
    probs = np.array([[c["probability"] for c in decode(v)["classifications"]] for v in out[1::2]],
                     dtype=np.float32)
    assert probs.shape == (300, 20)
    assert (probs >= 0).all() and (probs <= 1).all()
    np.testing.assert_allclose(probs.sum(axis=1, dtype=np.float64), 1.0, atol=20 * np.finfo(np.float32).eps)
    assert len({tuple(row) for row in probs}) == 300


def test_seed_makes_output_reproducible():
    alerts = [(make_alert(i, 5 * i), T0 + i) for i in range(10)]
    whole = FakeBroker(["a"], "o", source="x:1", dest="x:1", seed=7).classify(alerts, ingest_ms=T0)
    chunked = FakeBroker(["a"], "o", source="x:1", dest="x:1", seed=7)
    parts = chunked.classify(alerts[:3], ingest_ms=T0) + chunked.classify(alerts[3:], ingest_ms=T0)
    other = FakeBroker(["a"], "o", source="x:1", dest="x:1", seed=8).classify(alerts, ingest_ms=T0)
    assert whole == parts
    assert whole[0::2] == other[0::2] and whole[1::2] != other[1::2]


def test_kafka_timestamp_is_the_publish_time_and_missing_one_falls_back_to_ingest():
    broker = FakeBroker(["a"], "o", source="x:1", dest="x:1", seed=3)
    out = broker.classify([(make_alert(1, 2), T0 - 9_999), (make_alert(3, 4), None)], ingest_ms=T0)
    stamps = [(ms(m["elasticcPublishTimestamp"]), ms(m["brokerIngestTimestamp"])) for m in map(decode, out)]
    assert stamps == [(T0 - 9_999, T0)] * 2 + [(T0, T0)] * 2
    assert broker.classify([]) == []


def test_malformed_alerts_are_skipped():
    broker = FakeBroker(["a"], "o", source="x:1", dest="x:1", seed=3)
    out = broker.classify([(None, T0), (b"", T0), (b"\x80\x80", T0), (make_alert(5, 6), T0)], ingest_ms=T0)
    assert [(m["alertId"], m["diaSourceId"]) for m in map(decode, out)] == [(5, 6), (5, 6)]
    assert broker.skipped == 3


# -- on the real broker -------------------------------------------------------------------------------


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _send(bootstrap: str, topic: str, ids: range) -> dict[int, int]:
    """Produce one alert per id (diaSourceId = 10 * id) with a known timestamp; return id -> timestamp."""
    producer = make_producer(bootstrap)
    stamps = {}
    for i in ids:
        stamps[i] = T0 + i
        producer.produce(topic, make_alert(i, 10 * i), timestamp=stamps[i])
    assert producer.flush(30) == 0
    return stamps


def _read(bootstrap: str, topic: str, want: int) -> list[dict]:
    """Decode the first ``want`` messages of ``topic`` (single partition)."""
    consumer = make_consumer(bootstrap, _name("reader"))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = []
    try:
        for _ in range(120):
            for msg in consumer.consume(want - len(got), timeout=0.5):
                assert msg.error() is None, msg.error()
                got.append(decode(msg.value()))
            if len(got) >= want:
                break
    finally:
        consumer.close()
    return got


def _check(messages: list[dict], stamps: dict[int, int]) -> None:
    """Exactly a Nugent and a RandomSNType message for each alert, with its ids and Kafka timestamp."""
    seen = sorted((m["alertId"], m["classifierName"]) for m in messages)
    assert seen == sorted((i, c) for i in stamps for c in ("NugentClassifier", "RandomSNType"))
    for m in messages:
        assert m["diaSourceId"] == 10 * m["alertId"]
        assert ms(m["elasticcPublishTimestamp"]) == stamps[m["alertId"]]


def test_command_classifies_commits_and_resumes(kafka_server):
    bootstrap, alerts, dest, group = kafka_server.bootstrap, _name("alerts"), _name("classes"), _name("g")
    ensure_topics(bootstrap, [alerts])
    stamps = _send(bootstrap, alerts, range(1, 31))
    args = ["--source", bootstrap, "--alert-topics", alerts, "--dest", bootstrap, "--dest-topic", dest,
            "--group", group, "--seed", "5", "--max-alerts", "20"]
    out = io.StringIO()
    call_command("fakebroker", *args, stdout=out)
    assert "20 alerts consumed, 40 classifications produced" in out.getvalue()
    _check(_read(bootstrap, dest, 40), {i: stamps[i] for i in range(1, 21)})

    # The same group resumes after the committed alerts: 21..30 were read but not used, 31..40 are new.
    stamps.update(_send(bootstrap, alerts, range(31, 41)))
    call_command("fakebroker", *args, stdout=io.StringIO())
    _check(_read(bootstrap, dest, 80), stamps)


def test_waits_for_a_topic_that_appears_later(kafka_server):
    bootstrap, early, late, dest = kafka_server.bootstrap, _name("early"), _name("late"), _name("classes")
    ensure_topics(bootstrap, [early])
    stamps = _send(bootstrap, early, range(1, 4))
    waiting = threading.Event()

    def log(line):
        if late in line and "does not exist" in line:
            waiting.set()

    broker = FakeBroker([early, late], dest, source=bootstrap, dest=bootstrap, group=_name("g"), log=log)
    result = {}
    thread = threading.Thread(target=lambda: result.update(summary=broker.run(max_alerts=6)))
    thread.start()
    try:
        assert waiting.wait(60)
        _read(bootstrap, dest, 6)  # the early alerts are classified (and committed) first
        ensure_topics(bootstrap, [late])
        stamps.update(_send(bootstrap, late, range(4, 7)))
        thread.join(120)
    finally:
        if thread.is_alive():
            broker.stop()
            thread.join(30)
    assert result["summary"].alerts == 6 and result["summary"].messages == 12
    _check(_read(bootstrap, dest, 12), stamps)


def test_sigterm_finishes_cleanly(kafka_server):
    bootstrap, alerts, dest = kafka_server.bootstrap, _name("alerts"), _name("classes")
    ensure_topics(bootstrap, [alerts])
    stamps = _send(bootstrap, alerts, range(1, 6))
    cmd = [sys.executable, "-m", "desctom.cli", "fakebroker", "--source", bootstrap, "--alert-topics", alerts,
           "--dest", bootstrap, "--dest-topic", dest, "--group", _name("g")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        _check(_read(bootstrap, dest, 10), stamps)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "stopped (SIGTERM): 5 alerts consumed, 10 classifications produced" in stdout
