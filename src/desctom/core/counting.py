"""Row counts that stay fast on billion-row tables (planner estimates above a bound) and small SQL
helpers for pages."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection

#: Tables whose planner estimate is at least this many rows are not counted exactly (shown with ≈).
EXACT_LIMIT = 200_000


@dataclass
class Count:
    """A row count, exact or a planner estimate."""

    value: int
    estimated: bool = False

    def __str__(self) -> str:
        return f"{'≈ ' if self.estimated else ''}{self.value:,}"


def rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def dict_rows(sql: str, params=None) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def scalar(sql: str, params=None):
    result = rows(sql, params)
    return result[0][0] if result else None


def planner_rows(sql: str, params=None) -> int:
    """The planner's row estimate for ``sql`` (scales the last ANALYZE to the table's current size)."""
    plan = scalar(f"EXPLAIN (FORMAT JSON) {sql}", params)
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def count(table: str, where: str = "", params=None) -> Count:
    """Rows of ``table`` (``where`` optional): exact if the planner expects few, else its estimate."""
    sql = f"SELECT 1 FROM {table} {'WHERE ' + where if where else ''}"
    estimate = planner_rows(sql, params)
    if estimate >= EXACT_LIMIT:
        return Count(estimate, True)
    return Count(scalar(f"SELECT count(*) FROM ({sql}) t", params))
