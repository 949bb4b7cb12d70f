"""Pollers in one Kafka consumer group: ingest rate with 1, 2 and 4 ``brokerpoll2`` processes.

    .venv/bin/python benchmarks/consumer_group.py [--messages 200000] [--processes 1,2,4]

A throwaway PostgreSQL (sized to the node, migrated) and a throwaway tansu are started;
``--messages`` 20-class ``brokerClassification`` messages of a simulated campaign (``_campaign.py``)
are produced once to a topic with 4 partitions. Then, for each number of processes N, the broker
message table is emptied and the real ``desctom brokerpoll2 --do-test --processes N`` (a new consumer
group each time) reads the whole topic; the rate is the messages stored from the first stored row
to the last (the group join before the first row is printed apart). Prints each rate, its ratio to
one process, and the load average.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import django_on_throwaway_postgres  # noqa: E402

TOPIC = "bench-group"
DESCTOM = str(Path(sys.executable).parent / "desctom")


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_group(conn, servers: str, processes: int, n: int, timeout: float) -> tuple[float, float]:
    """(messages/s, seconds before the first stored row) of N processes reading the whole topic."""
    conn.execute("TRUNCATE elasticc2_brokermessage, elasticc2_brokersourceids, elasticc2_brokerpollerstatus")
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=servers)
    command = [DESCTOM, "brokerpoll2", "--do-test", "--test-topic", TOPIC, "--test-server", servers,
               "--processes", str(processes), "-g", f"n{processes}-{time.time_ns()}", "--batch-size", "20000"]
    log = Path(os.environ["DESCTOM_HOME"]) / f"brokerpoll2-{processes}.log"
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    first = None
    try:
        while True:
            stored = conn.execute("SELECT count(*) FROM elasticc2_brokermessage").fetchone()[0]
            now = time.perf_counter()
            if stored and first is None:
                first, first_count = now, stored
            if stored >= n:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"brokerpoll2 exited with {proc.returncode}; see {log}")
            if now - started > timeout:
                raise RuntimeError(f"{processes} processes stored {stored:,} of {n:,} in {timeout:.0f} s")
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    return (n - first_count) / (now - first), first - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--processes", default="1,2,4", help="comma-separated numbers of processes")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run at most")
    args = parser.parse_args()
    counts = [int(x) for x in args.processes.split(",")]
    import psycopg
    from _campaign import produce

    from desctom.testing.services import ThrowawayKafka

    print(f"load average at start: {_loadavg()}")
    kafka = ThrowawayKafka()
    kafka.start()
    try:
        with django_on_throwaway_postgres() as server, \
                psycopg.connect(server.conninfo(), autocommit=True) as conn:
            produce(kafka.bootstrap, TOPIC, args.messages, 0, partitions=4)
            rates = {}
            for n in counts:
                rate, join = run_group(conn, kafka.bootstrap, n, args.messages, args.timeout)
                rates[n] = rate
                print(f"{n} process(es): {rate:,.0f} messages/s (group join {join:.1f} s); "
                      f"load average {_loadavg()}", flush=True)
    finally:
        kafka.destroy()
    base = rates[counts[0]]
    print("RESULT " + "; ".join(f"{n} processes {r:,.0f}/s ({r / base:.2f}x)" for n, r in rates.items())
          + f"; 4 partitions, {args.messages:,} messages; load average at the end: {_loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
