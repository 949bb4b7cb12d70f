"""The metric families and how one is brought up to date (one transaction each)."""

from __future__ import annotations

import time
import zlib

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from desctom.metrics.models import MetricRun
from desctom.metrics.queries import alertstream, completeness, confusion, delays, probvstime

#: name -> module with NAME, TITLE and compute(cursor, full) -> (rows, note); in run order.
FAMILIES = {m.NAME: m for m in (alertstream, delays, completeness, confusion, probvstime)}


class MetricError(Exception):
    """Computing one family failed (the message names it); nothing of that family was changed."""


def update_family(name: str, full: bool = False) -> MetricRun:
    """Bring one family up to date in one transaction and record when; a concurrent run of it waits.

    A family never computed (no :class:`MetricRun` row: a new database, a reset, a migration that
    dropped its results) is computed in full. A family whose module sets ``SNAPSHOT = True`` reads
    its change logs and the tables they name in one snapshot (REPEATABLE READ, taken after the lock),
    so a change that commits during the run is neither half-seen nor lost: the next run takes it.
    """
    module = FAMILIES[name]
    started = time.perf_counter()
    key = zlib.crc32(f"metrics:{name}".encode())
    own = not connection.in_atomic_block  # inside a caller's transaction (tests): a savepoint, no snapshot
    try:
        if own:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            with transaction.atomic(), connection.cursor() as cur:
                if own and getattr(module, "SNAPSHOT", False):
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                if not own:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [key])
                cur.execute("SELECT 1 FROM metrics_metricrun WHERE family = %s", [name])
                full = full or cur.fetchone() is None
                rows, note = module.compute(cur, full=full)
                run, _ = MetricRun.objects.update_or_create(
                    family=name, defaults={"computed_at": timezone.now(), "rows": rows, "note": note,
                                           "seconds": time.perf_counter() - started})
        finally:
            if own:
                _unlock(key)
    except Exception as exc:
        raise MetricError(f"metric family {name} failed (rolled back): {' '.join(str(exc).split())}") from exc
    return run


def _unlock(key: int) -> None:
    """Release the family's session lock; a broken connection is closed instead (its locks go with it)."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        connection.close()
