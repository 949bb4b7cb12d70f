"""``desctom fakebroker``: classify alerts from Kafka with two fake classifiers (see streaming.fakebroker)."""

from __future__ import annotations

from confluent_kafka import KafkaException
from django.core.management.base import BaseCommand, CommandError

from desctom.elasticc2.workers.fakebroker import DEFAULT_GROUP, FakeBroker, FakeBrokerError


class Command(BaseCommand):
    help = ("A fake broker: reads ELAsTiCC2 alerts from Kafka and writes two brokerClassification messages "
            "per alert (FakeBroker v1.0: NugentClassifier and RandomSNType). At-least-once: offsets are "
            "committed once the classifications are acknowledged. Stops cleanly on SIGTERM/SIGINT.")

    def add_arguments(self, parser):
        parser.add_argument("--source", metavar="SERVERS",
                            help="Kafka bootstrap servers to read alerts from (default: the system's Kafka)")
        parser.add_argument("--alert-topics", nargs="+", required=True, metavar="T",
                            help="alert topics to read (they may not exist yet)")
        parser.add_argument("--dest", metavar="SERVERS",
                            help="Kafka bootstrap servers to write to (default: the system's Kafka)")
        parser.add_argument("--dest-topic", required=True, metavar="T",
                            help="topic for the classifications (created if missing)")
        parser.add_argument("--group", default=DEFAULT_GROUP,
                            help=f"consumer group id (default {DEFAULT_GROUP})")
        parser.add_argument("--seed", type=int, metavar="N", help="random seed for reproducible output")
        parser.add_argument("--max-alerts", type=int, metavar="N", help="stop after N alerts")
        parser.add_argument("--idle-exit", type=float, metavar="SECONDS",
                            help="stop after SECONDS without alerts")

    def handle(self, *args, **options):
        for name in ("max_alerts", "idle_exit"):
            if options[name] is not None and options[name] <= 0:
                raise CommandError(f"--{name.replace('_', '-')} must be positive")
        broker = FakeBroker(options["alert_topics"], options["dest_topic"], source=options["source"],
                            dest=options["dest"], group=options["group"], seed=options["seed"],
                            log=self._say)
        try:
            summary = broker.run(max_alerts=options["max_alerts"], idle_exit=options["idle_exit"])
        except (FakeBrokerError, KafkaException) as exc:
            raise CommandError(f"fakebroker: {exc}") from None
        self._say(summary.line())

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
