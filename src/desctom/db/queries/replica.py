"""Users' SQL on a read replica (issue 18): where a query runs, and whether the replica may be used.

With ``DESCTOM_SQL_DATABASE_URL`` set, the fast SQL API and the long-query runner run users'
queries on that replica (a PostgreSQL hot standby), as the same read-only role with the same
sandbox, caps and timeouts; the query queue and its bookkeeping stay on the primary. Before
running, :func:`users_connection` checks that the replica answers and that its replication lag
(``now() - pg_last_xact_replay_timestamp()``, 0 when all received WAL is replayed) is within
``DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS``. If not, it raises :class:`~sqlexec.ReplicaUnavailable`
(the API answers 503), or, with ``DESCTOM_SQL_REPLICA_FALLBACK=primary`` and ``fallback=True``,
connects to the primary instead.
"""

from __future__ import annotations

import logging

import psycopg

from desctom.core import config
from desctom.db.queries import sqlexec
from desctom.db.queries.sqlexec import ReplicaUnavailable

log = logging.getLogger(__name__)

#: Seconds a client should wait before trying again when the replica is unusable (``Retry-After``).
RETRY_AFTER = 30
#: The standby's replication lag in seconds (0 when every WAL record it received is replayed; a
#: server not in recovery, such as a promoted standby, has none) and whether it is in recovery.
LAG_SQL = ("SELECT pg_catalog.pg_is_in_recovery(), CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN 0 "
           "WHEN pg_catalog.pg_last_wal_receive_lsn() = pg_catalog.pg_last_wal_replay_lsn() THEN 0 "
           "ELSE extract(epoch FROM now() - pg_catalog.pg_last_xact_replay_timestamp())::float8 END")


def where(cfg: config.Config) -> str:
    """The replica as ``host:port/dbname`` (for messages; no credentials)."""
    db = cfg.replica_database_settings() or {}
    return f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"


def lag_seconds(conn: psycopg.Connection) -> float | None:
    """The replication lag of the server ``conn`` talks to (``None``: unknown, no replayed transaction)."""
    _, lag = conn.execute(LAG_SQL).fetchone()
    return lag


def check_fresh(conn: psycopg.Connection, cfg: config.Config) -> None:
    """Raise :class:`ReplicaUnavailable` unless the replica's lag is within the bound."""
    lag = lag_seconds(conn)
    bound = cfg.sql_replica_max_lag
    if lag is None:
        raise ReplicaUnavailable(f"the SQL read replica ({where(cfg)}) has not replayed any transaction "
                                 "from the primary yet, so its lag is unknown; try again later")
    if lag > bound:
        raise ReplicaUnavailable(f"the SQL read replica ({where(cfg)}) is {lag:.0f} s behind the primary, "
                                 f"more than DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS={bound}; try again later")


def replica_connection(seconds: int, cfg: config.Config) -> psycopg.Connection:
    """A connection as the read-only role to the replica, checked fresh (:class:`ReplicaUnavailable`)."""
    try:
        conn = sqlexec.connect(seconds, cfg, cfg.replica_database_settings())
    except sqlexec.SqlError as exc:
        detail = str(exc).split("): ", 1)[-1]
        raise ReplicaUnavailable(f"the SQL read replica ({where(cfg)}) does not answer: {detail}; "
                                 "try again later") from None
    try:
        check_fresh(conn, cfg)
        conn.rollback()
    except psycopg.Error as exc:
        conn.close()
        raise ReplicaUnavailable(f"the SQL read replica ({where(cfg)}) failed its lag check: "
                                 f"{str(exc).strip()}; try again later") from None
    except ReplicaUnavailable:
        conn.close()
        raise
    return conn


def users_connection(seconds: int, cfg: config.Config, fallback: bool) -> psycopg.Connection:
    """Where users' SQL runs: the replica if configured and fresh, else the primary.

    Without a replica: the primary. With one that is unusable: the primary if ``fallback`` and
    ``DESCTOM_SQL_REPLICA_FALLBACK=primary``, else :class:`ReplicaUnavailable`.
    """
    if not cfg.sql_database_url:
        return sqlexec.connect(seconds, cfg)
    try:
        return replica_connection(seconds, cfg)
    except ReplicaUnavailable as exc:
        if fallback and cfg.sql_replica_fallback == "primary":
            log.warning("%s: running the query on the primary (DESCTOM_SQL_REPLICA_FALLBACK=primary)", exc)
            return sqlexec.connect(seconds, cfg)
        raise


def replica_ready(cfg: config.Config) -> str | None:
    """``None`` if the replica is usable now (or none is configured), else why not."""
    if not cfg.sql_database_url:
        return None
    try:
        replica_connection(10, cfg).close()
    except ReplicaUnavailable as exc:
        return str(exc)
    return None
