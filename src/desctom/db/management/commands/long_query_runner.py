"""``long_query_runner``: work through the queue of long SQL queries (reference §3.7)."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand, CommandError

from desctom.db.workers.long_query_runner import Runner


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = ("Run queued SQL queries as the read-only role and write their result files. "
            "Ctrl-C (or SIGTERM) stops at once and puts the running query back in the queue.")

    def add_arguments(self, parser):
        parser.add_argument("-o", "--once", action="store_true",
                            help="run at most one queued query, then exit")
        parser.add_argument("-l", "--loop", action="store_true", help="run queued queries forever")
        parser.add_argument("-p", "--prune", type=float, metavar="DAYS",
                            help="first delete queries (and their files) finished more than DAYS days ago")
        parser.add_argument("--sleep", type=float, default=5, metavar="SECONDS",
                            help="with --loop: longest wait when the queue is empty (default 5); a "
                                 "submitted query wakes the runner at once (LISTEN/NOTIFY)")

    def handle(self, *args, once=False, loop=False, prune=None, sleep=5, **options):
        if prune is not None and prune < 0:
            raise CommandError("--prune DAYS must not be negative")
        if sleep <= 0:
            raise CommandError("--sleep must be positive")
        if not (once or loop or prune is not None):
            raise CommandError("give --once, --loop and/or --prune DAYS")
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._run(once, loop, prune, sleep)
        finally:  # in-process callers (tests, call_command) get their own SIGTERM handling back
            signal.signal(signal.SIGTERM, previous)

    def _run(self, once: bool, loop: bool, prune: float | None, sleep: float) -> None:
        runner = Runner(connect=prune is not None or not loop)  # --loop alone waits for the database
        try:
            if prune is not None:
                rows, files = runner.prune(prune)
                self.stdout.write(f"pruned {rows} queries and {files} result files")
            if once:
                job = runner.run_once()
                self.stdout.write(f"ran query {job.queryid}" if job else "no queued query")
            elif loop:
                self.stdout.write("long-query runner: waiting for queued queries (Ctrl-C to stop)")
                self.stdout.flush()
                runner.serve(sleep)
        except KeyboardInterrupt:
            self.stdout.write("long-query runner: stopped")
        finally:
            runner.close()
