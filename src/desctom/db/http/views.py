"""The SQL API views: thin wrappers turning :mod:`sqlexec` and the queue into JSON.

As in the reference, problems with the request or the SQL answer HTTP 200 with
``{"status": "error", "error": text}`` (clients check ``status``); result downloads answer 4xx
with the reference's texts. A user sees only their own queued queries; admins see all.
"""

from __future__ import annotations

import json
import logging

from django.http import FileResponse, HttpResponse, JsonResponse

from desctom.core import config
from desctom.core.jsonapi import ApiError, parse_json_body
from desctom.core.jsonauth import JsonLoginRequiredMixin
from desctom.db.http import contract
from desctom.db.queries import fastsql, queue, replica, slots, sqlexec
from desctom.db.queries.export import CONTENT_TYPES
from desctom.db.queries.schema import readable_schema
from desctom.db.queries.sqlexec import SqlError
from desctom.db.workers.long_query_runner import result_path

log = logging.getLogger(__name__)
SUFFIXES = {"csv": ".csv", "pandas": ".pkl", "parquet": ".parquet"}


def ok(**data) -> JsonResponse:
    return JsonResponse({"status": "ok", **data}, json_dumps_params={"allow_nan": False})


def error(text: str, status: int = 200) -> JsonResponse:
    return JsonResponse({"status": "error", "error": text}, status=status)


class SqlView(JsonLoginRequiredMixin):
    """POST-only JSON view; :class:`SqlError` and a refused request become ``{"status": "error"}``
    (HTTP 200, as the original; a body over its limit stays 413)."""

    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        try:
            return self.answer(request, *args, **kwargs)
        except SqlError as exc:
            return error(str(exc))
        except ApiError as exc:
            return error(exc.message, 200 if exc.status == 400 else exc.status)

    def values(self, request) -> dict:
        """The JSON body checked against this view's request contract: every declared field."""
        data = parse_json_body(request, check_text=False)  # the contract names NUL and surrogates
        if not isinstance(data, dict):
            raise SqlError("POST data must be a JSON object")
        return self.api_doc.request.parse(data)


class RunSQLQuery(SqlView):
    """Fast queries: at most a few at once per user and in total (429 at once when full, see
    :mod:`desctom.db.queries.slots`); an answer over the byte cap is refused with 413."""

    api_doc = contract.RUN

    def answer(self, request):
        values = self.values(request)
        try:
            with slots.fast_query_slot(request.user.pk):
                rows = fastsql.run_fast_json(values["query"], values["subdict"])
        except slots.Busy as exc:
            res = error(str(exc), 429)
            res["Retry-After"] = str(slots.RETRY_AFTER)
            return res
        except sqlexec.TooLarge as exc:
            return error(str(exc), 413)
        except sqlexec.ReplicaUnavailable as exc:  # the read replica is down or behind (issue 18)
            res = error(str(exc), 503)
            res["Retry-After"] = str(replica.RETRY_AFTER)
            return res
        if values["return_format"] == 1:  # FASTDB's client: {column: [values]} (no columns without rows)
            return ok(data=columns(json.loads(rows)))
        return HttpResponse('{"status": "ok", "rows": ' + rows + "}", content_type="application/json")


def columns(rows: list[dict]) -> dict[str, list]:
    """Rows as ``{column: [values]}``."""
    return {name: [row[name] for row in rows] for name in (rows[0] if rows else {})}


class SubmitSQLQuery(SqlView):
    api_doc = contract.SUBMIT

    def answer(self, request):
        values = self.values(request)
        fmt = values["return_format"] or values["format"]  # FASTDB's client says return_format
        row = queue.submit(request.user, values["query"], values["subdict"], fmt)
        return ok(queryid=str(row.queryid))


class CheckSQLQuery(SqlView):
    api_doc = contract.CHECK

    def answer(self, request, queryid):
        row = queue.visible_query(request.user, queryid)
        if row is None:
            return error(f"Unknown query {queryid}")
        return JsonResponse(queue.describe(row))


class ListSQLQueries(SqlView):
    api_doc = contract.LIST

    def answer(self, request):
        everyone = self.values(request)["all"]
        if everyone and not queue.is_admin(request.user):
            raise SqlError("only admins may list everyone's queries")
        return ok(queries=queue.listed(request.user, everyone))


def text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class GetSQLQueryResults(SqlView):
    api_doc = contract.RESULTS

    def answer(self, request, queryid):
        row = queue.visible_query(request.user, queryid)
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
    api_doc = contract.SCHEMA
    http_method_names = ["get", "post", "options"]

    def get(self, request):
        return self.post(request)

    def answer(self, request):
        return ok(tables=readable_schema())
