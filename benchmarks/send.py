"""Benchmark: ``send_elasticc2_alerts`` from the PPDB to Kafka, alerts/s end to end.

    .venv/bin/python benchmarks/send.py [--objects 100000] [--alerts 60000] [--nprocs 0 1 2] [--repeat 1]

Builds a synthetic survey (`desctom synth_survey`) in a throwaway PostgreSQL and starts a
throwaway tansu broker, then sends a window of simulated time holding ``--alerts`` alerts,
starting a third of the way into the survey, with ``send_elasticc2_alerts --do``: fetch,
reconstruction, Avro, produce, Kafka acknowledgements and marking in the database all count.
Each run gets fresh topics and the window's marks are cleared before it. Prints alerts/s per run.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from io import StringIO

from _harness import Timer, django_on_throwaway_postgres


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=60_000, help="about this many alerts in the window")
    parser.add_argument("--nprocs", type=int, nargs="+", default=[0], help="-n values to try")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--flush-every", type=int, default=1000)
    args = parser.parse_args()

    from desctom.testing.services import ThrowawayKafka

    kafka = ThrowawayKafka()
    kafka.start()
    failures = 0
    try:
        with django_on_throwaway_postgres():
            from django.core.management import call_command
            from django.db import connection

            print(f"building a synthetic survey of {args.objects:,} objects ...", flush=True)
            with Timer() as t:
                call_command("synth_survey", "--objects", str(args.objects), "--seed", "42")
            print(f"  done in {t.seconds:.0f} s", flush=True)
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM elasticc2_ppdbalert")
                total = cur.fetchone()[0]
                cur.execute("SELECT s.midpointtai FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                            "ON s.diasource_id = a.diasource_id ORDER BY s.midpointtai OFFSET %s LIMIT 1",
                            [total // 3])
                start = cur.fetchone()[0]
                cur.execute("SELECT s.midpointtai FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                            "ON s.diasource_id = a.diasource_id WHERE s.midpointtai >= %s "
                            "ORDER BY s.midpointtai OFFSET %s LIMIT 1", [start, args.alerts - 1])
                through = cur.fetchone()[0]
            print(f"survey: {total:,} alerts; window MJD {start:.4f} .. {through:.4f}", flush=True)
            print(f"load average before: {os.getloadavg()}", flush=True)
            results = []
            for _ in range(args.repeat):  # interleaved, so a warmer cache favours no setting
                for nprocs in args.nprocs:
                    rate, sent, ok = one_run(call_command, connection, kafka.bootstrap, (start, through),
                                             nprocs, args.flush_every)
                    failures += not ok
                    results.append((nprocs, sent, rate))
                    print(f"  -n {nprocs}: {sent:,} alerts in window, {rate:,.0f} alerts/s "
                          f"(load avg {os.getloadavg()[0]:.1f}){'' if ok else '  MISMATCH'}", flush=True)
    finally:
        kafka.destroy()
    print()
    for nprocs, sent, rate in results:
        print(f"send_elasticc2_alerts -n {nprocs}: {rate:8,.0f} alerts/s  ({sent:,} alerts, PPDB -> Kafka, "
              "acknowledged and marked)")
    return 1 if failures else 0


def one_run(call_command, connection, bootstrap, window, nprocs, flush_every) -> tuple[float, int, bool]:
    """Clear the window's marks, send it to fresh topics; (alerts/s, alerts sent, all marked?)."""
    start, through = window
    with connection.cursor() as cur:
        cur.execute("UPDATE elasticc2_ppdbalert a SET alertsenttimestamp = NULL "
                    "FROM elasticc2_ppdbdiasource s WHERE s.diasource_id = a.diasource_id "
                    "AND s.midpointtai BETWEEN %s AND %s "
                    "AND a.alertsenttimestamp IS NOT NULL", [start, through])
        cur.execute("VACUUM ANALYZE elasticc2_ppdbalert")
    tag = uuid.uuid4().hex[:8]
    out = StringIO()
    with Timer() as t:
        call_command("send_elasticc2_alerts", "--start-day", str(start), "-d", str(through), "--do",
                     "-k", bootstrap, "--wfd-topic", f"wfd-{tag}", "--ddf-full-topic", f"ddf-full-{tag}",
                     "--ddf-limited-topic", f"ddf-limited-{tag}", "-n", str(nprocs),
                     "-f", str(flush_every), stdout=out)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), count(a.alertsenttimestamp) FROM elasticc2_ppdbalert a "
                    "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id "
                    "WHERE s.midpointtai BETWEEN %s AND %s", [start, through])
        in_window, sent = cur.fetchone()
    print("   ", out.getvalue().strip().splitlines()[-1], flush=True)
    return sent / t.seconds, sent, sent == in_window


if __name__ == "__main__":
    sys.exit(main())
