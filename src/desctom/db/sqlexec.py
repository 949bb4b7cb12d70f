"""Running users' SQL as the read-only role: request parsing, connections, statements, JSON values.

Every statement goes through the extended query protocol (one statement per string, so no
``...; ROLLBACK; ...`` smuggling), inside one transaction armed with the commit guard and always
rolled back. A server-side ``statement_timeout`` bounds each statement; a client-side timer
cancels the whole request if a user raised that timeout with ``SET``.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import itertools
import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from psycopg import pq
from psycopg.adapt import Dumper, Transformer

from desctom import config
from desctom.db.models import FORMATS
from desctom.db.roles import ARM_FUNCTION

#: Extra seconds the client-side timer allows beyond the server's statement_timeout.
CANCEL_GRACE = 5
_DJANGO_JSON = DjangoJSONEncoder()
QUEUE_HINT = "use the long-query queue (db/submitsqlquery/) for long or large queries"


class SqlError(Exception):
    """A problem to report to the user as ``{"status": "error", "error": str(exc)}``."""


def extract_queries(data, with_format: bool = False) -> tuple[list[str], list[dict], str]:
    """``(queries, subdicts, format)`` from a request body, with the reference's error texts."""
    if not isinstance(data, dict):
        raise SqlError("POST data must be a JSON object")
    if "query" not in data:
        raise SqlError("POST data must include 'query'")
    queries = data["query"]
    if isinstance(queries, str):
        queries = [queries]
    elif not isinstance(queries, list):
        raise SqlError("query must be either a list of strings or a string")
    if not all(isinstance(q, str) for q in queries):
        raise SqlError("queries must all be strings")
    if not queries:
        raise SqlError("query must not be an empty list")
    if any("\x00" in q for q in queries):
        raise SqlError("queries must not contain NUL characters")
    if "subdict" not in data or data["subdict"] is None:
        subdicts = [{} for _ in queries]
    else:
        subdicts = data["subdict"]
        if isinstance(subdicts, dict):
            subdicts = [subdicts]
        elif not isinstance(subdicts, list):
            raise SqlError("subdict must be either a list of dicts or a dict")
        if not all(isinstance(s, dict) for s in subdicts):
            raise SqlError("subdicts must all be dicts")
    if len(subdicts) != len(queries):
        raise SqlError("number of queries and subdicts must match")
    fmt = "csv"
    if with_format:
        fmt = data.get("format", "csv")
        if fmt not in FORMATS:
            raise SqlError(f"Unknown format {fmt}")
    return queries, subdicts, fmt


class _InList(tuple):
    """A subdict list: rendered ``(v1, v2, ...)`` as psycopg2 rendered tuples, so ``IN %(x)s`` works."""


class _InListDumper(Dumper):
    def dump(self, obj):  # only client-side (literal) rendering is used
        return self.quote(obj)

    def quote(self, obj) -> bytes:
        if not obj:
            raise SqlError("an empty list in subdict cannot be rendered (IN () is not valid SQL)")
        tx = Transformer(self.connection)
        return b"(" + b", ".join(tx.as_literal(v) for v in obj) + b")"


def substitutions(subdict: dict) -> dict:
    """The subdict as psycopg parameters: lists become tuples (so ``IN %(x)s`` works)."""
    return {k: _InList(v) if isinstance(v, list) else v for k, v in subdict.items()}


def connect(statement_timeout: int, cfg: config.Config | None = None) -> psycopg.Connection:
    """A new connection as the read-only role to Django's database (UTC, ISO dates)."""
    from django.db import connection as django_conn

    cfg = cfg or config.load()
    db = django_conn.settings_dict
    options = f"-c statement_timeout={statement_timeout * 1000} -c TimeZone=UTC -c DateStyle=ISO"
    try:
        return psycopg.connect(host=db.get("HOST") or None, port=db.get("PORT") or None, dbname=db["NAME"],
                               user=cfg.sql_role, password=config.sql_password(cfg), options=options,
                               connect_timeout=10, application_name="desctom-sql")
    except psycopg.OperationalError as exc:
        raise SqlError(f"the SQL interface is not available (cannot connect as {cfg.sql_role}): "
                       f"{str(exc).strip()}") from None


@contextmanager
def guarded(conn: psycopg.Connection, seconds: int) -> Iterator[threading.Event]:
    """Arm the commit guard; cancel the connection's query after ``seconds`` + grace; always roll back.

    Yields an event that is set if the client-side timer cancelled the query.
    """
    fired = threading.Event()

    def cancel():
        fired.set()
        conn.cancel_safe(timeout=10)

    timer = threading.Timer(seconds + CANCEL_GRACE, cancel)
    timer.daemon = True
    timer.start()
    try:
        conn.execute(f"SELECT public.{ARM_FUNCTION}()")
        yield fired
    finally:
        timer.cancel()
        try:
            conn.rollback()
        except psycopg.Error:
            pass


def render(conn: psycopg.Connection, query: str, subdict: dict) -> str:
    """The statement with its parameters substituted client-side (psycopg2 style)."""
    if not subdict:
        return query
    cur = psycopg.ClientCursor(conn)
    cur.adapters.register_dumper(_InList, _InListDumper)
    try:
        return cur.mogrify(query, substitutions(subdict))
    except KeyError as exc:
        raise SqlError(f"query parameter {exc} is missing from subdict") from None
    except (psycopg.ProgrammingError, TypeError, ValueError) as exc:
        raise SqlError(f"cannot substitute subdict into query: {exc}") from None


def check_still_in_transaction(conn: psycopg.Connection) -> None:
    """Refuse to go on when a statement ended the guarded transaction (ROLLBACK, COMMIT AND CHAIN...)."""
    if conn.info.transaction_status != pq.TransactionStatus.INTRANS:
        raise SqlError("transaction control statements (COMMIT, ROLLBACK, ...) are not allowed: "
                       "the queries run in one transaction that is always rolled back")


class Rows:
    """The rows of one statement, sent with the extended protocol (so one statement only).

    After iteration, ``no_result`` tells a statement without a result set (``CREATE TEMP TABLE``).
    """

    def __init__(self, cur: psycopg.Cursor, text: str, size: int):
        self.no_result = False
        self._gen = self._rows(cur, text, size)

    def _rows(self, cur, text, size) -> Iterator[tuple]:
        try:
            yield from cur.stream(text, size=size)
        except psycopg.ProgrammingError as exc:
            if exc.sqlstate is not None or "didn't produce a result" not in str(exc):
                raise
            self.no_result = True

    def __iter__(self):
        return self._gen

    def close(self) -> None:
        self._gen.close()


def run_statement(conn: psycopg.Connection, text: str) -> None:
    """Execute one statement and discard any rows it returns."""
    with conn.cursor() as cur:
        for _ in Rows(cur, text, 10_000):
            pass
    check_still_in_transaction(conn)


def error_text(exc: BaseException, fired: threading.Event | None, seconds: int) -> str:
    """The message the user sees for an exception raised while running their SQL."""
    if isinstance(exc, SqlError):
        return str(exc)
    if fired is not None and fired.is_set():
        return f"query cancelled: it ran longer than the limit of {seconds} s; {QUEUE_HINT}"
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, psycopg.errors.QueryCanceled):
        text += f" (the limit is {seconds} s; {QUEUE_HINT})"
    return text


def run_fast(queries: list[str], subdicts: list[dict], cfg: config.Config | None = None) -> list[dict]:
    """Run the statements in order; the rows of the last one as dicts (at most the row cap)."""
    cfg = cfg or config.load()
    seconds, cap = cfg.sql_timeout, cfg.sql_max_rows
    fired = None
    conn = connect(seconds, cfg)
    try:
        with guarded(conn, seconds) as fired:
            for query, subdict in zip(queries[:-1], subdicts[:-1], strict=True):
                run_statement(conn, render(conn, query, subdict))
            cur = conn.cursor()
            rows_in = Rows(cur, render(conn, queries[-1], subdicts[-1]), 1000)
            rows = list(itertools.islice(iter(rows_in), cap + 1))
            if len(rows) > cap:
                rows_in.close()
                raise SqlError(f"the query returned more than {cap} rows, the limit of db/runsqlquery/: "
                               f"add a LIMIT, or {QUEUE_HINT}")
            check_still_in_transaction(conn)
            if rows_in.no_result:
                raise SqlError("no results to fetch")
            if not rows:
                return []
            names = [col.name for col in cur.description]
            return [{name: jsonable(v) for name, v in zip(names, row, strict=True)} for row in rows]
    except (psycopg.Error, SqlError) as exc:
        raise SqlError(error_text(exc, fired, seconds)) from None
    finally:
        conn.close()


def jsonable(value):
    """A JSON-safe form of a database value (NaN/inf as null, bytes as base64, arrays as lists).

    Dates, times, decimals and UUIDs render as Django's JSON encoder renders them (as the
    reference did): ``2024-03-28T17:05:01.123Z``, decimals as strings.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        return None
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID)):
        return _DJANGO_JSON.default(value)
    return str(value)
