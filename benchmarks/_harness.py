"""Shared set-up for benchmarks: a throwaway PostgreSQL with the project's schema, Django pointed at it."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager


@contextmanager
def django_on_throwaway_postgres():
    """Start a fresh PostgreSQL cluster, migrate it, yield; stop and delete it afterwards."""
    from desctom.testing.services import ThrowawayPostgres

    server = ThrowawayPostgres()
    try:
        server.init()
        server.start()
        os.environ["DATABASE_URL"] = server.url()
        os.environ.setdefault("DESCTOM_HOME", tempfile.mkdtemp(prefix="desctom-bench-"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "desctom.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield server
    finally:
        from django.db import connections

        connections.close_all()
        server.destroy()


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
