"""Running users' SQL as the read-only role: connections, statements, JSON values.

Every statement goes through the extended query protocol (one statement per string, so no
``...; ROLLBACK; ...`` smuggling), inside one transaction armed with the commit guard and always
rolled back. A server-side ``statement_timeout`` bounds each statement; a client-side timer
cancels the whole request if a user raised that timeout with ``SET``.

PostgreSQL lets any role ``SET`` user-context settings, so after every statement but the last
:func:`check_limits` reads the capped settings (:data:`CAPPED`) and refuses the request if one is
above its value at connection time, and refuses it if the session's temporary tables grew beyond
``DESCTOM_SQL_TEMP_MAX_BYTES``. The answer of ``db/runsqlquery/`` is built as JSON text row by
row and refused once it passes ``DESCTOM_SQL_MAX_BYTES`` (:class:`TooLarge`).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from psycopg import pq
from psycopg.adapt import Dumper, Transformer

from desctom.core import config
from desctom.db.workers.roles import ARM_FUNCTION

#: Extra seconds the client-side timer allows beyond the server's statement_timeout.
CANCEL_GRACE = 5
_DJANGO_JSON = DjangoJSONEncoder()
_ENCODER = json.JSONEncoder(allow_nan=False)
QUEUE_HINT = "use the long-query queue (db/submitsqlquery/) for long or large queries"


class SqlError(Exception):
    """A problem to report to the user as ``{"status": "error", "error": str(exc)}``."""


class ReplicaUnavailable(SqlError):
    """The read replica does not answer or lags too far behind (answered with HTTP 503)."""


class TooLarge(SqlError):
    """The answer is over the byte cap of db/runsqlquery/ (answered with HTTP 413)."""


#: Settings a user may lower but not raise (0 means "no limit" for the timeouts).
CAPPED = ("work_mem", "maintenance_work_mem", "temp_buffers", "hash_mem_multiplier", "statement_timeout",
          "idle_in_transaction_session_timeout", "max_parallel_workers_per_gather")
_UNLIMITED_AT_ZERO = {"statement_timeout", "idle_in_transaction_session_timeout"}
_SETTINGS_SQL = "SELECT name, setting::float8 FROM pg_catalog.pg_settings WHERE name = ANY(%s)"
_TEMP_SQL = ("SELECT coalesce(sum(pg_catalog.pg_total_relation_size(c.oid)), 0) FROM pg_catalog.pg_class c "
             "WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND c.relkind IN ('r', 'm')")


def _settings(conn: psycopg.Connection) -> dict[str, float]:
    values = {}
    for name, value in conn.execute(_SETTINGS_SQL, [list(CAPPED)]).fetchall():
        values[name] = math.inf if value == 0 and name in _UNLIMITED_AT_ZERO else value
    return values


def check_limits(conn: psycopg.Connection, cfg: config.Config) -> None:
    """Refuse to go on if a capped setting was raised or temp tables outgrew their cap."""
    baseline = getattr(conn, "_desctom_caps", None)
    if baseline is None:
        return
    for name, value in _settings(conn).items():
        if value > baseline.get(name, math.inf):
            raise SqlError(f"raising {name} is not allowed: the SQL interface caps it at its default "
                           f"({_shown(baseline[name])}); {QUEUE_HINT}")
    temp = conn.execute(_TEMP_SQL).fetchone()[0]
    if temp > cfg.sql_temp_max_bytes:
        raise SqlError(f"temporary tables take {temp} bytes, more than the limit of {cfg.sql_temp_max_bytes} "
                       "bytes per request (DESCTOM_SQL_TEMP_MAX_BYTES)")


def _shown(value: float) -> str:
    return "no limit" if value == math.inf else f"{value:g}"


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


def connect(statement_timeout: int, cfg: config.Config | None = None, db: dict | None = None,
            ) -> psycopg.Connection:
    """A new connection as the read-only role to ``db`` (Django's database by default; UTC, ISO dates)."""
    from django.db import connection as django_conn

    cfg = cfg or config.load()
    db = db or django_conn.settings_dict
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
        # A hot standby refuses every write itself (and the guard's unlogged table cannot be read there).
        if not conn.execute("SELECT pg_catalog.pg_is_in_recovery()").fetchone()[0]:
            conn.execute(f"SELECT public.{ARM_FUNCTION}()")
        conn._desctom_caps = _settings(conn)
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


def run_statement(conn: psycopg.Connection, text: str, cfg: config.Config | None = None) -> None:
    """Execute one statement and discard any rows it returns; then check the caps."""
    with conn.cursor() as cur:
        for _ in Rows(cur, text, 10_000):
            pass
    check_still_in_transaction(conn)
    check_limits(conn, cfg or config.load())


def error_text(exc: BaseException, fired: threading.Event | None, seconds: int) -> str:
    """The message the user sees for an exception raised while running their SQL."""
    if isinstance(exc, SqlError):
        return str(exc)
    if fired is not None and fired.is_set():
        return f"query cancelled: it ran longer than the limit of {seconds} s; {QUEUE_HINT}"
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, psycopg.errors.QueryCanceled):
        text += f" (the limit is {seconds} s; {QUEUE_HINT})"
    elif isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        text += (" (the SQL interface runs on a read-only replica, a hot standby: temporary tables and "
                 "other writes cannot be made there; use a WITH query or a subquery instead)")
    elif isinstance(exc, psycopg.errors.SerializationFailure) and "recovery" in text:
        text += (" (the read replica had to apply changes from the primary that this query was still "
                 "reading; run it again)")
    return text


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
