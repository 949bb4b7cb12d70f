"""Fast SQL (``db/runsqlquery/``): a user's statements on the users' database — the read replica when
one is configured (:mod:`.replica`), else the primary — as the read-only role, under the caps of
:mod:`.sqlexec`, the rows as JSON (split from sqlexec so that :mod:`.replica` can use sqlexec)."""

from __future__ import annotations

import json

import psycopg

from desctom.core import config
from desctom.db.queries import replica
from desctom.db.queries.sqlexec import (
    _ENCODER,
    QUEUE_HINT,
    ReplicaUnavailable,
    Rows,
    SqlError,
    TooLarge,
    check_still_in_transaction,
    error_text,
    guarded,
    jsonable,
    render,
    run_statement,
)


def run_fast(queries: list[str], subdicts: list[dict], cfg: config.Config | None = None) -> list[dict]:
    """Run the statements in order; the rows of the last one as dicts (at most the row/byte caps)."""
    return json.loads(run_fast_json(queries, subdicts, cfg))


def run_fast_json(queries: list[str], subdicts: list[dict], cfg: config.Config | None = None) -> str:
    """As :func:`run_fast`, the rows as JSON text built row by row (never past the byte cap)."""
    cfg = cfg or config.load()
    seconds, cap, max_bytes = cfg.sql_timeout, cfg.sql_max_rows, cfg.sql_max_bytes
    fired = None
    conn = replica.users_connection(seconds, cfg, fallback=True)
    try:
        with guarded(conn, seconds) as fired:
            for query, subdict in zip(queries[:-1], subdicts[:-1], strict=True):
                run_statement(conn, render(conn, query, subdict), cfg)
            cur = conn.cursor()
            rows_in = Rows(cur, render(conn, queries[-1], subdicts[-1]), 1000)
            parts, size, names = [], 2, None
            for count, row in enumerate(rows_in, start=1):
                if count > cap:
                    rows_in.close()
                    raise SqlError(f"the query returned more than {cap} rows, the limit of db/runsqlquery/: "
                                   f"add a LIMIT, or {QUEUE_HINT}")
                if names is None:
                    names = [col.name for col in cur.description]
                text = _ENCODER.encode({n: jsonable(v) for n, v in zip(names, row, strict=True)})
                size += len(text) + 2
                if size > max_bytes:
                    rows_in.close()
                    raise TooLarge(f"the answer is larger than {max_bytes} bytes, the limit of "
                                   f"db/runsqlquery/ (DESCTOM_SQL_MAX_BYTES): {QUEUE_HINT}")
                parts.append(text)
            check_still_in_transaction(conn)
            if rows_in.no_result:
                raise SqlError("no results to fetch")
            return "[" + ", ".join(parts) + "]"
    except TooLarge:
        raise
    except (psycopg.Error, SqlError) as exc:
        if isinstance(exc, psycopg.OperationalError) and cfg.sql_database_url:
            problem = replica.replica_ready(cfg)  # the replica went away under the query: 503
            if problem:
                raise ReplicaUnavailable(problem) from None
        raise SqlError(error_text(exc, fired, seconds)) from None
    finally:
        conn.close()
