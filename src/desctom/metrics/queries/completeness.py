"""Broker completeness (the original's ``gen_elasticc2_brokercompleteness``): for each classifier
and UTC day, the alerts sent that day and how many of them have at least one message of it.

``metrics_completenesssentday`` holds the alerts sent per day; ``metrics_completenessday`` a row per
classifier and day with alerts sent (a classifier that appears later gets every earlier day).

Incremental from change logs (migration 0005): for every alert touched since the last run — a new
message about it (``metrics_newmessage``), or its sent time changed (``metrics_sentchange``: sent,
re-sent, un-sent) — the classifiers that had a message about it before count it out of its old day,
and those that have one now count it into its day now. Its cost follows what changed (a few index
probes per alert), not the alerts or messages stored. ``full`` recounts every alert (same numbers).
"""

from __future__ import annotations

from desctom.metrics.queries.incremental import clear_change_logs, drop_change_logs, take_change_logs

NAME = "completeness"
TITLE = "Broker completeness"
SNAPSHOT = True  # logs and messages read in one snapshot (workers/families.py)

_DAY = "(({0}) AT TIME ZONE 'UTC')::date"

_FULL = [
    f"""INSERT INTO metrics_completenesssentday (day, nsent)
        SELECT {_DAY.format('alertsenttimestamp')}, count(*) FROM elasticc2_ppdbalert
        WHERE alertsenttimestamp IS NOT NULL GROUP BY 1""",
    f"""WITH hits AS (
            SELECT m.classifier_id, {_DAY.format('a.alertsenttimestamp')} AS day,
                   count(DISTINCT a.alert_id) AS n
            FROM elasticc2_ppdbalert a JOIN elasticc2_brokermessage m ON m.alert_id = a.alert_id
            WHERE a.alertsenttimestamp IS NOT NULL
            GROUP BY 1, 2
        )
        INSERT INTO metrics_completenessday (classifier_id, day, nsent, nclassified)
        SELECT c.classifier_id, s.day, s.nsent, coalesce(h.n, 0)
        FROM metrics_completenesssentday s CROSS JOIN elasticc2_brokerclassifier c
        LEFT JOIN hits h ON h.classifier_id = c.classifier_id AND h.day = s.day""",
]

#: Per day, the change of alerts sent (from the alerts re-dated).
_SENT_DELTAS = f"""
    SELECT day, sum(delta) FROM (
        SELECT {_DAY.format('old_sent')} AS day, -1 AS delta FROM _log_moved WHERE old_sent IS NOT NULL
        UNION ALL
        SELECT {_DAY.format('new_sent')}, 1 FROM _log_moved WHERE new_sent IS NOT NULL) d
    GROUP BY 1 HAVING sum(delta) <> 0
"""
#: Per classifier and day, the change of alerts classified: each touched alert with its sent time at
#: the last run (``old_sent``) and now; per classifier with a message about it now, whether it had
#: one before (a message not new).
_CLASSIFIED_DELTAS = f"""
    WITH touched AS (
        SELECT alert_id, old_sent, new_sent FROM _log_moved
        UNION ALL
        SELECT a.alert_id, a.alertsenttimestamp, a.alertsenttimestamp
        FROM (SELECT DISTINCT alert_id FROM _log_new) n
        JOIN elasticc2_ppdbalert a ON a.alert_id = n.alert_id
        WHERE a.alertsenttimestamp IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM _log_moved v WHERE v.alert_id = n.alert_id)
    ), per AS (
        SELECT t.alert_id, t.old_sent, t.new_sent, m.classifier_id,
               bool_or(NOT EXISTS (SELECT 1 FROM _log_new n WHERE n.brokermessage_id = m.brokermessage_id))
                   AS before
        FROM touched t JOIN elasticc2_brokermessage m ON m.alert_id = t.alert_id
        GROUP BY 1, 2, 3, 4
    )
    SELECT classifier_id, day, sum(delta) FROM (
        SELECT classifier_id, {_DAY.format('new_sent')} AS day, 1 AS delta FROM per WHERE new_sent IS NOT NULL
        UNION ALL
        SELECT classifier_id, {_DAY.format('old_sent')}, -1 FROM per WHERE before AND old_sent IS NOT NULL) d
    GROUP BY 1, 2 HAVING sum(delta) <> 0
"""
_APPLY_SENT = """
    INSERT INTO metrics_completenesssentday AS s (day, nsent) VALUES (%s, %s)
    ON CONFLICT (day) DO UPDATE SET nsent = s.nsent + EXCLUDED.nsent
"""
#: Every classifier has a row for every day with alerts sent, with that day's ``nsent``.
_SYNC = [
    "DELETE FROM metrics_completenesssentday WHERE nsent = 0",
    """DELETE FROM metrics_completenessday d WHERE d.day = ANY(%(days)s)
       AND NOT EXISTS (SELECT 1 FROM metrics_completenesssentday s WHERE s.day = d.day)""",
    """UPDATE metrics_completenessday d SET nsent = s.nsent FROM metrics_completenesssentday s
       WHERE s.day = d.day AND d.day = ANY(%(days)s) AND d.nsent <> s.nsent""",
    """INSERT INTO metrics_completenessday (classifier_id, day, nsent, nclassified)
       SELECT c.classifier_id, s.day, s.nsent, 0
       FROM metrics_completenesssentday s CROSS JOIN elasticc2_brokerclassifier c
       ON CONFLICT (classifier_id, day) DO NOTHING""",
]
_APPLY_CLASSIFIED = """
    UPDATE metrics_completenessday SET nclassified = nclassified + %s WHERE classifier_id = %s AND day = %s
"""


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Refresh ``metrics_completenesssentday`` and ``metrics_completenessday``; returns (rows written,
    note)."""
    if full:
        clear_change_logs(cur, NAME)
        cur.execute("DELETE FROM metrics_completenessday")
        cur.execute("DELETE FROM metrics_completenesssentday")
        for statement in _FULL:
            cur.execute(statement)
        cur.execute("SELECT count(*) FROM metrics_completenessday")
        return cur.fetchone()[0], "all days"
    nnew, nmoved = take_change_logs(cur, NAME)
    cur.execute(_SENT_DELTAS)
    sent = cur.fetchall()
    cur.execute(_CLASSIFIED_DELTAS)
    classified = cur.fetchall()
    drop_change_logs(cur)
    if sent:
        cur.executemany(_APPLY_SENT, sent)
    for statement in _SYNC:
        cur.execute(statement, {"days": [day for day, _ in sent]} if "%(days)s" in statement else None)
    if classified:
        cur.executemany(_APPLY_CLASSIFIED, [(n, cid, day) for cid, day, n in classified])
    return len(sent) + len(classified), f"{nnew} new messages, {nmoved} alerts re-dated"
