"""Alerts sent per UTC hour of each UTC day (the original's ``alertstreamhists``).

Incremental: days before the last stored day are final; the last stored day and later are recounted.
"""

from __future__ import annotations

import datetime as dt

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
    last = None
    if not full:
        cur.execute("SELECT max(day) FROM metrics_alertsperhour")
        last = cur.fetchone()[0]
    if last is None:
        cur.execute("DELETE FROM metrics_alertsperhour")
        since = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    else:
        cur.execute("DELETE FROM metrics_alertsperhour WHERE day >= %s", [last])
        since = dt.datetime.combine(last, dt.time(0), tzinfo=dt.UTC)
    cur.execute(_INSERT, [since])
    return cur.rowcount, "all days" if last is None else f"days from {last.isoformat()}"
