"""Broker delay histograms (the original's ``gen_elasticc2_brokerdelaygraphs_pg``).

Three delays per message, as histograms of log10(delay / s) in 0.25 dex bins over [0, 6]
(delays below 1 s go to the first bin, above 10^6 s to the last):

* ``alert_to_tom``: TOM ingest - alert sent (``descingesttimestamp - alertsenttimestamp``);
* ``broker``: broker publish - alert sent (``msghdrtimestamp - alertsenttimestamp``);
* ``tom``: TOM ingest - broker publish (``descingesttimestamp - msghdrtimestamp``).

Per classifier and per broker (all its classifiers), per UTC week (Monday start) of the TOM
ingest time, and cumulative (the sum of the weeks). Incremental: weeks before the last stored
week are final.
"""

from __future__ import annotations

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
               date_trunc('week', m.descingesttimestamp AT TIME ZONE 'UTC')::date AS week,
               extract(epoch FROM m.descingesttimestamp - a.alertsenttimestamp)::float8 AS alert_to_tom,
               extract(epoch FROM m.msghdrtimestamp - a.alertsenttimestamp)::float8 AS broker,
               extract(epoch FROM m.descingesttimestamp - m.msghdrtimestamp)::float8 AS tom
        FROM elasticc2_brokermessage m
        JOIN elasticc2_brokerclassifier c ON c.classifier_id = m.classifier_id
        LEFT JOIN elasticc2_ppdbalert a ON a.alert_id = m.alert_id
        WHERE m.descingesttimestamp >= %s
    ), b AS (
        SELECT m.brokername, m.classifier_id, m.week, k.kind,
               least(width_bucket(log(greatest(k.seconds, 1.0)), {LOG_MIN}, {LOG_MAX}, {NBINS}),
                     {NBINS}) AS bin
        FROM m CROSS JOIN LATERAL (VALUES ('alert_to_tom', m.alert_to_tom), ('broker', m.broker),
                                          ('tom', m.tom)) AS k(kind, seconds)
        WHERE k.seconds IS NOT NULL
    )
    SELECT brokername, classifier_id, week, kind, bin, count(*)
    FROM b GROUP BY GROUPING SETS ((brokername, classifier_id, week, kind, bin),
                                   (brokername, week, kind, bin))
"""
_INSERT = ("INSERT INTO metrics_delayhistogram (brokername, classifier_id, week, kind, nmessages, counts) "
           "VALUES (%s, %s, %s, %s, %s, %s)")


def bin_edges() -> list[float]:
    """The NBINS + 1 bin edges in log10(seconds)."""
    return [LOG_MIN + i * (LOG_MAX - LOG_MIN) / NBINS for i in range(NBINS + 1)]


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Refresh ``metrics_delayhistogram``; returns (rows written, note)."""
    last, since = reopen(cur, "metrics_delayhistogram", "week", full, also_null=True)
    cur.execute(_BINNED, [since])
    hists: dict[tuple, list[int]] = defaultdict(lambda: [0] * NBINS)
    for broker, cfer, week, kind, bin_, n in cur.fetchall():
        hists[(broker, cfer, week, kind)][bin_ - 1] += n
    rows = [(*key, sum(counts), counts) for key, counts in hists.items()]
    if rows:
        cur.executemany(_INSERT, rows)
    # cumulative: the sum of the stored weekly histograms
    cur.execute("SELECT brokername, classifier_id, kind, nmessages, counts FROM metrics_delayhistogram "
                "WHERE week IS NOT NULL")
    cumulative: dict[tuple, list[int]] = defaultdict(lambda: [0] * (NBINS + 1))
    for broker, cfer, kind, nmessages, counts in cur.fetchall():
        acc = cumulative[(broker, cfer, kind)]
        acc[0] += nmessages
        for i, n in enumerate(counts):
            acc[i + 1] += n
    sums = [(b, c, None, k, acc[0], acc[1:]) for (b, c, k), acc in cumulative.items()]
    if sums:
        cur.executemany(_INSERT, sums)
    total = len(rows) + len(sums)
    return total, "all weeks" if last is None else f"weeks from {last.isoformat()}"
