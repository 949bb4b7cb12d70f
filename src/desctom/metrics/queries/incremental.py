"""What the incremental metric tables share: redo the last period, or take the logs of what changed."""

from __future__ import annotations

import datetime as dt

#: ``since`` of a full rebuild.
BEGINNING = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def reopen(cur, table: str, period: str, full: bool,
           also_null: bool = False) -> tuple[dt.date | None, dt.datetime]:
    """Delete the rows of ``table`` from its latest ``period`` (a date column) on, or all of them when
    ``full`` or the table is empty (``also_null``: rows whose period is NULL go too). Returns the
    period reopened (``None``: all) and the UTC time from which the caller recomputes."""
    last = None
    if not full:
        cur.execute(f"SELECT max({period}) FROM {table}")
        last = cur.fetchone()[0]
    if last is None:
        cur.execute(f"DELETE FROM {table}")
        return None, BEGINNING
    nulls = f" OR {period} IS NULL" if also_null else ""
    cur.execute(f"DELETE FROM {table} WHERE {period} >= %s{nulls}", [last])
    return last, dt.datetime.combine(last, dt.time(0), tzinfo=dt.UTC)


# -- the change logs of messages and sends (migration 0005) -------------------------------------------

#: Temp tables a run reads the taken logs from: ``_log_new`` (brokermessage_id, classifier_id,
#: alert_id): messages stored since the family's last run; ``_log_moved`` (alert_id, old_sent,
#: new_sent): alerts whose ``alertsenttimestamp`` went from ``old_sent`` (at the last run) to
#: ``new_sent`` (now), either possibly NULL.
_TAKE = [
    "CREATE TEMP TABLE _log_new (brokermessage_id bigint, classifier_id bigint, alert_id bigint) "
    "ON COMMIT DROP",
    "WITH taken AS (DELETE FROM metrics_newmessage WHERE family = %(family)s "
    "RETURNING brokermessage_id, classifier_id, alert_id) INSERT INTO _log_new SELECT * FROM taken",
    "CREATE INDEX ON _log_new (brokermessage_id)",
    "CREATE TEMP TABLE _log_sent (id bigint, alert_id bigint, old_sent timestamptz) ON COMMIT DROP",
    "WITH taken AS (DELETE FROM metrics_sentchange WHERE family = %(family)s "
    "RETURNING id, alert_id, old_sent) INSERT INTO _log_sent SELECT * FROM taken",
    # the value before the first change of the run; the one now
    "CREATE TEMP TABLE _log_moved ON COMMIT DROP AS "
    "SELECT DISTINCT ON (l.alert_id) l.alert_id, l.old_sent, a.alertsenttimestamp AS new_sent "
    "FROM _log_sent l LEFT JOIN elasticc2_ppdbalert a ON a.alert_id = l.alert_id ORDER BY l.alert_id, l.id",
    "DELETE FROM _log_moved WHERE old_sent IS NOT DISTINCT FROM new_sent",
    "ANALYZE _log_new",
    "ANALYZE _log_moved",
]
_DROP = "DROP TABLE IF EXISTS _log_new, _log_sent, _log_moved"


def take_change_logs(cur, family: str) -> tuple[int, int]:
    """Take ``family``'s rows of the message and send logs into ``_log_new`` and ``_log_moved``;
    returns (messages, alerts re-dated). Call :func:`drop_change_logs` when done."""
    cur.execute(_DROP)
    for statement in _TAKE:
        cur.execute(statement, {"family": family} if "%(family)s" in statement else None)
    cur.execute("SELECT (SELECT count(*) FROM _log_new), (SELECT count(*) FROM _log_moved)")
    return tuple(cur.fetchone())


def drop_change_logs(cur) -> None:
    """Drop the temp tables of :func:`take_change_logs` (also when the caller's transaction goes on)."""
    cur.execute(_DROP)


def clear_change_logs(cur, family: str) -> None:
    """Forget ``family``'s logged changes (before a full recount, in the recount's snapshot)."""
    cur.execute("DELETE FROM metrics_newmessage WHERE family = %s", [family])
    cur.execute("DELETE FROM metrics_sentchange WHERE family = %s", [family])
