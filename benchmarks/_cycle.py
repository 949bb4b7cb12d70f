"""Shared by benchmarks: run the real alert cycle over a survey in the PPDB, up to a simulated time.

Each step is the command a campaign runs, against a throwaway tansu broker: ``send_elasticc2_alerts``
(PPDB -> Kafka, Avro), ``fakebroker`` (two classifications per alert, back to Kafka),
``brokerpoll2`` (Kafka -> ``elasticc2_brokermessage``) and ``update_elasticc2_sources`` (the known
tables, latest classifications, consensus; the packed photometry through its triggers). The
simulated clock advances ``chunk_days`` at a time, so the updater works incrementally, as in a
campaign.
"""

from __future__ import annotations

import uuid
from io import StringIO

from _harness import Timer


def run_alert_cycle(first: float, now: float, chunk_days: float = 30.0, sender_processes: int = 2) -> dict:
    """Send every alert with a detection up to ``now`` (from ``first``) through the whole cycle;
    returns the seconds spent per command. Prints one line per chunk."""
    from django.core.management import call_command

    from desctom.testing.services import ThrowawayKafka

    kafka = ThrowawayKafka()
    kafka.start()
    tag = uuid.uuid4().hex[:8]
    wfd, full, limited = f"wfd-{tag}", f"ddf-full-{tag}", f"ddf-limited-{tag}"
    classifications = f"classifications-{tag}"
    servers = kafka.bootstrap
    seconds = {"send": 0.0, "fakebroker": 0.0, "brokerpoll2": 0.0, "update": 0.0}
    try:
        through = first
        while through < now:
            through = min(now, through + chunk_days)
            steps = [
                ("send", "send_elasticc2_alerts",
                 ["-d", str(through), "--do", "-k", servers, "--wfd-topic", wfd, "--ddf-full-topic", full,
                  "--ddf-limited-topic", limited, "-n", str(sender_processes)]),
                ("fakebroker", "fakebroker",
                 ["--source", servers, "--dest", servers, "--alert-topics", wfd, full, "--dest-topic",
                  classifications, "--group", f"fakebroker-{tag}", "--seed", "7", "--idle-exit", "3"]),
                ("brokerpoll2", "brokerpoll2",
                 ["--do-test", "--test-topic", classifications, "--test-server", servers, "--idle-exit", "3",
                  "--batch-timeout", "0.5", "--batch-size", "20000"]),
                ("update", "update_elasticc2_sources", []),
            ]
            took = []
            for key, command, args in steps:
                with Timer() as t:
                    call_command(command, *args, stdout=StringIO(), stderr=StringIO())
                seconds[key] += t.seconds
                took.append(f"{key} {t.seconds:.0f} s")
            print(f"  clock at MJD {through:.1f}: " + ", ".join(took), flush=True)
    finally:
        kafka.destroy()
    return seconds
