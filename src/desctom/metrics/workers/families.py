"""The metric families and how one is brought up to date (one transaction each)."""

from __future__ import annotations

import time
import zlib

from django.db import connection, transaction
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
    dropped its results) is computed in full.
    """
    module = FAMILIES[name]
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"metrics:{name}".encode())])
            cur.execute("SELECT 1 FROM metrics_metricrun WHERE family = %s", [name])
            full = full or cur.fetchone() is None
            rows, note = module.compute(cur, full=full)
            run, _ = MetricRun.objects.update_or_create(
                family=name, defaults={"computed_at": timezone.now(), "rows": rows, "note": note,
                                       "seconds": time.perf_counter() - started})
    except Exception as exc:
        raise MetricError(f"metric family {name} failed (rolled back): {' '.join(str(exc).split())}") from exc
    return run
