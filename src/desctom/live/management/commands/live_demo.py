"""``desctom live_demo``: the demo's live Rubin stream, one simulated night every ``--night-seconds``.

Run by ``desctom up --demo`` beside the ELAsTiCC2 campaign. It publishes the live-survey simulator's
nights (LSST alerts and two fake brokers' BrokerMessages, hard cases included) to the system's Kafka,
where the broker poller reads them into the live tables. After each night is flushed its number goes
to a state file, so a restarted demo goes on with the next night; once every night is sent it stays
idle (a supervised service that exits would be started again). A night interrupted half-way is sent
again whole: the sources are stored once, the re-sent messages add provenance rows (demo only).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from desctom.live.workers.simulator import LiveSurveySimulator, SimulatorError


def live_demo_topics(prefix: str) -> list[tuple[str, str, str]]:
    """``(stream name, topic, format)`` of the demo's live streams (what the poller must read)."""
    from desctom.live.workers.simulator import DEFAULT_CLASSIFIERS

    streams = [("live-alerts", f"{prefix}alerts", "lsst-alert")]
    streams += [(f"live-{c.broker}", f"{prefix}{c.broker}", "desc-brokermessage")
                for c in DEFAULT_CLASSIFIERS]
    return streams


class Command(BaseCommand):
    help = "Publish the demo's live Rubin stream, one simulated night every --night-seconds, then idle."

    def add_arguments(self, parser):
        parser.add_argument("--objects", type=int, default=300)
        parser.add_argument("--nights", type=int, default=60)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--night-seconds", type=float, default=20.0)
        parser.add_argument("--topic-prefix", default="live-")
        parser.add_argument("--bootstrap", default=None, help="Kafka (default: the system's own)")
        parser.add_argument("--state", default=None,
                            help="state file (default: $DESCTOM_HOME/live-demo-state.json)")

    def handle(self, *args, **o):
        from desctom.survey.kafka import default_servers, ensure_topics, make_producer

        if o["night_seconds"] <= 0:
            raise CommandError("--night-seconds must be positive")
        state_path = Path(o["state"] or Path(os.environ.get("DESCTOM_HOME", ".")) / "live-demo-state.json")
        key = {"objects": o["objects"], "nights": o["nights"], "seed": o["seed"], "prefix": o["topic_prefix"]}
        done = -1
        if state_path.exists():
            try:
                state = json.loads(state_path.read_text())
                done = state["night"] if state.get("stream") == key else -1
            except (ValueError, KeyError, TypeError):
                done = -1
        try:
            sim = LiveSurveySimulator(o["objects"], o["nights"], o["seed"], topic_prefix=o["topic_prefix"])
        except SimulatorError as exc:
            raise CommandError(str(exc)) from None
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        bootstrap = o["bootstrap"] or default_servers()
        ensure_topics(bootstrap, sim.topics())
        producer = make_producer(bootstrap)
        self._say(f"live demo: {o['objects']} objects, {o['nights']} nights; nights sent before: {done + 1}")
        for night, messages in sim.iter_nights():
            if stop:
                return
            if night <= done:
                continue
            for m in messages:
                producer.produce(m.topic, m.value, key=m.key)
                producer.poll(0)
            if producer.flush(60):
                raise CommandError("Kafka did not take the night's messages within 60 s")
            state_path.write_text(json.dumps({"stream": key, "night": night}))
            self._say(f"night {night + 1}/{o['nights']}: {len(messages)} messages")
            end = time.monotonic() + o["night_seconds"]
            while time.monotonic() < end and not stop:
                time.sleep(0.2)
        self._say("every night sent; idle")
        while not stop:
            time.sleep(1)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
