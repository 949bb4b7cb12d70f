"""Kafka clients configured once for the whole project (confluent-kafka / librdkafka).

Every producer and consumer of the alert cycle (sender, fake broker, broker poller, tests,
benchmarks) is made here, so the settings that matter live in one place:

* consumers use ``session.timeout.ms=6000`` / ``heartbeat.interval.ms=1000``: with librdkafka's
  defaults the embedded broker (tansu) takes ~23 s to complete the first group join;
* consumers never auto-commit: offsets are committed only after the data is safely stored;
* producers wait for every in-sync replica (``acks=all``) before a message counts as delivered.

Servers default to the system's own Kafka: ``KAFKA_BOOTSTRAP_SERVERS`` or the embedded broker
on ``DESCTOM_KAFKA_PORT``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic


def default_servers() -> str:
    """The bootstrap servers of the system's own Kafka (configuration, not a guess)."""
    from desctom.core import config

    return config.load().kafka_bootstrap


def make_producer(servers: str | None = None, **extra) -> Producer:
    """A producer batching for throughput (128 kB batches, 50 ms linger), acks from all replicas."""
    conf = {"bootstrap.servers": servers or default_servers(), "acks": "all",
            "batch.size": 131072, "linger.ms": 50, "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576, "message.max.bytes": 10_000_000,
            "socket.keepalive.enable": True}
    conf.update(extra)
    return Producer(conf)


def make_consumer(servers: str | None, group: str, **extra) -> Consumer:
    """A consumer in ``group`` reading from the earliest offset, with manual offset commits."""
    conf = {"bootstrap.servers": servers or default_servers(), "group.id": group,
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "enable.auto.offset.store": False, "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000, "fetch.max.bytes": 52_428_800,
            "max.partition.fetch.bytes": 10_485_760, "socket.keepalive.enable": True}
    conf.update(extra)
    return Consumer(conf)


def ensure_topics(servers: str | None, topics: Iterable[str], partitions: int = 1,
                  timeout: float = 30.0) -> list[str]:
    """Create the ``topics`` that do not exist yet; return those created.

    Partitions are fixed at creation (the embedded broker cannot add partitions later).
    """
    admin = AdminClient({"bootstrap.servers": servers or default_servers()})
    wanted = sorted(set(topics))
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1)
                                   for t in missing], operation_timeout=timeout)
    created = []
    for topic, future in futures.items():
        try:
            future.result(timeout=timeout)
            created.append(topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    _wait_for_metadata(admin, missing, timeout)
    return sorted(created)


def _wait_for_metadata(admin: AdminClient, topics: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        known = admin.list_topics(timeout=timeout).topics
        if all(t in known and not known[t].error for t in topics):
            return
        time.sleep(0.1)


def list_topics(servers: str | None = None, timeout: float = 10.0) -> list[str]:
    """Names of the topics on the server (internal ``__`` topics left out)."""
    admin = AdminClient({"bootstrap.servers": servers or default_servers()})
    return sorted(t for t in admin.list_topics(timeout=timeout).topics if not t.startswith("__"))
