"""``desctom live_simulate``: publish a simulated live Rubin stream (LSST alerts and DESC
BrokerMessages from fake brokers) to Kafka, night by night."""

from __future__ import annotations

import time

from confluent_kafka import KafkaException
from django.core.management.base import BaseCommand, CommandError

from desctom.live.workers.simulator import (
    DEFAULT_LIVE_START_MJD,
    LiveSurveySimulator,
    PublishResult,
    SimulatorError,
    SimulatorInterrupted,
    publish,
)


def _counts(result: PublishResult) -> str:
    return (f"{result.messages:,} messages ({result.alerts:,} alerts, {result.brokermessages:,} broker "
            f"messages, {result.bytes / 1e6:,.1f} MB)")


class Command(BaseCommand):
    help = ("Publish a simulated live Rubin stream to Kafka: LSST alerts (lsst.v11_0 / lsst.v11_1) of the "
            "synthetic survey's objects and DESC BrokerMessages from two fake brokers, with the hard cases "
            "(one source under two diaObjectIds, one alert from two brokers, late and out-of-order "
            "messages, a schema change mid-stream) unless --no-hard-cases. Deterministic for a seed; "
            "flushed after every night.")

    def add_arguments(self, parser):
        parser.add_argument("--objects", type=int, required=True, metavar="N",
                            help="objects with at least one detection in the simulated nights")
        parser.add_argument("--nights", type=int, default=10, metavar="K", help="nights (default 10)")
        parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
        parser.add_argument("--bootstrap", metavar="HOST:PORT",
                            help="Kafka bootstrap servers (default: the system's own Kafka)")
        parser.add_argument("--schemaless", action="store_true",
                            help="bare Avro bodies instead of the Confluent wire format (ids 1100 / 1101)")
        parser.add_argument("--no-hard-cases", action="store_true", help="a clean stream")
        parser.add_argument("--no-alerts", action="store_true",
                            help="send only the BrokerMessages, not the bare alerts")
        parser.add_argument("--topic-prefix", default="sim-", metavar="P",
                            help="topics are P + 'alerts' and P + broker name (default 'sim-')")
        parser.add_argument("--max-prv-sources", type=int, default=30, metavar="N",
                            help="previous detections per alert, at most (default 30)")
        parser.add_argument("--max-prv-forced", type=int, default=100, metavar="N",
                            help="previous forced sources per alert, at most (default 100)")
        parser.add_argument("--live-start-mjd", type=int, default=DEFAULT_LIVE_START_MJD, metavar="MJD",
                            help=f"MJD of the first night (default {DEFAULT_LIVE_START_MJD})")

    def handle(self, *args, **options):
        from desctom.survey.kafka import default_servers

        try:
            sim = LiveSurveySimulator(
                options["objects"], options["nights"], options["seed"],
                hard_cases=not options["no_hard_cases"], alerts=not options["no_alerts"],
                wire="schemaless" if options["schemaless"] else "confluent",
                topic_prefix=options["topic_prefix"], max_prv_sources=options["max_prv_sources"],
                max_prv_forced=options["max_prv_forced"], live_start_mjd=options["live_start_mjd"])
        except SimulatorError as exc:
            raise CommandError(str(exc)) from None
        bootstrap = options["bootstrap"] or default_servers()
        started = time.monotonic()
        self._say(f"simulating {sim.objects:,} objects over {sim.nights} nights (seed {sim.seed}) ...")
        try:
            counts = sim.truth().counts
        except SimulatorError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            raise CommandError("interrupted before anything was sent", returncode=130) from None
        self._say(f"{counts['alerts']:,} alerts and {counts['brokermessages']:,} broker messages to send "
                  f"to {bootstrap}, topics {', '.join(sim.topics())} (simulated in "
                  f"{time.monotonic() - started:.1f} s)")
        try:
            result = publish(sim, bootstrap, progress=self._progress)
        except SimulatorInterrupted as exc:
            raise CommandError(f"interrupted: sent and flushed {_counts(exc.result)}, {exc.result.nights} "
                               f"whole nights; the rest was not sent", returncode=130) from None
        except (KafkaException, RuntimeError) as exc:
            raise CommandError(f"Kafka at {bootstrap}: {exc}") from None
        self._say(f"done: {_counts(result)} in {result.nights} nights, {result.seconds:.1f} s "
                  f"({result.rate:,.0f} messages/s)")

    def _progress(self, night: int, result: PublishResult) -> None:
        self._say(f"night {night + 1}: {_counts(result)} so far, {result.rate:,.0f} messages/s")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
