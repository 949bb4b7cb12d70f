"""The SQL API under ``/db/`` (docs/api_sql.md; views in desctom.db.http.views).

Problems with the request or the SQL answer HTTP 200 with ``{"status": "error", "error": ...}``
(as the original did; clients check ``status``).
"""

from desctom.apidocs.registry import (
    ANY_OBJECT,
    BOOLEAN,
    DATETIME,
    OK,
    SQL_ERROR,
    STRING,
    Endpoint,
    Operation,
    Param,
    Response,
    array,
    nullable,
    obj,
    open_obj,
)
from desctom.db.queries.export import CONTENT_TYPES

TAG = "sql"

QUERY_BODY = obj(
    {
        "query": {
            "oneOf": [STRING, array(STRING, minItems=1)],
            "description": "One SQL statement or a list of them (run in one read-only transaction).",
        },
        "subdict": nullable(
            {
                "oneOf": [ANY_OBJECT, array(ANY_OBJECT)],
                "description": "Parameters of `%(name)s` placeholders (one dict per query).",
            }
        ),
    },
    ["query"],
)
SUBMIT_BODY = obj(
    {
        **QUERY_BODY["properties"],
        "format": {"type": "string", "enum": sorted(CONTENT_TYPES), "default": "csv"},
    },
    ["query"],
)
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


def answer(ok_schema: dict, what: str) -> dict:
    return {
        200: Response(
            f'{what}, or `{{"status": "error", "error": ...}}` for a bad request or SQL.',
            {"oneOf": [ok_schema, SQL_ERROR]},
        )
    }


_results_errors = {
    404: Response("Unknown query (or another user's).", media=("text/plain",)),
    409: Response("Not started, not finished, or failed.", media=("text/plain",)),
    410: Response("The results are gone (pruned).", media=("text/plain",)),
}

ENDPOINTS = [
    Endpoint(
        "db:runsqlquery",
        "/db/runsqlquery/",
        (
            Operation(
                "post",
                "Run SQL now (read-only, time-limited)",
                {
                    **answer(
                        obj({"status": OK, "rows": array(ANY_OBJECT)}, ["status", "rows"]),
                        "The last query's rows",
                    ),
                    413: Response("The answer is over DESCTOM_SQL_MAX_BYTES: use the queue.", SQL_ERROR),
                    429: Response("Too many fast queries running (yours, everyone's, or this worker's): "
                                  "retry after Retry-After seconds, or use the queue.", SQL_ERROR,
                                  headers=("Retry-After",)),
                },
                body=QUERY_BODY,
            ),
        ),
    ),
    Endpoint(
        "db:submitsqlquery",
        "/db/submitsqlquery/",
        (
            Operation(
                "post",
                "Queue a long query",
                answer(
                    obj(
                        {"status": OK, "queryid": {"type": "string", "format": "uuid"}}, ["status", "queryid"]
                    ),
                    "The queued query's id",
                ),
                body=SUBMIT_BODY,
            ),
        ),
        writes=("db_queryqueue",),
    ),
    Endpoint(
        "db:checksqlquery",
        "/db/checksqlquery/{queryid}/",
        (
            Operation(
                "post",
                "State of a queued query",
                answer(DESCRIBED, "The query"),
                "Own queries only (admins: anyone's).",
            ),
        ),
        path_params=(QUERYID,),
    ),
    Endpoint(
        "db:getsqlqueryresults",
        "/db/getsqlqueryresults/{queryid}/",
        (
            Operation(
                "post",
                "Results of a finished query",
                {
                    200: Response(
                        "The result file (CSV, pickled pandas DataFrame or Parquet, as submitted).",
                        media=tuple(CONTENT_TYPES[k].split(";")[0] for k in sorted(CONTENT_TYPES)),
                    ),
                    **_results_errors,
                },
            ),
        ),
        path_params=(QUERYID,),
    ),
    Endpoint(
        "db:listsqlqueries",
        "/db/listsqlqueries/",
        (
            Operation(
                "post",
                "Queued queries",
                answer(
                    obj({"status": OK, "queries": array(LISTED)}, ["status", "queries"]),
                    "The caller's queries, newest first (at most 1000)",
                ),
                body=obj({"all": {**BOOLEAN, "description": "Everyone's (admins only)."}}),
            ),
        ),
    ),
    Endpoint(
        "db:schema",
        "/db/schema/",
        (
            Operation(
                "get",
                "Tables the SQL API reads",
                answer(
                    obj({"status": OK, "tables": obj({}, additional=ANY_OBJECT)}, ["status", "tables"]),
                    "Tables, columns, keys and comments",
                ),
            ),
            Operation(
                "post",
                "Tables the SQL API reads (POST)",
                answer(
                    obj({"status": OK, "tables": obj({}, additional=ANY_OBJECT)}, ["status", "tables"]),
                    "The same as GET",
                ),
            ),
        ),
    ),
]
