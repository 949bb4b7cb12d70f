"""Broker completeness (the original's ``gen_elasticc2_brokercompleteness``): for each classifier
and UTC day, the alerts sent that day and how many of them have at least one message of it.

Incremental: the last ``SETTLE_DAYS`` stored days (late messages still change them) and later
days are recounted; earlier days are kept.
"""

from __future__ import annotations

import datetime as dt

NAME = "completeness"
TITLE = "Broker completeness"
SETTLE_DAYS = 7

_INSERT = """
    WITH sent AS (
        SELECT alert_id, (alertsenttimestamp AT TIME ZONE 'UTC')::date AS day
        FROM elasticc2_ppdbalert WHERE alertsenttimestamp >= %s
    ), days AS (
        SELECT day, count(*) AS nsent FROM sent GROUP BY day
    ), hits AS (
        SELECT m.classifier_id, s.day, count(DISTINCT s.alert_id) AS n
        FROM sent s JOIN elasticc2_brokermessage m ON m.alert_id = s.alert_id
        GROUP BY m.classifier_id, s.day
    )
    INSERT INTO metrics_completenessday (classifier_id, day, nsent, nclassified)
    SELECT c.classifier_id, d.day, d.nsent, coalesce(h.n, 0)
    FROM days d CROSS JOIN elasticc2_brokerclassifier c
    LEFT JOIN hits h ON h.classifier_id = c.classifier_id AND h.day = d.day
"""


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Refresh ``metrics_completenessday``; returns (rows written, note)."""
    last = None
    if not full:
        cur.execute("SELECT max(day) FROM metrics_completenessday")
        last = cur.fetchone()[0]
    if last is None:
        cur.execute("DELETE FROM metrics_completenessday")
        since = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    else:
        first = last - dt.timedelta(days=SETTLE_DAYS - 1)
        cur.execute("DELETE FROM metrics_completenessday WHERE day >= %s", [first])
        since = dt.datetime.combine(first, dt.time(0), tzinfo=dt.UTC)
    cur.execute(_INSERT, [since])
    return cur.rowcount, "all days" if last is None else f"days from {since.date().isoformat()}"
