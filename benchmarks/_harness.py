"""Shared set-up for benchmarks: a throwaway PostgreSQL with the project's schema, Django pointed at it."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def django_on_throwaway_postgres(keep: str | None = None):
    """Start a fresh PostgreSQL cluster sized to the node (``pgsizing``), migrate it, yield it;
    stop and delete it afterwards.

    With ``keep`` (a folder), the cluster lives there instead and is only stopped afterwards, so a
    later run with the same ``keep`` finds its data again (``server.reused`` says whether it did).
    """
    from desctom.testing.services import ThrowawayPostgres

    server = ThrowawayPostgres() if keep is None else _kept_postgres(Path(keep))
    server.sizing = "node"  # benchmarks measure the settings `desctom up` would use on this node
    try:
        server.reused = not server.init()
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
        if "DJANGO_SETTINGS_MODULE" in os.environ:
            from django.db import connections

            connections.close_all()
        if keep is None:
            server.destroy()
        else:
            server.stop()


def _kept_postgres(base: Path):
    from desctom.localstack.postgres import LocalPostgres
    from desctom.localstack.procs import free_port

    base.mkdir(parents=True, exist_ok=True)
    return LocalPostgres(base / "pgdata", free_port(), "desctom", base / "pg_password", "desctom")


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
