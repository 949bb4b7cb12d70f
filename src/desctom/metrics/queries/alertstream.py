"""Alerts sent per UTC hour of each UTC day (the original's ``alertstreamhists``).

Incremental: days before the last stored day are final; the last stored day and later are recounted.
"""

from __future__ import annotations

from desctom.metrics.queries.incremental import reopen

NAME = "alertstream"
TITLE = "Alerts sent per hour"

_INSERT = """
    INSERT INTO metrics_alertsperhour (day, hour, nalerts)
    SELECT (alertsenttimestamp AT TIME ZONE 'UTC')::date,
           extract(hour FROM alertsenttimestamp AT TIME ZONE 'UTC')::smallint, count(*)
    FROM elasticc2_ppdbalert
    WHERE alertsenttimestamp >= %s
    GROUP BY 1, 2
"""


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Refresh ``metrics_alertsperhour``; returns (rows written, note)."""
    last, since = reopen(cur, "metrics_alertsperhour", "day", full)
    cur.execute(_INSERT, [since])
    return cur.rowcount, "all days" if last is None else f"days from {last.isoformat()}"
