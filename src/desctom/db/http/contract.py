"""The SQL API's contract: request bodies (checked and described from one declaration) and answers.

As in the original, problems with the request answer HTTP 200 with ``{"status": "error", "error":
text}`` (clients check ``status``); the texts of the original's checks are kept word for word.
"""

from __future__ import annotations

import math

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from desctom.core.apidoc import (
    ANY_OBJECT,
    CONTRACT,
    DATETIME,
    ERROR,
    OK,
    SQL_ERROR,
    STRING,
    ApiDoc,
    Operation,
    Param,
    Response,
    array,
    nullable,
    obj,
    open_obj,
)
from desctom.core.contract import ContractField, RequestContract, shown
from desctom.core.jsonapi import storable_text_problem
from desctom.db.models import FORMATS
from desctom.db.queries.export import CONTENT_TYPES

TAG = "sql"
#: Deepest nesting of lists and dicts in one subdict's values (a value of the subdict is level 1).
SUBDICT_MAX_DEPTH = 32


@extend_schema_field({"oneOf": [STRING, array(STRING, minItems=1)],
                      "description": "One SQL statement or a list of them (run in one read-only "
                                     "transaction). No NUL character, no lone surrogate."})
class Queries(ContractField, serializers.Field):
    """``query``: one statement or a non-empty list of them, each text PostgreSQL can store."""

    def fail(self, key, **kwargs):
        if key == "null":
            self.refuse("query must be either a list of strings or a string")
        super().fail(key, **kwargs)

    def to_internal_value(self, data):
        queries = [data] if isinstance(data, str) else data
        if not isinstance(queries, list):
            self.refuse("query must be either a list of strings or a string")
        if not all(isinstance(q, str) for q in queries):
            self.refuse("queries must all be strings")
        if not queries:
            self.refuse("query must not be an empty list")
        for index, text in enumerate(queries):
            problem = storable_text_problem(text)
            if problem and "\x00" in text:
                self.refuse("queries must not contain NUL characters")
            if problem:
                where = "query" if isinstance(data, str) else f"query[{index}]"
                self.refuse(f"{where} {problem}")
        return queries

    def to_representation(self, value):
        return value


def value_problem(subdicts: list[dict], finite_only: bool) -> str | None:
    """What is wrong with the keys and values of ``subdicts`` (walked without recursion), or ``None``."""
    todo = [(s, 0) for s in subdicts]
    while todo:
        item, depth = todo.pop()
        if depth > SUBDICT_MAX_DEPTH:
            return f"subdict is nested too deeply (at most {SUBDICT_MAX_DEPTH} levels of lists and dicts)"
        if isinstance(item, dict):
            todo.extend((key, depth) for key in item)
            todo.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            todo.extend((value, depth + 1) for value in item)
        elif isinstance(item, str):
            problem = storable_text_problem(item)
            if problem and "\x00" in item:
                return "subdict keys and values must not contain NUL characters"
            if problem:
                return f"a subdict key or value {problem}"
        elif isinstance(item, float) and finite_only and not math.isfinite(item):
            return "subdict values must be finite numbers, strings, lists, dicts or null"
    return None


@extend_schema_field(nullable({
    "oneOf": [ANY_OBJECT, array(ANY_OBJECT)],
    "description": "Parameters of `%(name)s` placeholders (one dict per query); a list value becomes "
                   f"`(v1, v2, ...)`. Keys and strings: no NUL, no lone surrogate; at most "
                   f"{SUBDICT_MAX_DEPTH} levels of nested lists and dicts.",
}))
class Subdicts(ContractField, serializers.Field):
    """``subdict``: one dict or a list of them; ``finite_only``: refuse NaN and infinities."""

    def __init__(self, *, finite_only: bool = False, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)
        self.finite_only = finite_only

    def to_internal_value(self, data):
        subdicts = [data] if isinstance(data, dict) else data
        if not isinstance(subdicts, list):
            self.refuse("subdict must be either a list of dicts or a dict")
        if not all(isinstance(s, dict) for s in subdicts):
            self.refuse("subdicts must all be dicts")
        problem = value_problem(subdicts, self.finite_only)
        if problem:
            self.refuse(problem)
        return subdicts

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "enum": sorted(FORMATS), "default": "csv"})
class Format(ContractField, serializers.Field):
    """``format``: the result file's format."""

    def fail(self, key, **kwargs):
        if key == "null":
            self.refuse("Unknown format None")
        super().fail(key, **kwargs)

    def to_internal_value(self, data):
        if data not in FORMATS:
            plain = isinstance(data, str) and len(data) <= 80 and not storable_text_problem(data)
            self.refuse(f"Unknown format {data if plain else shown(data)}")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "integer", "enum": [0, 1], "default": 0,
                      "description": "FASTDB's client: 0 = `rows` (a list of {column: value}), 1 = `data` "
                                     "({column: [values]})."})
class RowsOrColumns(ContractField, serializers.Field):
    """``return_format`` of ``runsqlquery`` (FASTDB's client sends it): 0 rows, 1 columns."""

    def fail(self, key, **kwargs):
        if key == "null":
            self.refuse("return_format must be 0 (rows) or 1 (columns)")
        super().fail(key, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int) or data not in (0, 1):
            self.refuse("return_format must be 0 (rows) or 1 (columns)")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "string", "enum": sorted(FORMATS)},
                                {"type": "integer", "enum": [0]}],
                      "description": "FASTDB's client's name for `format` (0 means csv); wins over "
                                     "`format`."})
class FastdbFormat(Format):
    """``return_format`` of ``submitsqlquery`` (FASTDB's client): a format name, or 0 for csv."""

    def to_internal_value(self, data):
        if data == 0 and not isinstance(data, bool):
            return "csv"
        return super().to_internal_value(data)


class StrictFlag(ContractField, serializers.BooleanField):
    """A JSON ``true`` or ``false``, nothing else."""

    def fail(self, key, **kwargs):
        if key == "null":
            self.refuse(f"'{self.name}' must be true or false")
        super().fail(key, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.refuse(f"'{self.name}' must be true or false")
        return data


class QueryRequest(RequestContract):
    """SQL to run now: statements and their parameters."""

    refuse_unknown = False  # the original ignored other keys
    query = Queries()
    subdict = Subdicts()
    return_format = RowsOrColumns(required=False, default=0)

    def missing_message(self, missing: list[str]) -> str:
        return "POST data must include 'query'"

    def validate(self, attrs):
        queries = attrs["query"]
        if attrs.get("subdict") is None:
            attrs["subdict"] = [{} for _ in queries]
        if len(attrs["subdict"]) != len(queries):
            raise serializers.ValidationError("number of queries and subdicts must match")
        return attrs


class SubmitRequest(QueryRequest):
    """SQL to queue: statements, their parameters (stored as JSON: finite numbers only), the file format."""

    subdict = Subdicts(finite_only=True)
    format = Format(required=False, default="csv")
    return_format = FastdbFormat(required=False, default=None)


class ListRequest(RequestContract):
    """Which queued queries to list."""

    refuse_unknown = False
    all = StrictFlag(required=False, default=False, help_text="Everyone's (admins only).")


# -- answers -----------------------------------------------------------------------------------------

DESCRIBED = open_obj(
    {
        "queryid": {"type": "string", "format": "uuid"},
        "queries": array(STRING),
        "subdicts": array(ANY_OBJECT),
        "format": STRING,
        "submitted": DATETIME,
        "status": STRING,
        "position": nullable({"type": "integer", "minimum": 1, "description": "Place of a queued query in "
                              "the runners' claim order (1 = next); null once started."}),
    },
    ["queryid", "queries", "subdicts", "format", "submitted", "status"],
)
LISTED = {**DESCRIBED, "properties": {**DESCRIBED["properties"], "owner": nullable(STRING)}}
QUERYID = Param(
    "queryid", {"type": "string", "format": "uuid"}, "The id submitsqlquery returned.", where="path"
)
BODY_TOO_LARGE = Response("The request body is over its limit (docs/api.md); refused before it is read.",
                          ERROR)


def answer(ok_schema: dict, what: str) -> dict:
    """The 200 answer: ``ok_schema``, or the SQL API's error shape."""
    return {
        200: Response(
            f'{what}, or `{{"status": "error", "error": ...}}` for a bad request or SQL (the text names '
            "the problem; nothing is run or stored).",
            {"oneOf": [ok_schema, SQL_ERROR]},
        )
    }


TABLES = obj({"status": OK, "tables": obj({}, additional=ANY_OBJECT)}, ["status", "tables"])

RUN = ApiDoc(TAG, (
    Operation(
        "post",
        "Run SQL now (read-only, time-limited)",
        {
            **answer({"oneOf": [obj({"status": OK, "rows": array(ANY_OBJECT)}, ["status", "rows"]),
                                obj({"status": OK, "data": obj({}, additional=array({}))},
                                    ["status", "data"])]},
                     "The last query's rows (`return_format` 1: `data`, its columns)"),
            413: Response("The answer is over DESCTOM_SQL_MAX_BYTES (use the queue), or the request body is "
                          "over its limit.", {"oneOf": [SQL_ERROR, ERROR]}),
            429: Response("Too many fast queries running (yours, everyone's, or this worker's): "
                          "retry after Retry-After seconds, or use the queue.", SQL_ERROR,
                          headers=("Retry-After",)),
        },
        body=CONTRACT,
    ),
), request=QueryRequest)

SUBMIT = ApiDoc(TAG, (
    Operation(
        "post",
        "Queue a long query",
        {**answer(obj({"status": OK, "queryid": {"type": "string", "format": "uuid"}}, ["status", "queryid"]),
                  "The queued query's id"),
         413: BODY_TOO_LARGE},
        body=CONTRACT,
    ),
), request=SubmitRequest, writes=("db_queryqueue",))

CHECK = ApiDoc(TAG, (
    Operation("post", "State of a queued query", answer(DESCRIBED, "The query"),
              "Own queries only (admins: anyone's)."),
), path_params=(QUERYID,))

RESULTS = ApiDoc(TAG, (
    Operation(
        "post",
        "Results of a finished query",
        {
            200: Response(
                "The result file (CSV, pickled pandas DataFrame or Parquet, as submitted).",
                media=tuple(CONTENT_TYPES[k].split(";")[0] for k in sorted(CONTENT_TYPES)),
            ),
            404: Response("Unknown query (or another user's).", media=("text/plain",)),
            409: Response("Not started, not finished, or failed.", media=("text/plain",)),
            410: Response("The results are gone (pruned).", media=("text/plain",)),
        },
    ),
), path_params=(QUERYID,))

LIST = ApiDoc(TAG, (
    Operation(
        "post",
        "Queued queries",
        {**answer(obj({"status": OK, "queries": array(LISTED)}, ["status", "queries"]),
                  "The caller's queries, newest first (at most 1000)"),
         413: BODY_TOO_LARGE},
        body=CONTRACT,
    ),
), request=ListRequest)

SCHEMA = ApiDoc(TAG, (
    Operation("get", "Tables the SQL API reads", answer(TABLES, "Tables, columns, keys and comments")),
    Operation("post", "Tables the SQL API reads (POST)", answer(TABLES, "The same as GET")),
))
