"""``desctom update_elasticc2_sources``: copy broker-classified objects and sources from the PPDB into
the local ("known") tables (reference §3.5; the work is in
:mod:`desctom.elasticc2.workers.source_updater`)."""

from __future__ import annotations

import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from desctom.elasticc2.workers.source_updater import ChunkFailed, UpdateRunning, update_known_tables

#: Source ids per transaction by default (whole objects per chunk, so a chunk may be a little larger).
DEFAULT_CHUNK = 50_000
#: Seconds between progress lines of a run of several chunks.
PROGRESS_EVERY = 10.0


class Command(BaseCommand):
    help = ("Copy the objects, sources and forced photometry (up to each object's latest known detection) "
            "of the source ids queued in elasticc2_brokersourceids from the PPDB into the local tables, "
            "update elasticc2_diaobjectinfo and the latest classifications, and dequeue them, in chunks of "
            "whole objects, each chunk one transaction.")

    def add_arguments(self, parser):
        parser.add_argument("--doall", action="store_true",
                            help="process every diasource_id of elasticc2_brokermessage instead of the queue "
                                 "(the queue is left alone)")
        parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, metavar="N",
                            help=f"about N source ids per transaction, whole objects "
                                 f"(default {DEFAULT_CHUNK:,}; 0: the whole queue in one transaction). "
                                 "SIGTERM or SIGINT stops after the "
                                 "current chunk; a killed run loses nothing, the rerun does what is left")
        parser.add_argument("--loop", type=float, metavar="SECONDS",
                            help="repeat the update every SECONDS until SIGTERM or SIGINT (the chunk in "
                                 "progress is finished first); errors are reported and the next run tried")

    def handle(self, *args, **options):
        doall, every, self.chunk = options["doall"], options["loop"], options["chunk"]
        self.verbosity = options["verbosity"]
        if self.chunk < 0:
            raise CommandError("--chunk must be >= 0")
        if every is not None and not every > 0:
            raise CommandError("--loop needs a positive number of seconds")
        self.stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {sig: signal.signal(sig, lambda *_: self.stop.set())
                        for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if every is None:
                result = self._once(doall)
                self._say(result.summary())
                if self.verbosity >= 2:
                    self._say(_time_by_step(result))
            else:
                self._loop(doall, every)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _loop(self, doall: bool, every: float) -> None:
        self._say(f"updating the known tables every {every:g} s; SIGTERM or SIGINT stops")
        last_idle_report = None
        while not self.stop.is_set():
            try:
                result = self._once(doall)
                if result.source_ids:
                    self._say(result.summary())
                    if self.verbosity >= 2:
                        self._say(_time_by_step(result))
                    last_idle_report = None
                elif last_idle_report is None or time.monotonic() - last_idle_report >= 3600:
                    self._say(f"{result.summary()} (an empty queue is reported once an hour)")
                    last_idle_report = time.monotonic()
            except CommandError as exc:
                self.stderr.write(f"update failed: {exc}")
            connection.close_if_unusable_or_obsolete()
            self.stop.wait(every)
        self._say("stopped")

    def _once(self, doall: bool):
        started = time.monotonic()
        last = [started]

        def progress(total, done: int, planned: int) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY or done >= planned:
                return
            last[0] = now
            rate = done / max(now - started, 1e-9)
            self._say(f"  {done:,} of {planned:,} source ids ({total.chunks:,} chunks committed, "
                      f"{rate:,.0f} ids/s, about {(planned - done) / max(rate, 1e-9):,.0f} s left)")

        try:
            return update_known_tables(doall=doall, chunk=self.chunk, progress=progress,
                                       stop=self.stop.is_set)
        except UpdateRunning as exc:
            raise CommandError(f"{exc}; nothing done") from None
        except ChunkFailed as exc:
            raise CommandError(f"update failed: {exc}") from None
        except DatabaseError as exc:
            raise CommandError(f"update failed, nothing was changed (rolled back): "
                               f"{' '.join(str(exc).split())}") from None

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()


def _time_by_step(result) -> str:
    """Where an update's time went (``-v 2``): seconds per step, summed over the chunks."""
    steps = ", ".join(f"{name} {sec:.2f} s" for name, sec in result.step_seconds.items() if name)
    return f"time by step: {steps}" if steps else "time by step: nothing done"
