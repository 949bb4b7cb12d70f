"""Benchmark: the embedded broker's throughput with memory vs postgres storage.

    .venv/bin/python benchmarks/broker_storage.py [--messages 100000] [--previous 30] [--forced 80]

For each storage (``DESCTOM_KAFKA_STORAGE`` = ``memory``, ``postgres``) starts a throwaway tansu
(postgres: on a throwaway PostgreSQL cluster, database ``tansu``, as ``desctom up`` does), produces
``--messages`` ELAsTiCC2-sized Avro alerts (acks=all, 2 partitions), then consumes them all with a
fresh consumer group. Prints messages/s for both, their ratio, the size of the ``tansu`` database
and the load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from fakebroker import _alert_bytes

DISTINCT = 1000  # distinct encoded alerts, cycled (encoding 100,000 would time fastavro, not the broker)


def run(storage: str, values: list[bytes], n: int, pg) -> dict:
    from desctom.localstack.kafka import TANSU_DATABASE, LocalKafka, configure_storage
    from desctom.localstack.procs import free_port
    from desctom.survey.kafka import ensure_topics, make_consumer, make_producer

    broker = LocalKafka(free_port(), Path(tempfile.mkdtemp(prefix="desctom-bench-kafka-")) / "kafka.log")
    configure_storage(broker, storage, pg if storage == "postgres" else None)
    broker.start()
    try:
        topic = f"bench-{storage}-{int(time.time())}"
        ensure_topics(broker.bootstrap, [topic], partitions=2)
        producer = make_producer(broker.bootstrap)
        failures = []
        start = time.perf_counter()
        for i in range(n):
            while True:
                try:
                    producer.produce(topic, key=str(i).encode(), value=values[i % len(values)],
                                     on_delivery=lambda err, msg: err and failures.append(err))
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        producer.flush(600)
        produce_s = time.perf_counter() - start
        consumer = make_consumer(broker.bootstrap, f"bench-{storage}")
        consumer.subscribe([topic])
        got, start, first = 0, time.perf_counter(), None
        while got < n and time.perf_counter() - start < 900:
            batch = sum(1 for m in consumer.consume(1000, timeout=1.0) if not m.error())
            if batch and first is None:
                first = time.perf_counter()  # the group join is not throughput
            got += batch
        consume_s = time.perf_counter() - (first or start)
        consumer.close()
        size = None
        if storage == "postgres":
            import psycopg

            with psycopg.connect(pg.conninfo(TANSU_DATABASE)) as conn:
                size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        return {"produce": n / produce_s, "consume": got / consume_s, "consumed": got,
                "join_s": (first or start) - start,
                "failures": len(failures), "db_bytes": size}
    finally:
        broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--previous", type=int, default=30)
    parser.add_argument("--forced", type=int, default=80)
    args = parser.parse_args()
    from desctom.testing.services import ThrowawayPostgres

    make = _alert_bytes(args.previous, args.forced)
    values = [make(i) for i in range(DISTINCT)]
    size = sum(map(len, values)) / len(values)
    print(f"{args.messages:,} alerts of {size:,.0f} bytes on average, {os.cpu_count()} cores", flush=True)
    pg = ThrowawayPostgres()
    pg.init()
    pg.start()
    results = {}
    try:
        for storage in ("memory", "postgres"):
            r = results[storage] = run(storage, values, args.messages, pg)
            extra = f", database tansu {r['db_bytes'] / 1e6:,.0f} MB" if r["db_bytes"] else ""
            print(f"{storage:<9} produce {r['produce']:8,.0f} msg/s   consume {r['consume']:8,.0f} msg/s   "
                  f"({r['consumed']:,} consumed after a {r['join_s']:.1f} s group join, "
                  f"{r['failures']} failed deliveries{extra})", flush=True)
    finally:
        pg.destroy()
    mem, pgs = results["memory"], results["postgres"]
    print(f"postgres / memory: produce {pgs['produce'] / mem['produce']:.2f}, "
          f"consume {pgs['consume'] / mem['consume']:.2f}")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
