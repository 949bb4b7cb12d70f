"""Broker-classification ingestion, Kafka -> PostgreSQL: the poller's rate against a Django baseline.

    .venv/bin/python benchmarks/ingest.py [--messages 1000000] [--baseline-messages 200000]
        [--prefill 20000000 --keep DIR]

A throwaway PostgreSQL (migrated) and a throwaway tansu broker are started; ``--messages``
20-class ``brokerClassification`` messages (the fake broker's ``RandomSNType`` output, four
classifiers per alert) are produced to one topic with two partitions. Then, in the same run:

* **baseline**: consume with confluent-kafka, decode each message with fastavro, store with the
  ORM the way the original ``load_batch`` did (classifier lookup/creation, ``bulk_create`` of the
  source ids with ignore_conflicts, ``bulk_create`` of the messages), commit the offsets — on
  the first ``--baseline-messages`` messages; the rows it stored are deleted afterwards;
* **desctom**: :class:`BrokerStreamConsumer` (vectorised decode, binary COPY, idempotent insert,
  DB commit then offset commit) on all messages.

Rates are messages per second from the first batch to the last commit (the consumer-group join,
a few seconds on tansu, is printed separately). The messages continue a simulated campaign
(``_campaign.py``: alert-ordered ids, 4 interleaved classifiers); ``--prefill N`` first stores N
earlier messages of it, and the rows the poller stored are COPYed again (binary, same table and
indexes) to measure the limit. ``--keep DIR`` keeps the cluster and its prefill between runs.
``--without-change-log`` switches the metrics' log of new messages off for the run (to measure
what it costs: run with and without).
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import django_on_throwaway_postgres  # noqa: E402

TOPIC = "bench-classifications"


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
    from desctom.elasticc2.workers.brokerpoll import consumer as module

    store, in_store = module.store_messages, [0.0]

    def timed_store(*args, **kwargs):  # the database part of each batch, apart
        t = time.perf_counter()
        try:
            return store(*args, **kwargs)
        finally:
            in_store[0] += time.perf_counter() - t

    module.store_messages = timed_store
    started = time.perf_counter()
    try:
        counts = consumer.run()
    finally:
        module.store_messages = store
    assert counts.stored == n, f"stored {counts.stored:,} of {n:,}"
    seconds = marks[1] - marks[0]
    print(f"desctom poller: {counts.stored:,} messages in {seconds:.1f} s = {counts.stored / seconds:,.0f}/s "
          f"({counts.batches} batches; group join {marks[0] - started:.1f} s; store_messages "
          f"{in_store[0]:.1f} s, the rest (Kafka, decode, commits) {seconds - in_store[0]:.1f} s)")
    return counts.stored / seconds


def copy_limit(conn, max_id: int, batch_size: int) -> float:
    """Binary COPY of the rows the poller stored, again, in batches: the rate PostgreSQL allows.

    The rows are read back (``COPY ... TO``), deleted (``VACUUM``), then COPYed into the same table
    with the same indexes, one transaction per batch, and removed again.
    """
    from _campaign import remove_after

    cols = ("streammessage_id, topicname, kafkapartition, alert_id, diasource_id, msghdrtimestamp, "
            "descingesttimestamp, elasticcpublishtimestamp, brokeringesttimestamp, classifier_id, "
            "classid, probability, postedby_id")
    lo, hi = conn.execute("SELECT min(brokermessage_id), max(brokermessage_id) FROM elasticc2_brokermessage "
                          "WHERE brokermessage_id > %s", (max_id,)).fetchone()
    chunks = []
    with conn.cursor() as cur:
        for first in range(lo, hi + 1, batch_size):
            buf = bytearray()
            with cur.copy(f"COPY (SELECT {cols} FROM elasticc2_brokermessage WHERE brokermessage_id "
                          f"BETWEEN {first} AND {first + batch_size - 1}) TO STDOUT (FORMAT BINARY)") as cp:
                for data in cp:
                    buf += data
            chunks.append(bytes(buf))
    n = conn.execute("SELECT count(*) FROM elasticc2_brokermessage WHERE brokermessage_id > %s",
                     (max_id,)).fetchone()[0]
    remove_after(conn, max_id)
    start = time.perf_counter()
    with conn.cursor() as cur:
        for data in chunks:
            with conn.transaction(), cur.copy(f"COPY elasticc2_brokermessage ({cols}) FROM STDIN "
                                              "(FORMAT BINARY)") as cp:
                cp.write(data)
    seconds = time.perf_counter() - start
    print(f"binary COPY limit: {n:,} rows in {seconds:.1f} s = {n / seconds:,.0f}/s "
          f"({len(chunks)} transactions)")
    remove_after(conn, max_id)
    return n / seconds


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--baseline-messages", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--prefill", type=int, default=0,
                        help="campaign messages stored before the timed part (alert-ordered keys)")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the cluster (and its prefill) in DIR for later runs")
    parser.add_argument("--without-change-log", action="store_true",
                        help="switch off the metrics' log of new messages (trigger metrics_log_messages_ins, "
                             "migration metrics 0005) for the run: what it costs, by comparison")
    parser.add_argument("--current-classifier-index", action="store_true",
                        help="prefill: keep the single-column classifier_id index (default: the "
                             "(classifier_id, descingesttimestamp) index planned to replace it)")
    args = parser.parse_args()
    import psycopg
    from _campaign import prefill, prefill_max_id, produce, remove_after, stored_prefill

    from desctom.testing.services import ThrowawayKafka

    print(f"load average at start: {_loadavg()}")
    kafka = ThrowawayKafka()
    kafka.start()
    try:
        with django_on_throwaway_postgres(args.keep) as server, \
                psycopg.connect(server.conninfo(), autocommit=True) as conn:
            names = ("shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size", "wal_compression")
            shown = [f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}" for name in names]
            print(f"cluster settings: {', '.join(shown)}")
            if stored_prefill(conn) != args.prefill:
                if args.prefill:
                    prefill(conn, args.prefill, future_classifier_index=not args.current_classifier_index)
                else:
                    conn.execute("DELETE FROM bench_prefill")
            else:
                print(f"reusing the prefill of {args.prefill:,} messages")
            max_id = prefill_max_id(conn)
            remove_after(conn, max_id)
            switch = "DISABLE" if args.without_change_log else "ENABLE"
            conn.execute(f"ALTER TABLE elasticc2_brokermessage {switch} TRIGGER metrics_log_messages_ins")
            print(f"metrics' change log of new messages: {'off' if args.without_change_log else 'on'}")
            indexes = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = "
                                                  "'elasticc2_brokermessage'")]
            print("indexes:\n  " + "\n  ".join(indexes))
            produce(kafka.bootstrap, TOPIC, args.messages, args.prefill)
            print(f"load average before the timed part: {_loadavg()}")
            base = baseline(kafka.bootstrap, min(args.baseline_messages, args.messages))
            remove_after(conn, max_id)
            ours = desctom_poller(kafka.bootstrap, args.messages, args.batch_size)
            rows, size = conn.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size("
                                      "'elasticc2_brokermessage')) FROM elasticc2_brokermessage").fetchone()
            print(f"table rows {rows:,} (prefill {args.prefill:,}), table with indexes {size}")
            limit = copy_limit(conn, max_id, args.batch_size)
            conn.execute("ALTER TABLE elasticc2_brokermessage ENABLE TRIGGER metrics_log_messages_ins")
            print(f"load average at the end: {_loadavg()}")
            log = "without" if args.without_change_log else "with"
            print(f"RESULT ingest ({log} the change log): {ours:,.0f} messages/s into a table of "
                  f"{args.prefill:,}; baseline "
                  f"{base:,.0f} messages/s; ratio {ours / base:.1f}x; binary COPY limit {limit:,.0f}/s; "
                  f"fraction of the limit {ours / limit:.0%}")
    finally:
        kafka.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
