"""The real services the suite stands on: PostgreSQL through Django, Kafka through confluent-kafka."""

import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from django.contrib.auth.models import Group
from django.db import connection


@pytest.mark.django_db
def test_model_round_trip_in_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        assert cur.fetchone()[0].startswith("PostgreSQL")
    group = Group.objects.create(name="round-trip ünïcode")
    fetched = Group.objects.get(pk=group.pk)
    assert fetched.name == "round-trip ünïcode"


def _consumer(bootstrap, group):
    return Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
    })


def _drain(consumer, want, timeout=30):
    import time

    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            raise KafkaException(msg.error())
        got.append(msg)
    return got


def test_produce_and_consume_with_committed_offsets(kafka_server):
    bootstrap = kafka_server.bootstrap
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
        fut.result(timeout=15)

    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(10):
        producer.produce(topic, key=str(i).encode(), value=f"message {i}".encode())
    assert producer.flush(15) == 0

    group = f"group-{uuid.uuid4().hex[:8]}"
    consumer = _consumer(bootstrap, group)
    consumer.subscribe([topic])
    first = _drain(consumer, 10)
    assert [m.value().decode() for m in first] == [f"message {i}" for i in range(10)]
    consumer.commit(asynchronous=False)
    committed = consumer.committed([TopicPartition(topic, 0)], timeout=10)
    assert committed[0].offset == 10
    consumer.close()

    for i in range(10, 13):
        producer.produce(topic, value=f"message {i}".encode())
    assert producer.flush(15) == 0

    # The same group resumes after its committed offset: only the new messages arrive.
    again = _consumer(bootstrap, group)
    again.subscribe([topic])
    second = _drain(again, 3)
    assert [m.value().decode() for m in second] == ["message 10", "message 11", "message 12"]
    assert _drain(again, 1, timeout=2) == []
    again.close()
