"""Broker-classification ingestion, Kafka -> PostgreSQL: the poller's rate against a Django baseline.

    .venv/bin/python benchmarks/ingest.py [--messages 1000000] [--baseline-messages 200000]

A throwaway PostgreSQL (migrated) and a throwaway tansu broker are started; ``--messages``
20-class ``brokerClassification`` messages (the fake broker's ``RandomSNType`` output for as
many distinct alerts) are produced to one topic with two partitions. Then, in the same run:

* **baseline**: consume with confluent-kafka, decode each message with fastavro, store with the
  ORM the way the original ``load_batch`` did (classifier lookup/creation, ``bulk_create`` of the
  source ids with ignore_conflicts, ``bulk_create`` of the messages), commit the offsets — on
  the first ``--baseline-messages`` messages; the tables are emptied afterwards;
* **desctom**: :class:`BrokerStreamConsumer` (vectorised decode, binary COPY, idempotent insert,
  DB commit then offset commit) on all messages.

Rates are messages per second from the first batch to the last commit (the consumer-group join,
a few seconds on tansu, is printed separately).
"""

from __future__ import annotations

import argparse
import datetime
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import django_on_throwaway_postgres  # noqa: E402

TOPIC = "bench-classifications"


def _alert_prefix(alert_id: int, source_id: int) -> bytes:
    """Just enough of an alert for the fake broker: its two leading longs."""
    from desctom.elasticc2.workers.fakebroker import zigzag_long

    return zigzag_long(alert_id) + zigzag_long(source_id)


def produce(servers: str, n: int) -> None:
    from desctom.elasticc2.workers.fakebroker import FakeBroker
    from desctom.survey.kafka import ensure_topics, make_producer

    ensure_topics(servers, [TOPIC], partitions=2)
    broker = FakeBroker(["unused"], TOPIC, source=servers, dest=servers, seed=1)
    producer = make_producer(servers)
    start = time.perf_counter()
    chunk = 50_000
    now_ms = int(time.time() * 1000)
    for lo in range(0, n, chunk):
        alerts = [(_alert_prefix(1_000_000 + i, 50_000_000 + i), now_ms)
                  for i in range(lo, min(n, lo + chunk))]
        for value in broker.classify(alerts)[1::2]:  # the 20-class RandomSNType messages
            while True:
                try:
                    producer.produce(TOPIC, value)
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(120) == 0
    print(f"produced {n:,} 20-class messages in {time.perf_counter() - start:.1f} s")


def baseline(servers: str, n: int) -> float:
    """The original's way: fastavro per message, ORM classifier lookups, bulk_create."""
    import fastavro
    from confluent_kafka import TopicPartition
    from django.db import transaction
    from django.db.models import Q

    from desctom.elasticc2.models import BrokerClassifier, BrokerMessage, BrokerSourceIds
    from desctom.survey.kafka import make_consumer
    from desctom.survey.schemas import broker_classification_schema

    schema = broker_classification_schema()
    consumer = make_consumer(servers, "bench-baseline")
    consumer.subscribe([TOPIC])
    done, first = 0, None
    while done < n:
        msgs = [m for m in consumer.consume(min(5000, n - done), 1.0) if m.error() is None]
        if not msgs:
            continue
        first = first or time.perf_counter()
        batch = [(m, fastavro.schemaless_reader(io.BytesIO(m.value()), schema)) for m in msgs]
        with transaction.atomic():
            keys = {(d["brokerName"], d["brokerVersion"], d["classifierName"], d["classifierParams"])
                    for _, d in batch}
            cond = Q()
            for b, v, c, p in keys:
                cond |= Q(brokername=b, brokerversion=v, classifiername=c, classifierparams=p)
            known = {(k.brokername, k.brokerversion, k.classifiername, k.classifierparams): k.classifier_id
                     for k in BrokerClassifier.objects.filter(cond)}
            missing = [BrokerClassifier(brokername=b, brokerversion=v, classifiername=c, classifierparams=p)
                       for b, v, c, p in keys - set(known)]
            for k in BrokerClassifier.objects.bulk_create(missing):
                known[(k.brokername, k.brokerversion, k.classifiername, k.classifierparams)] = k.classifier_id
            now = datetime.datetime.now(datetime.UTC)
            rows = []
            for m, d in batch:
                ts_type, ts = m.timestamp()
                rows.append(BrokerMessage(
                    streammessage_id=m.offset(), topicname=m.topic(), kafkapartition=m.partition(),
                    alert_id=d["alertId"], diasource_id=d["diaSourceId"],
                    msghdrtimestamp=(datetime.datetime.fromtimestamp(ts / 1000, datetime.UTC)
                                     if ts_type else None),
                    descingesttimestamp=now, elasticcpublishtimestamp=d["elasticcPublishTimestamp"],
                    brokeringesttimestamp=d["brokerIngestTimestamp"],
                    classifier_id=known[(d["brokerName"], d["brokerVersion"], d["classifierName"],
                                         d["classifierParams"])],
                    classid=[c["classId"] for c in d["classifications"]],
                    probability=[c["probability"] for c in d["classifications"]]))
            BrokerSourceIds.objects.bulk_create(
                [BrokerSourceIds(diasource_id=d["diaSourceId"]) for _, d in batch], ignore_conflicts=True)
            BrokerMessage.objects.bulk_create(rows)
        offsets = {}
        for m in msgs:
            key = (m.topic(), m.partition())
            offsets[key] = max(offsets.get(key, -1), m.offset())
        consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in offsets.items()],
                        asynchronous=False)
        done += len(msgs)
    seconds = time.perf_counter() - first
    consumer.close()
    print(f"baseline (fastavro + ORM bulk_create): {done:,} messages in {seconds:.1f} s "
          f"= {done / seconds:,.0f}/s")
    return done / seconds


def desctom_poller(servers: str, n: int, batch_size: int) -> float:
    from desctom.elasticc2.workers.brokerpoll.consumer import BrokerStreamConsumer
    from desctom.elasticc2.workers.brokerpoll.streams import BrokerStream

    stream = BrokerStream("bench", servers=servers, topics=[TOPIC], group="bench-desctom")
    consumer = BrokerStreamConsumer(stream, batch_size=batch_size, batch_timeout=0.5, idle_exit=5)
    marks: list[float] = []
    process = consumer._process

    def timed(messages):
        marks.append(time.perf_counter()) if not marks else None
        process(messages)
        marks[1:] = [time.perf_counter()]

    consumer._process = timed
    started = time.perf_counter()
    counts = consumer.run()
    assert counts.stored == n, f"stored {counts.stored:,} of {n:,}"
    seconds = marks[1] - marks[0]
    print(f"desctom poller: {counts.stored:,} messages in {seconds:.1f} s = {counts.stored / seconds:,.0f}/s "
          f"({counts.batches} batches; group join {marks[0] - started:.1f} s)")
    return counts.stored / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--baseline-messages", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=20_000)
    args = parser.parse_args()
    from desctom.testing.services import ThrowawayKafka

    kafka = ThrowawayKafka()
    kafka.start()
    try:
        with django_on_throwaway_postgres():
            from django.db import connection

            produce(kafka.bootstrap, args.messages)
            base = baseline(kafka.bootstrap, min(args.baseline_messages, args.messages))
            with connection.cursor() as cur:
                cur.execute("TRUNCATE elasticc2_brokermessage, elasticc2_brokersourceids, "
                            "elasticc2_brokerclassifier CASCADE")
            ours = desctom_poller(kafka.bootstrap, args.messages, args.batch_size)
            with connection.cursor() as cur:
                cur.execute("SELECT count(*), count(DISTINCT alert_id), pg_size_pretty("
                            "pg_total_relation_size('elasticc2_brokermessage')) FROM elasticc2_brokermessage")
                rows, alerts, size = cur.fetchone()
            print(f"stored rows {rows:,} (distinct alerts {alerts:,}), table with indexes {size}")
            print(f"RESULT ingest: {ours:,.0f} messages/s; baseline {base:,.0f} messages/s; "
                  f"ratio {ours / base:.1f}x")
    finally:
        kafka.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
