"""The SQL API views: thin wrappers turning :mod:`sqlexec` and the queue into JSON.

As in the reference, problems with the request or the SQL answer HTTP 200 with
``{"status": "error", "error": text}`` (clients check ``status``); result downloads answer 4xx
with the reference's texts. A user sees only their own queued queries; admins see all.
"""

from __future__ import annotations

import json
import logging
import uuid

from django.db import connection
from django.http import FileResponse, HttpResponse, JsonResponse
from django.utils import timezone

from desctom.core import config
from desctom.core.jsonauth import JsonLoginRequiredMixin
from desctom.db.models import QueryQueue
from desctom.db.queries import slots, sqlexec
from desctom.db.queries.export import CONTENT_TYPES
from desctom.db.queries.schema import readable_schema
from desctom.db.queries.sqlexec import SqlError
from desctom.db.workers.long_query_runner import queue_position, result_path

log = logging.getLogger(__name__)
SUFFIXES = {"csv": ".csv", "pandas": ".pkl", "parquet": ".parquet"}
LIST_LIMIT = 1000


def ok(**data) -> JsonResponse:
    return JsonResponse({"status": "ok", **data}, json_dumps_params={"allow_nan": False})


def error(text: str) -> JsonResponse:
    return JsonResponse({"status": "error", "error": text})


def body_json(request):
    """The JSON request body; ``{}`` for an empty body."""
    if not request.body.strip():
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SqlError(f"POST data must be JSON: {exc}") from None


def is_admin(user) -> bool:
    return bool(user.is_superuser or user.is_staff)


def visible_query(request, queryid: str) -> QueryQueue | None:
    """The caller's (or, for admins, anyone's) query ``queryid``; None if unknown or not theirs."""
    try:
        key = uuid.UUID(queryid)
    except ValueError:
        return None
    found = QueryQueue.objects.filter(queryid=key)
    if not is_admin(request.user):
        found = found.filter(owner=request.user)
    return found.first()


def iso(value):
    return value.isoformat() if value is not None else None


class SqlView(JsonLoginRequiredMixin):
    """POST-only JSON view; :class:`SqlError` becomes ``{"status": "error"}``."""

    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        try:
            return self.answer(request, *args, **kwargs)
        except SqlError as exc:
            return error(str(exc))


class RunSQLQuery(SqlView):
    """Fast queries: at most a few at once per user and in total (429 at once when full, see
    :mod:`desctom.db.queries.slots`); an answer over the byte cap is refused with 413."""

    def answer(self, request):
        queries, subdicts, _ = sqlexec.extract_queries(body_json(request))
        try:
            with slots.fast_query_slot(request.user.pk):
                rows = sqlexec.run_fast_json(queries, subdicts)
        except slots.Busy as exc:
            res = JsonResponse({"status": "error", "error": str(exc)}, status=429)
            res["Retry-After"] = str(slots.RETRY_AFTER)
            return res
        except sqlexec.TooLarge as exc:
            return JsonResponse({"status": "error", "error": str(exc)}, status=413)
        return HttpResponse('{"status": "ok", "rows": ' + rows + "}", content_type="application/json")


def has_nul(value) -> bool:
    """Whether a NUL character is in any string (key or value) of a JSON value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


class SubmitSQLQuery(SqlView):
    def answer(self, request):
        queries, subdicts, fmt = sqlexec.extract_queries(body_json(request), with_format=True)
        try:
            json.dumps(subdicts, allow_nan=False)
        except ValueError:
            raise SqlError("subdict values must be finite numbers, strings, lists, dicts or null") from None
        if has_nul(subdicts):  # PostgreSQL's jsonb cannot hold NUL characters
            raise SqlError("subdict keys and values must not contain NUL characters")
        row = QueryQueue.objects.create(owner=request.user, submitted=timezone.now(), queries=queries,
                                        subdicts=subdicts, format=fmt)
        return ok(queryid=str(row.queryid))


def describe(row: QueryQueue) -> dict:
    """The reference's checksqlquery body for one queue row."""
    out = {"queryid": str(row.queryid), "queries": row.queries, "subdicts": row.subdicts,
           "format": row.format, "submitted": iso(row.submitted), "status": row.status}
    if row.started is not None:
        out["started"] = iso(row.started)
    if row.finished is not None:
        out["finished"] = iso(row.finished)
    if row.error:
        out["error"] = row.errortext
    out["position"] = None
    if row.status == "queued":
        with connection.cursor() as cur:
            out["position"] = queue_position(cur, row.queryid)
    return out


class CheckSQLQuery(SqlView):
    def answer(self, request, queryid):
        row = visible_query(request, queryid)
        if row is None:
            return error(f"Unknown query {queryid}")
        return JsonResponse(describe(row))


class ListSQLQueries(SqlView):
    def answer(self, request):
        data = body_json(request)
        if not isinstance(data, dict):
            raise SqlError("POST data must be a JSON object")
        everyone = data.get("all", False)
        if not isinstance(everyone, bool):
            raise SqlError("'all' must be true or false")
        if everyone and not is_admin(request.user):
            raise SqlError("only admins may list everyone's queries")
        rows = QueryQueue.objects.order_by("-submitted")
        if not everyone:
            rows = rows.filter(owner=request.user)
        listed = []
        for row in rows.select_related("owner")[:LIST_LIMIT]:
            entry = describe(row)
            entry["owner"] = row.owner.username if row.owner else None
            listed.append(entry)
        return ok(queries=listed)


def text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class GetSQLQueryResults(SqlView):
    def answer(self, request, queryid):
        row = visible_query(request, queryid)
        if row is None:
            return text(f"Unknown query {queryid}", 404)
        if row.error:
            return text(f"Query errored out: {row.errortext}", 409)
        if row.started is None:
            return text(f"Query {queryid} hasn't started yet", 409)
        if row.finished is None:
            return text(f"Query {queryid} hasn't finished yet", 409)
        if row.format not in CONTENT_TYPES:
            return text(f"Query is finished, but results are in an unknown format {row.format}", 409)
        path = result_path(config.load(), row.queryid)
        try:
            handle = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
        except FileNotFoundError:
            return text(f"The results of query {queryid} are gone (pruned or deleted)", 410)
        return FileResponse(handle, content_type=CONTENT_TYPES[row.format], as_attachment=True,
                            filename=f"{row.queryid}{SUFFIXES[row.format]}")


class Schema(SqlView):
    http_method_names = ["get", "post", "options"]

    def get(self, request):
        return self.post(request)

    def answer(self, request):
        return ok(tables=readable_schema())
