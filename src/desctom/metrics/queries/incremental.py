"""What the incremental metric tables share: redo the last period and everything after it."""

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
