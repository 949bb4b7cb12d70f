"""The embedded broker's storage: what survives a tansu restart with ``postgres``, what ``memory`` loses."""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request
import uuid

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from desctom.core import config
from desctom.localstack.kafka import (
    MEMORY_STORAGE,
    TANSU_DATABASE,
    LocalKafka,
    check_storage_setting,
    configure_storage,
    ensure_database,
    has_postgres_engine,
)
from desctom.localstack.objectstore import ObjectGateway
from desctom.localstack.procs import StackError, free_port
from desctom.survey.kafka import ensure_topics, make_consumer, make_producer

N = 1500


@pytest.fixture
def durable_broker(pg_server, tmp_path):
    """A tansu keeping its data in the session PostgreSQL's database ``tansu`` (as ``desctom up`` does)."""
    broker = LocalKafka(free_port(), tmp_path / "kafka.log")
    configure_storage(broker, "postgres", pg_server)
    broker.start()
    yield broker
    broker.stop()


def restart(broker: LocalKafka, sig: int) -> None:
    """Stop the broker process with ``sig`` (its object store stays) and start it again."""
    os.kill(broker.proc.pid, sig)
    broker.proc.wait(timeout=20)
    broker.proc = None
    broker.start()


def produce(bootstrap: str, topic: str, n: int, partitions: int = 2) -> dict[bytes, bytes]:
    """``n`` acknowledged (acks=all) records of ~3 kB; returns key -> value."""
    ensure_topics(bootstrap, [topic], partitions=partitions)
    producer = make_producer(bootstrap)
    sent, failures = {}, []
    for i in range(n):
        key, value = f"alert-{i}".encode(), os.urandom(1500).hex().encode()
        sent[key] = value
        producer.produce(topic, key=key, value=value,
                         on_delivery=lambda err, msg: err and failures.append(err))
        producer.poll(0)
    assert producer.flush(60) == 0
    assert failures == []
    return sent


def consume(bootstrap: str, topic: str, group: str, want: int, commit_at: int | None = None) -> list:
    """The records of ``topic`` as (key, value): ``want`` of them and any that come within 3 s after
    (duplicates); with ``commit_at``, only that many, their offsets committed."""
    consumer = make_consumer(bootstrap, group)
    consumer.subscribe([topic])
    got, idle = [], 0
    try:
        while idle < (20 if len(got) < want else 3):
            msg = consumer.poll(1.0)
            if msg is None:
                idle += 1
                continue
            assert msg.error() is None, msg.error()
            got.append((msg.key(), msg.value()))
            if commit_at is not None and len(got) == commit_at:
                consumer.commit(offsets=[TopicPartition(topic, msg.partition(), msg.offset() + 1)],
                                asynchronous=False)
                break
    finally:
        consumer.close()
    return got


# -- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [("", "auto"), ("MEMORY", "memory"), ("postgres", "postgres"),
                                           ("s3://bucket/", "s3://bucket/"),
                                           ("postgres://u:p@h:5432/db", "postgres://u:p@h:5432/db")])
def test_storage_setting_is_read(monkeypatch, raw, expected):
    monkeypatch.setenv("DESCTOM_KAFKA_STORAGE", raw)
    assert config.load().kafka_storage == expected


def test_bad_storage_setting_is_one_clear_error_without_the_password(monkeypatch):
    monkeypatch.setenv("DESCTOM_KAFKA_STORAGE", "mysql://u:secret@h/db")
    with pytest.raises(config.ConfigError, match="DESCTOM_KAFKA_STORAGE") as err:
        config.load()
    assert "secret" not in str(err.value)


def test_auto_without_embedded_postgres_is_memory(tmp_path):
    broker = LocalKafka(free_port(), tmp_path / "kafka.log")
    configure_storage(broker, "auto", None)
    assert broker.storage == MEMORY_STORAGE and broker.gateway is None
    with pytest.raises(StackError, match="needs the embedded PostgreSQL"):
        check_storage_setting("postgres", embedded_db=False)


def test_postgres_url_on_a_build_without_that_engine_is_a_clear_error(tmp_path):
    if has_postgres_engine():
        pytest.skip("this tansu build has the postgres engine")
    broker = LocalKafka(free_port(), tmp_path / "kafka.log", "postgres://u:secret@127.0.0.1:1/tansu")
    with pytest.raises(StackError, match="without the postgres storage engine") as err:
        broker.start()
    assert "secret" not in str(err.value)


# -- durability ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_acknowledged_records_survive_a_broker_restart(durable_broker, pg_server, sig):
    assert ensure_database(pg_server, TANSU_DATABASE) is False  # the fixture made it
    topic = f"durable-{uuid.uuid4().hex[:8]}"
    sent = produce(durable_broker.bootstrap, topic, N)
    restart(durable_broker, sig)
    got = consume(durable_broker.bootstrap, topic, f"fresh-{uuid.uuid4().hex[:8]}", N)
    assert len(got) == N  # no duplicates
    assert dict(got) == sent


def test_committed_group_offsets_survive_a_broker_restart(durable_broker):
    topic, group = f"offsets-{uuid.uuid4().hex[:8]}", f"half-{uuid.uuid4().hex[:8]}"
    sent = produce(durable_broker.bootstrap, topic, 400, partitions=1)
    first = consume(durable_broker.bootstrap, topic, group, 400, commit_at=200)
    assert len(first) == 200
    restart(durable_broker, signal.SIGKILL)
    rest = consume(durable_broker.bootstrap, topic, group, 200)
    assert len(rest) == 200
    assert {k for k, _ in first}.isdisjoint({k for k, _ in rest})
    assert dict(first + rest) == sent


def test_memory_storage_works_and_loses_topics_on_restart(tmp_path):
    broker = LocalKafka(free_port(), tmp_path / "kafka.log")
    configure_storage(broker, "memory")
    broker.start()
    try:
        topic = f"volatile-{uuid.uuid4().hex[:8]}"
        sent = produce(broker.bootstrap, topic, 100)
        assert dict(consume(broker.bootstrap, topic, "g1", 100)) == sent
        restart(broker, signal.SIGTERM)
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        assert topic not in admin.list_topics(timeout=10).topics
    finally:
        broker.stop()


# -- the object store itself --------------------------------------------------------------------

def _call(url: str, method: str = "GET", body: bytes | None = None, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_object_store_conditional_puts_ranges_and_listing(pg_server, tmp_path):
    ensure_database(pg_server, TANSU_DATABASE)
    gateway = ObjectGateway(pg_server.conninfo(TANSU_DATABASE), tmp_path / "store.log")
    gateway.start()
    base = f"{gateway.endpoint}/b-{uuid.uuid4().hex[:8]}"
    try:
        status, headers, _ = _call(f"{base}/a/one", "PUT", b"0123456789", If_None_Match="*")
        assert status == 200
        etag = headers["ETag"]
        assert _call(f"{base}/a/one", "PUT", b"other", If_None_Match="*")[0] == 412
        assert _call(f"{base}/a/one", "PUT", b"other", If_Match='"not-it"')[0] == 412
        assert _call(f"{base}/a/one", "PUT", b"abcdefghij", If_Match=etag)[0] == 200
        assert _call(f"{base}/a/one", Range="bytes=2-4")[::2] == (206, b"cde")
        assert _call(f"{base}/a/missing")[0] == 404
        _call(f"{base}/a/sub/two", "PUT", b"x")
        _call(f"{base}/b", "PUT", b"y")
        listing = _call(f"{base}?list-type=2&prefix=a/&delimiter=/")[2].decode()
        assert "<Key>a/one</Key>" in listing and "<Prefix>a/sub/</Prefix>" in listing
        assert "<Key>b" not in listing
        assert _call(f"{base}/a/one", "DELETE")[0] == 204
        assert _call(f"{base}/a/one")[0] == 404
    finally:
        gateway.stop()
