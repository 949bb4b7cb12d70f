"""``elasticc2_brokermessage`` plain vs hash-partitioned by classifier: ingest and reads, same run, same data.

    .venv/bin/python benchmarks/partitioning.py [--prefill 5000000] [--classifiers 32]
        [--partitions 8] [--messages 200000] [--repeat 5] [--keep DIR]

A throwaway PostgreSQL (sized to the node) gets ``--prefill`` messages of a simulated campaign
(``_campaign.py``: alert-ordered keys, ``--classifiers`` interleaved classifiers; ELAsTiCC2 had a few
dozen). Then, on the plain table and again after ``partition_brokermessage --partitions N``
(the conversion itself is timed too):

* **ingest**: ``--messages`` new 20-class messages through the poller's store path
  (:func:`~desctom.elasticc2.workers.brokerstore.store_messages`, batches of 20,000, one commit each),
  removed afterwards;
* **reads**, median of ``--repeat`` runs: the classifiers page's query
  (:func:`~desctom.elasticc2.queries.classifiers.classifier_table`), a user's SQL over one classifier
  (count and mean top probability over all its messages; the same over its last day), the source
  updater's lookup of 2,000 source ids, the API's lookup of 100 alerts.

The plain table is measured twice, before and after (converted back), so the order of the runs does
not decide; the ratio is partitioned against the better plain figure (below 1 for times, above 1 for
the ingest rate: partitioning is faster). The load average is printed along.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _campaign  # noqa: E402
from _harness import django_on_throwaway_postgres  # noqa: E402

READS = {
    "user SQL: one classifier, all messages": (
        "SELECT count(*), avg(probability[1]) FROM elasticc2_brokermessage WHERE classifier_id = %(cid)s"),
    "user SQL: one classifier, last day": (
        "SELECT count(*), avg(probability[1]) FROM elasticc2_brokermessage WHERE classifier_id = %(cid)s "
        "AND descingesttimestamp > %(since)s"),
    "updater: messages of 2,000 sources": (
        "SELECT diasource_id, classifier_id, classid FROM elasticc2_brokermessage "
        "WHERE diasource_id = ANY(%(sources)s)"),
    "API: messages of 100 alerts": (
        "SELECT * FROM elasticc2_brokermessage WHERE alert_id = ANY(%(alerts)s) ORDER BY brokermessage_id"),
}


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _median_seconds(run, repeat: int) -> float:
    run()  # warm the cache: both forms are measured warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reads(conn, repeat: int) -> dict[str, float]:
    """Median seconds of each read on the table as it is now."""
    from django.db import connection as django_connection

    from desctom.elasticc2.queries.classifiers import classifier_table

    cid, since, top = conn.execute(
        "SELECT classifier_id, max(descingesttimestamp) - interval '1 day', max(alert_id) "
        "FROM elasticc2_brokermessage GROUP BY classifier_id ORDER BY classifier_id LIMIT 1").fetchone()
    params = {"cid": cid, "since": since, "alerts": list(range(top - 5000, top - 4900)),
              "sources": list(range(top - 100_000 + _campaign.SOURCE0 - _campaign.ALERT0,
                                    top - 98_000 + _campaign.SOURCE0 - _campaign.ALERT0))}
    figures = {"classifiers page query": _median_seconds(lambda: classifier_table(django_connection), repeat)}
    for name, sql in READS.items():
        figures[name] = _median_seconds(lambda sql=sql: conn.execute(sql, params).fetchall(), repeat)
    return figures


def ingest(conn, first_message: int, n: int) -> float:
    """Messages per second of the poller's store path for campaign messages first_message.. (then removed)."""
    from desctom.elasticc2.workers.brokerstore import MessageBatch, store_messages
    from desctom.elasticc2.workers.fakebroker import RANDOM_CLASSES

    keys = _campaign.classifier_keys()
    k = len(keys)
    classes = [{"classId": c, "probability": 1.0 / len(RANDOM_CLASSES)} for c in RANDOM_CLASSES]
    t0 = int(time.time() * 1000)
    batches = []
    for lo in range(first_message, first_message + n, 20_000):
        batch = MessageBatch()
        for m in range(lo, min(lo + 20_000, first_message + n)):
            alert = m // k
            broker, version, name, params = keys[m % k]
            batch.add({"alertId": _campaign.ALERT0 + alert, "diaSourceId": _campaign.SOURCE0 + alert,
                       "elasticcPublishTimestamp": t0 + m, "brokerIngestTimestamp": t0 + m + 10,
                       "brokerName": broker, "brokerVersion": version, "classifierName": name,
                       "classifierParams": params, "classifications": classes},
                      topic="bench-partitioning", offset=m, partition=0, header_ms=t0 + m + 11)
        batches.append(batch)
    start = time.perf_counter()
    for batch in batches:
        with conn.transaction():
            store_messages(conn, batch)
    return n / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=5_000_000)
    parser.add_argument("--classifiers", type=int, default=32)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR", help="keep the cluster (and its prefill) in DIR")
    args = parser.parse_args()
    _campaign.CLASSIFIERS = args.classifiers
    import psycopg

    print(f"load average at start: {_loadavg()}")
    with django_on_throwaway_postgres(args.keep) as server, \
            psycopg.connect(server.conninfo(), autocommit=True) as conn:
        from desctom.elasticc2.workers import partitioning

        with conn.transaction(), conn.cursor() as cur:  # a kept cluster left partitioned by a killed run
            if partitioning.partition_count(cur):
                partitioning.to_plain(cur, progress=lambda _: None)
        if _campaign.stored_prefill(conn) != args.prefill:
            _campaign.prefill(conn, args.prefill)
        max_id = _campaign.prefill_max_id(conn)
        _campaign.remove_after(conn, max_id)
        results: dict[str, dict[str, float]] = {}
        for form in ("plain", "partitioned", "plain again"):  # plain twice: the order must not decide
            if form != "plain":
                start = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur:
                    if form == "partitioned":
                        partitioning.to_partitioned(cur, args.partitions, progress=lambda t: print("  " + t))
                    else:
                        partitioning.to_plain(cur, progress=lambda t: print("  " + t))
                conn.execute(f"VACUUM ANALYZE {partitioning.TABLE}")
                print(f"converted {args.prefill:,} rows to {form} in {time.perf_counter() - start:.0f} s")
            figures = reads(conn, args.repeat)
            figures["ingest (messages/s)"] = ingest(conn, args.prefill, args.messages)
            _campaign.remove_after(conn, max_id)
            size = conn.execute("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
                                "WHERE c.relname = 'elasticc2_brokermessage' OR c.relname LIKE "
                                "'elasticc2_brokermessage\\_p%' AND c.relkind = 'r'").fetchone()[0]
            print(f"{form}: table with indexes {size}; load average {_loadavg()}")
            results[form] = figures
    print(f"\n{'figure':40} {'plain':>10} {'plain again':>12} {'partitioned':>12} {'ratio':>7}")
    for name, plain in results["plain"].items():
        again, part = results["plain again"][name], results["partitioned"][name]
        if name.startswith("ingest"):  # ratio against the better plain figure: partitioning's worst case
            ratio, shown = part / max(plain, again), [f"{v:,.0f}" for v in (plain, again, part)]
        else:
            ratio, shown = part / min(plain, again), [f"{v * 1000:,.1f} ms" for v in (plain, again, part)]
        print(f"{name:40} {shown[0]:>10} {shown[1]:>12} {shown[2]:>12} {ratio:>6.2f}x")
    print(f"RESULT {args.prefill:,} messages, {args.classifiers} classifiers, {args.partitions} partitions; "
          f"load average at the end: {_loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
