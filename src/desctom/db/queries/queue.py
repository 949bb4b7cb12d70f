"""The long-query queue as the SQL API's views see it: submit, find, describe and list queries.

A user sees only their own queries; admins (staff or superusers) see everyone's.
"""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.utils import timezone

from desctom.db.models import QueryQueue
from desctom.db.workers.long_query_runner import queue_position
from desctom.db.workers.queue_wakeup import notify_queued

#: Most queries :func:`listed` returns.
LIST_LIMIT = 1000


def is_admin(user) -> bool:
    """Whether ``user`` sees everyone's queries."""
    return bool(user.is_superuser or user.is_staff)


def submit(owner, queries: list[str], subdicts: list[dict], fmt: str) -> QueryQueue:
    """Queue ``queries`` (one ``subdict`` each) for ``owner``; the new row. The runners are woken
    when the row is committed."""
    with transaction.atomic():
        row = QueryQueue.objects.create(owner=owner, submitted=timezone.now(), queries=queries,
                                        subdicts=subdicts, format=fmt)
        with connection.cursor() as cur:
            notify_queued(cur)
    return row


def visible_query(user, queryid: str) -> QueryQueue | None:
    """``user``'s (or, for admins, anyone's) query ``queryid``; None if unknown or not theirs."""
    try:
        key = uuid.UUID(queryid)
    except ValueError:
        return None
    found = QueryQueue.objects.filter(queryid=key)
    if not is_admin(user):
        found = found.filter(owner=user)
    return found.first()


def position(queryid, conn=None) -> int | None:
    """1-based place of a queued query in the runners' claim order (None if not queued)."""
    with (conn or connection).cursor() as cur:
        return queue_position(cur, queryid)


def _iso(value):
    return value.isoformat() if value is not None else None


def describe(row: QueryQueue, conn=None) -> dict:
    """The reference's checksqlquery body for one queue row (plus ``position``)."""
    out = {"queryid": str(row.queryid), "queries": row.queries, "subdicts": row.subdicts,
           "format": row.format, "submitted": _iso(row.submitted), "status": row.status}
    if row.started is not None:
        out["started"] = _iso(row.started)
    if row.finished is not None:
        out["finished"] = _iso(row.finished)
    if row.error:
        out["error"] = row.errortext
    out["position"] = position(row.queryid, conn) if row.status == "queued" else None
    return out


def listed(user, everyone: bool, conn=None) -> list[dict]:
    """``user``'s queries (``everyone``: all users'), newest first, at most :data:`LIST_LIMIT`,
    each described with its ``owner``."""
    rows = QueryQueue.objects.order_by("-submitted")
    if not everyone:
        rows = rows.filter(owner=user)
    result = []
    for row in rows.select_related("owner")[:LIST_LIMIT]:
        entry = describe(row, conn)
        entry["owner"] = row.owner.username if row.owner else None
        result.append(entry)
    return result
