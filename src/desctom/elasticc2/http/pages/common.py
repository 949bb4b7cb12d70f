"""What the ELAsTiCC2 pages share: admin test, bounded row counts, the simulation clock, SQL helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection

from desctom.core.permissions import is_admin  # noqa: F401 - re-exported for the page modules
from desctom.survey.taxonomy import CLASSES

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


def simulation_clock() -> float | None:
    """MJD of the latest sent alert: the sender's record, else the latest detection the TOM knows."""
    mjd = scalar("SELECT max(last_mjd) FROM elasticc2_alertsenderrun WHERE status <> 'dryrun'")
    if mjd is None:
        mjd = scalar("SELECT max(midpointtai) FROM elasticc2_diasource")
    return mjd


def class_name(classid) -> str:
    """``"2222 Ia"`` (or the bare id if the taxonomy does not know it)."""
    if classid is None:
        return "—"
    name = CLASSES.get(int(classid))
    return f"{classid} {name}" if name else str(classid)


def page_numbers(request, total: int, per_page: int, name: str = "page") -> tuple[int, int, dict]:
    """``(offset, limit, pager)`` for ``?<name>=N``; ``pager`` has page, pages, prev, next, param."""
    pages = max(1, -(-total // per_page))
    try:
        page = min(max(1, int(request.GET.get(name, 1))), pages)
    except ValueError:
        page = 1
    query = request.GET.copy()

    def link(n):
        query[name] = n
        return "?" + query.urlencode()

    pager = {"page": page, "pages": pages, "total": total,
             "prev": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None}
    return (page - 1) * per_page, per_page, pager
