"""Broker delay histograms (the original's ``gen_elasticc2_brokerdelaygraphs_pg``).

Three delays per message, as histograms of log10(delay / s) in 0.25 dex bins over [0, 6]
(delays below 1 s go to the first bin, above 10^6 s to the last):

* ``alert_to_tom``: TOM ingest - alert sent (``descingesttimestamp - alertsenttimestamp``);
* ``broker``: broker publish - alert sent (``msghdrtimestamp - alertsenttimestamp``);
* ``tom``: TOM ingest - broker publish (``descingesttimestamp - msghdrtimestamp``).

Per classifier and per broker (all its classifiers), per UTC week (Monday start) of the TOM
ingest time, and cumulative (the sum of the weeks). Incremental by day: each classifier's histogram
of every UTC day is kept (``metrics_delayhistogramday``); a run recounts the messages from the last
stored day on, then rebuilds the weeks from that day's week on (and the cumulative rows) by adding
up days, so its cost follows one night's messages, not the week's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from desctom.metrics.queries.incremental import reopen

NAME = "delays"
TITLE = "Broker delays"
KINDS = {"alert_to_tom": "Orig. Alert to Tom Ingestion", "broker": "Broker Delay", "tom": "Tom Delay"}
NBINS = 24
LOG_MIN, LOG_MAX = 0.0, 6.0

_BINNED = f"""
    WITH m AS (
        SELECT c.brokername, m.classifier_id,
               date_trunc('day', m.descingesttimestamp AT TIME ZONE 'UTC')::date AS day,
               extract(epoch FROM m.descingesttimestamp - a.alertsenttimestamp)::float8 AS alert_to_tom,
               extract(epoch FROM m.msghdrtimestamp - a.alertsenttimestamp)::float8 AS broker,
               extract(epoch FROM m.descingesttimestamp - m.msghdrtimestamp)::float8 AS tom
        FROM elasticc2_brokermessage m
        JOIN elasticc2_brokerclassifier c ON c.classifier_id = m.classifier_id
        LEFT JOIN elasticc2_ppdbalert a ON a.alert_id = m.alert_id
        WHERE m.descingesttimestamp >= %s
    ), b AS (
        SELECT m.brokername, m.classifier_id, m.day, k.kind,
               least(width_bucket(log(greatest(k.seconds, 1.0)), {LOG_MIN}, {LOG_MAX}, {NBINS}),
                     {NBINS}) AS bin
        FROM m CROSS JOIN LATERAL (VALUES ('alert_to_tom', m.alert_to_tom), ('broker', m.broker),
                                          ('tom', m.tom)) AS k(kind, seconds)
        WHERE k.seconds IS NOT NULL
    )
    SELECT brokername, classifier_id, day, kind, bin, count(*)
    FROM b GROUP BY brokername, classifier_id, day, kind, bin
"""
_INSERT = ("INSERT INTO metrics_delayhistogram (brokername, classifier_id, week, kind, nmessages, counts) "
           "VALUES (%s, %s, %s, %s, %s, %s)")
_DAY_COLUMNS = "brokername, classifier_id, day, kind, nmessages, counts"
_INSERT_DAY = f"INSERT INTO metrics_delayhistogramday ({_DAY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"


def bin_edges() -> list[float]:
    """The NBINS + 1 bin edges in log10(seconds)."""
    return [LOG_MIN + i * (LOG_MAX - LOG_MIN) / NBINS for i in range(NBINS + 1)]


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _add(acc: list[int], nmessages: int, counts: list[int]) -> None:
    acc[0] += nmessages
    for i, n in enumerate(counts):
        acc[i + 1] += n


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Refresh ``metrics_delayhistogramday`` and, from it, ``metrics_delayhistogram``; returns (rows
    written, note)."""
    last, since = reopen(cur, "metrics_delayhistogramday", "day", full)
    cur.execute(_BINNED, [since])
    days: dict[tuple, list[int]] = defaultdict(lambda: [0] * NBINS)
    for broker, cfer, day, kind, bin_, n in cur.fetchall():
        days[(broker, cfer, day, kind)][bin_ - 1] += n
    day_rows = [(*key, sum(counts), counts) for key, counts in days.items()]
    if day_rows:
        cur.executemany(_INSERT_DAY, day_rows)
    # the weeks that hold a recounted day, from the stored days; then the cumulative rows
    first_week = None if last is None else _monday(last)
    if first_week is None:
        cur.execute("DELETE FROM metrics_delayhistogram")
        cur.execute(f"SELECT {_DAY_COLUMNS} FROM metrics_delayhistogramday")
    else:
        cur.execute("DELETE FROM metrics_delayhistogram WHERE week >= %s OR week IS NULL", [first_week])
        cur.execute(f"SELECT {_DAY_COLUMNS} FROM metrics_delayhistogramday WHERE day >= %s", [first_week])
    weeks: dict[tuple, list[int]] = defaultdict(lambda: [0] * (NBINS + 1))
    for broker, cfer, day, kind, nmessages, counts in cur.fetchall():
        week = _monday(day)
        _add(weeks[(broker, cfer, week, kind)], nmessages, counts)
        _add(weeks[(broker, None, week, kind)], nmessages, counts)
    rows = [(*key, acc[0], acc[1:]) for key, acc in weeks.items()]
    if rows:
        cur.executemany(_INSERT, rows)
    cur.execute("SELECT brokername, classifier_id, kind, nmessages, counts FROM metrics_delayhistogram "
                "WHERE week IS NOT NULL")
    cumulative: dict[tuple, list[int]] = defaultdict(lambda: [0] * (NBINS + 1))
    for broker, cfer, kind, nmessages, counts in cur.fetchall():
        _add(cumulative[(broker, cfer, kind)], nmessages, counts)
    sums = [(b, c, None, k, acc[0], acc[1:]) for (b, c, k), acc in cumulative.items()]
    if sums:
        cur.executemany(_INSERT, sums)
    total = len(day_rows) + len(rows) + len(sums)
    return total, "all days" if last is None else f"days from {last.isoformat()}"
