"""``desctom update_metrics``: compute the campaign metrics into the ``metrics_*`` tables."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from desctom.metrics.workers.families import FAMILIES, MetricError, update_family


class Command(BaseCommand):
    help = ("Compute the metrics (alert stream, broker delays, completeness, confusion matrices, probability "
            "vs days from peak) from the database into the metrics tables, one transaction per family.")

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="+", choices=list(FAMILIES), metavar="NAME",
                            help=f"compute only these families (of: {', '.join(FAMILIES)})")
        parser.add_argument("--full", action="store_true",
                            help="recompute every day and week, not only the ones that may have changed")
        parser.add_argument("--loop", type=float, metavar="SECONDS",
                            help="repeat every SECONDS until SIGTERM or SIGINT; failures are reported and "
                                 "the next round tried")

    def handle(self, *args, **options):
        names = [n for n in FAMILIES if n in (options["only"] or FAMILIES)]
        every = options["loop"]
        if every is None:
            failed = self._round(names, options["full"])
            if failed:
                raise CommandError(f"metric families failed: {', '.join(failed)}")
            return
        if not every > 0:
            raise CommandError("--loop needs a positive number of seconds")
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._say(f"updating metrics every {every:g} s; SIGTERM or SIGINT stops")
            full = options["full"]
            while not stop.is_set():
                self._round(names, full)
                full = False
                connection.close_if_unusable_or_obsolete()
                stop.wait(every)
            self._say("stopped")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _round(self, names: list[str], full: bool) -> list[str]:
        """Update each family; returns the names of those that failed."""
        failed = []
        for name in names:
            self._say(f"{name}: computing ...")
            try:
                run = update_family(name, full=full)
            except MetricError as exc:
                self.stderr.write(str(exc))
                failed.append(name)
                continue
            self._say(f"{name}: {run.rows} rows ({run.note}) in {run.seconds:.2f} s")
        return failed

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
