"""``desctom update_elasticc2_sources``: copy broker-classified objects and sources from the PPDB into
the local ("known") tables (reference §3.5; the work is in
:mod:`desctom.elasticc2.workers.source_updater`)."""

from __future__ import annotations

import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from desctom.elasticc2.workers.source_updater import UpdateRunning, update_known_tables


class Command(BaseCommand):
    help = ("Copy the objects, sources and forced photometry (up to each object's latest known detection) "
            "of the source ids queued in elasticc2_brokersourceids from the PPDB into the local tables, "
            "update elasticc2_diaobjectinfo and empty the queue, all in one transaction.")

    def add_arguments(self, parser):
        parser.add_argument("--doall", action="store_true",
                            help="process every diasource_id of elasticc2_brokermessage instead of the queue "
                                 "(the queue is left alone)")
        parser.add_argument("--loop", type=float, metavar="SECONDS",
                            help="repeat the update every SECONDS until SIGTERM or SIGINT (a run in progress "
                                 "is finished first); errors are reported and the next run tried")

    def handle(self, *args, **options):
        doall, every = options["doall"], options["loop"]
        if every is None:
            self._say(self._once(doall).summary())
            return
        if not every > 0:
            raise CommandError("--loop needs a positive number of seconds")
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._say(f"updating the known tables every {every:g} s; SIGTERM or SIGINT stops")
            last_idle_report = None
            while not stop.is_set():
                try:
                    result = self._once(doall)
                    if result.source_ids:
                        self._say(result.summary())
                        last_idle_report = None
                    elif last_idle_report is None or time.monotonic() - last_idle_report >= 3600:
                        self._say(f"{result.summary()} (an empty queue is reported once an hour)")
                        last_idle_report = time.monotonic()
                except CommandError as exc:
                    self.stderr.write(f"update failed: {exc}")
                connection.close_if_unusable_or_obsolete()
                stop.wait(every)
            self._say("stopped")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _once(self, doall: bool):
        try:
            return update_known_tables(doall=doall)
        except UpdateRunning as exc:
            raise CommandError(f"{exc}; nothing done") from None
        except DatabaseError as exc:
            raise CommandError(f"update failed, nothing was changed (rolled back): "
                               f"{' '.join(str(exc).split())}") from None

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
