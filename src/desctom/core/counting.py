"""Row counts that stay fast on billion-row tables (planner estimates above a bound) and small SQL
helpers for the query modules.

Every helper takes an optional ``connection`` (default: Django's) so a caller can run it inside its own
transaction or on another database connection."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection as default_connection

#: Tables whose planner estimate is at least this many rows are not counted exactly (shown with ≈).
EXACT_LIMIT = 200_000


@dataclass
class Count:
    """A row count, exact or a planner estimate."""

    value: int
    estimated: bool = False

    def __str__(self) -> str:
        return f"{'≈ ' if self.estimated else ''}{self.value:,}"


def rows(sql: str, params=None, connection=None) -> list[tuple]:
    """Every row of ``sql`` as tuples."""
    with (connection or default_connection).cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def dict_rows(sql: str, params=None, connection=None) -> list[dict]:
    """Every row of ``sql`` as a dict keyed by column name."""
    with (connection or default_connection).cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def scalar(sql: str, params=None, connection=None):
    """The first column of the first row of ``sql`` (None if there is no row)."""
    result = rows(sql, params, connection)
    return result[0][0] if result else None


def planner_rows(sql: str, params=None, connection=None) -> int:
    """The planner's row estimate for ``sql`` (scales the last ANALYZE to the table's current size)."""
    plan = scalar(f"EXPLAIN (FORMAT JSON) {sql}", params, connection)
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def count(table: str, where: str = "", params=None, connection=None) -> Count:
    """Rows of ``table`` (``where`` optional): exact if the planner expects few, else its estimate."""
    sql = f"SELECT 1 FROM {table} {'WHERE ' + where if where else ''}"
    estimate = planner_rows(sql, params, connection)
    if estimate >= EXACT_LIMIT:
        return Count(estimate, True)
    return Count(scalar(f"SELECT count(*) FROM ({sql}) t", params, connection))


def database_answers(connection=None) -> bool:
    """True when the database runs ``SELECT 1`` (raises what the driver raises when it cannot)."""
    with (connection or default_connection).cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return True
