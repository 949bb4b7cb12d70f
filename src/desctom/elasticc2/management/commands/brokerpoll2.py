"""``desctom brokerpoll2``: pull broker classifications from Kafka into the database.

Streams come from a config file (``--config``, or ``DESCTOM_BROKER_CONFIG``; see
docs/alert-cycle.md) and/or the reference's presets (``--do-test``, ``--do-alerce``, ...).
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from desctom.elasticc2.workers.brokerpoll.streams import (
    MAX_PROCESSES,
    StreamConfigError,
    load_streams,
    preset_streams,
)
from desctom.elasticc2.workers.brokerpoll.supervisor import BrokerPollSupervisor


class Command(BaseCommand):
    help = "Consume broker classification streams (one supervised process per broker) into the database."

    def add_arguments(self, parser):
        parser.add_argument("--config", action="append", default=None,
                            help="broker streams file (TOML or YAML; may be given more than once); "
                                 "default $DESCTOM_BROKER_CONFIG")
        parser.add_argument("--do-test", action="store_true",
                            help="consume --test-topic on the system's Kafka")
        parser.add_argument("--test-topic", default="classifications")
        parser.add_argument("--test-server", default=None,
                            help="Kafka for --do-test (default: the system's own, KAFKA_BOOTSTRAP_SERVERS)")
        parser.add_argument("--do-alerce", action="store_true")
        parser.add_argument("--alerce-topic-pattern", default=None)
        parser.add_argument("--do-antares", action="store_true")
        parser.add_argument("--antares-topic", default=None)
        parser.add_argument("--do-fink", action="store_true")
        parser.add_argument("--fink-topic", default=None)
        parser.add_argument("--do-brahms", action="store_true")
        parser.add_argument("--brahms-topic", default=None)
        parser.add_argument("--do-pitt", action="store_true")
        parser.add_argument("--pitt-topic", default=None)
        parser.add_argument("--pitt-project", default=None)
        parser.add_argument("-g", "--grouptag", default=None, help="appended to the presets' group ids")
        parser.add_argument("-r", "--reset", action="store_true",
                            help="read every topic from its beginning once (stored messages are "
                                 "not duplicated)")
        parser.add_argument("--batch-size", type=int, default=5000, help="messages per database transaction")
        parser.add_argument("--batch-timeout", type=float, default=1.0, help="seconds to wait for a batch")
        parser.add_argument("--heartbeat-timeout", type=float, default=300.0,
                            help="restart a consumer silent for this many seconds")
        parser.add_argument("--processes", type=int, default=None,
                            help="poller processes per stream, all in the stream's one consumer group "
                                 "(overrides each stream's 'processes'; default: the stream's, else "
                                 "$DESCTOM_POLL_PROCESSES, else 1)")
        parser.add_argument("--idle-exit", type=float, default=None,
                            help="stop once no message arrived for this many seconds (tests, catch-up runs)")

    def handle(self, *args, **opts):
        streams = []
        try:
            env_config = os.environ.get("DESCTOM_BROKER_CONFIG")
            for path in opts["config"] or ([env_config] if env_config else []):
                streams += load_streams(path)
            streams += preset_streams(opts)
            for stream in streams:
                stream.client_config()  # secrets readable now, not after the first reconnect
        except StreamConfigError as exc:
            raise CommandError(str(exc)) from None
        if not streams:
            raise CommandError("No brokers given to listen to (use --config FILE or --do-test / "
                               "--do-<broker>).")
        names = [s.name for s in streams]
        if len(set(names)) != len(names):
            raise CommandError(f"broker names must be unique, got {', '.join(names)}")
        self._set_processes(streams, opts["processes"])
        for name, value in (("--batch-size", opts["batch_size"]), ("--batch-timeout", opts["batch_timeout"]),
                            ("--heartbeat-timeout", opts["heartbeat_timeout"])):
            if value <= 0:
                raise CommandError(f"{name} must be positive")
        db = settings.DATABASES["default"]
        options = {"batch_size": opts["batch_size"], "batch_timeout": opts["batch_timeout"],
                   "reset": opts["reset"], "idle_exit": opts["idle_exit"],
                   # the children use this very database (also when it is a test database)
                   "database": {k: db.get(k) for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}}
        supervisor = BrokerPollSupervisor(streams, options, heartbeat_timeout=opts["heartbeat_timeout"],
                                          out=self.stdout)
        self.stdout.write("brokerpoll2: polling " + ", ".join(
            s.name if s.processes == 1 else f"{s.name} ({s.processes} processes)" for s in streams))
        status = supervisor.run()
        if status:
            raise CommandError("brokerpoll2 stopped with errors")

    @staticmethod
    def _set_processes(streams, override: int | None) -> None:
        """Each stream's number of processes: ``--processes``, else its own, else the environment's."""
        from desctom.core import config

        if override is not None and not 1 <= override <= MAX_PROCESSES:
            raise CommandError(f"--processes must be from 1 to {MAX_PROCESSES}, got {override}")
        try:
            default = config.load().poll_processes
        except config.ConfigError as exc:
            raise CommandError(str(exc)) from None
        for stream in streams:
            stream.processes = override or stream.processes or default
