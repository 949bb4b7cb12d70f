"""Broker delay histograms (the original's ``gen_elasticc2_brokerdelaygraphs_pg``).

Three delays per message, as histograms of log10(delay / s) in 0.25 dex bins over [0, 6]
(delays below 1 s go to the first bin, above 10^6 s to the last):

* ``alert_to_tom``: TOM ingest - alert sent (``descingesttimestamp - alertsenttimestamp``);
* ``broker``: broker publish - alert sent (``msghdrtimestamp - alertsenttimestamp``);
* ``tom``: TOM ingest - broker publish (``descingesttimestamp - msghdrtimestamp``).

Per classifier and per broker (all its classifiers), per UTC week (Monday start) of the TOM
ingest time, and cumulative (the sum of the weeks). Each classifier's histogram of every UTC day is
kept (``metrics_delayhistogramday``); the weeks are sums of days, the cumulative rows sums of weeks.

Incremental from change logs (migration 0005): a run adds the messages stored since the last run
(``metrics_newmessage``) and, for alerts whose sent time changed since (``metrics_sentchange``: sent,
re-sent, un-sent), takes their earlier messages out with the old time and back in with the new one;
then rebuilds the weeks that hold a changed day. Its cost follows what changed, not the messages
stored nor the timestamps. ``full`` recounts every message (same numbers).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from desctom.metrics.queries.incremental import clear_change_logs, drop_change_logs, take_change_logs

NAME = "delays"
TITLE = "Broker delays"
SNAPSHOT = True  # logs and messages read in one snapshot (workers/families.py)
KINDS = {"alert_to_tom": "Orig. Alert to Tom Ingestion", "broker": "Broker Delay", "tom": "Tom Delay"}
NBINS = 24
LOG_MIN, LOG_MAX = 0.0, 6.0

#: (classifier_id, ingest, hdr, sent, delta) of every message, for a full recount.
_EVERY_MESSAGE = """
    SELECT m.classifier_id, m.descingesttimestamp, m.msghdrtimestamp, a.alertsenttimestamp, 1
    FROM elasticc2_brokermessage m LEFT JOIN elasticc2_ppdbalert a ON a.alert_id = m.alert_id
"""
#: The same for what changed: the new messages (+1) and, for each alert re-dated, its earlier
#: messages with the old sent time (-1) and the new one (+1).
_CHANGES = """
    SELECT m.classifier_id, m.descingesttimestamp, m.msghdrtimestamp, a.alertsenttimestamp, 1
    FROM _log_new n
    JOIN elasticc2_brokermessage m  -- the classifier too: one partition when the table is partitioned
      ON m.brokermessage_id = n.brokermessage_id AND m.classifier_id = n.classifier_id
    LEFT JOIN elasticc2_ppdbalert a ON a.alert_id = m.alert_id
    UNION ALL
    SELECT m.classifier_id, m.descingesttimestamp, m.msghdrtimestamp, s.sent, s.delta
    FROM _log_moved v JOIN elasticc2_brokermessage m ON m.alert_id = v.alert_id
    CROSS JOIN LATERAL (VALUES (v.old_sent, -1), (v.new_sent, 1)) AS s(sent, delta)
    WHERE NOT EXISTS (SELECT 1 FROM _log_new n WHERE n.brokermessage_id = m.brokermessage_id)
"""
#: Binned counts (broker, classifier, ingest day, kind, bin, sum of deltas) of ``{messages}``.
_BINNED = f"""
    WITH m (classifier_id, ingest, hdr, sent, delta) AS ({{messages}}), d AS (
        SELECT c.brokername, m.classifier_id, (m.ingest AT TIME ZONE 'UTC')::date AS day, m.delta,
               extract(epoch FROM m.ingest - m.sent)::float8 AS alert_to_tom,
               extract(epoch FROM m.hdr - m.sent)::float8 AS broker,
               extract(epoch FROM m.ingest - m.hdr)::float8 AS tom
        FROM m JOIN elasticc2_brokerclassifier c ON c.classifier_id = m.classifier_id
    ), b AS (
        SELECT d.brokername, d.classifier_id, d.day, d.delta, k.kind,
               least(width_bucket(log(greatest(k.seconds, 1.0)), {LOG_MIN}, {LOG_MAX}, {NBINS}),
                     {NBINS}) AS bin
        FROM d CROSS JOIN LATERAL (VALUES ('alert_to_tom', d.alert_to_tom), ('broker', d.broker),
                                          ('tom', d.tom)) AS k(kind, seconds)
        WHERE k.seconds IS NOT NULL
    )
    SELECT brokername, classifier_id, day, kind, bin, sum(delta)
    FROM b GROUP BY brokername, classifier_id, day, kind, bin HAVING sum(delta) <> 0
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
    if full:
        clear_change_logs(cur, NAME)
        cur.execute("DELETE FROM metrics_delayhistogramday")
        cur.execute(_BINNED.format(messages=_EVERY_MESSAGE))
        note = "all days"
    else:
        nnew, nmoved = take_change_logs(cur, NAME)
        cur.execute(_BINNED.format(messages=_CHANGES))
        note = f"{nnew} new messages, {nmoved} alerts re-dated"
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0] * NBINS)
    for broker, cfer, day, kind, bin_, n in cur.fetchall():
        deltas[(broker, cfer, day, kind)][bin_ - 1] += n
    drop_change_logs(cur)
    days = sorted({key[2] for key in deltas})
    if not full and days:  # the changed days' stored counts, plus the deltas
        cur.execute(f"SELECT {_DAY_COLUMNS} FROM metrics_delayhistogramday WHERE day = ANY(%s)", [days])
        for broker, cfer, day, kind, _n, counts in cur.fetchall():
            acc = deltas[(broker, cfer, day, kind)]
            for i, c in enumerate(counts):
                acc[i] += c
        cur.execute("DELETE FROM metrics_delayhistogramday WHERE day = ANY(%s)", [days])
    day_rows = [(*key, sum(counts), counts) for key, counts in deltas.items() if any(counts)]
    if day_rows:
        cur.executemany(_INSERT_DAY, day_rows)
    # the weeks that hold a changed day, from the stored days; then the cumulative rows
    weeks_changed = sorted({_monday(d) for d in days})
    if full:
        cur.execute("DELETE FROM metrics_delayhistogram")
        cur.execute(f"SELECT {_DAY_COLUMNS} FROM metrics_delayhistogramday")
    else:
        cur.execute("DELETE FROM metrics_delayhistogram WHERE week = ANY(%s) OR week IS NULL",
                    [weeks_changed])
        cur.execute(f"SELECT {_DAY_COLUMNS} FROM metrics_delayhistogramday WHERE day >= %s AND day < %s",
                    [weeks_changed[0], weeks_changed[-1] + dt.timedelta(days=7)] if weeks_changed
                    else [dt.date.max, dt.date.max])
    weeks: dict[tuple, list[int]] = defaultdict(lambda: [0] * (NBINS + 1))
    for broker, cfer, day, kind, nmessages, counts in cur.fetchall():
        week = _monday(day)
        if not full and week not in weeks_changed:
            continue
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
    return len(day_rows) + len(rows) + len(sums), note
