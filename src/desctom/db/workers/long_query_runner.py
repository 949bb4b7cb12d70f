"""The long-query runner: claim queued queries, run them as the read-only role, write the result files.

Claiming uses ``FOR UPDATE SKIP LOCKED``, so any number of runners (``DESCTOM_SQL_RUNNERS``) can
work side by side and never run the same query. Fair share: a runner claims the oldest queued query
of the owner with the fewest running queries. Each claim counts in ``attempts`` (persisted), so a
query is never claimed more than :data:`MAX_ATTEMPTS` times, whatever restarts in between.
The claiming statement also takes a session advisory lock on the
query, held while it runs: a query marked started whose lock nobody holds belongs to a runner
that died, and is marked as errored (not re-run: it might be what killed the runner).

With ``--loop`` (:meth:`Runner.serve`) the runner outlives database restarts: it waits with
back-off until PostgreSQL answers again, then puts back in the queue the query the outage
interrupted (at most ``MAX_OUTAGE_RETRIES`` times) and carries on. A query whose own connection
is terminated while the runner's bookkeeping connection still answers (it killed its own backend,
or an admin terminated it) is marked as errored at once: that is not an outage.

With ``--loop`` the runner waits for work on PostgreSQL ``LISTEN`` (:mod:`queue_wakeup`): a
submitted query starts at once, and the idle sleep only bounds the wait (the polling fallback).

With a read replica (``DESCTOM_SQL_DATABASE_URL``, :mod:`desctom.db.queries.replica`) the queries
run there while the queue stays on the primary; while the replica is down or lags too far behind,
the runner claims nothing and queued queries stay queued (never errored, never run on the primary).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pyarrow as pa

from desctom.core import config
from desctom.core.bulkcopy import connect as app_connect
from desctom.db.queries import replica, sqlexec
from desctom.db.queries.export import Sink, export_last
from desctom.db.workers.queue_wakeup import CHANNEL, QueueListener

log = logging.getLogger("desctom.long_query_runner")

_LOCK_KEY = "hashtextextended(queryid::text, 0)"
ABANDONED = "the runner running this query stopped before it finished; submit it again"
#: Times a query interrupted by a database outage is run again before it is marked as errored.
MAX_OUTAGE_RETRIES = 3
#: Claims of one query at most (the first run plus the outage retries); persisted in ``attempts``.
MAX_ATTEMPTS = MAX_OUTAGE_RETRIES + 1
TERMINATED = ("the query's database connection was terminated while the database stayed available "
              "(for example by pg_terminate_backend); it is not run again")
#: Claim order: the owner with the fewest running queries first, then the oldest submission.
FAIR_ORDER = ("(SELECT count(*) FROM db_queryqueue r WHERE r.owner_id IS NOT DISTINCT FROM q.owner_id"
              " AND r.started IS NOT NULL AND r.finished IS NULL), q.submitted")
#: SQLSTATE prefixes meaning no usable connection: 08 connection exception, 57P server shutdown/crash,
#: 53300 too many connections.
_LOST_STATES = ("08", "57P", "53300")
#: ``application_name`` of a runner's bookkeeping connection.
RUNNER_NAME = "desctom-long-query-runner"


def _connect():
    return app_connect(autocommit=True, application_name=RUNNER_NAME)


def database_lost(exc: BaseException) -> bool:
    """True if ``exc`` means the database connection is gone (not a bad query, not a timeout)."""
    if isinstance(exc, psycopg.InterfaceError):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith(_LOST_STATES)


@dataclass
class Claimed:
    queryid: str
    queries: list[str]
    subdicts: list[dict]
    format: str


def result_path(cfg: config.Config, queryid) -> Path:
    return cfg.sql_results_dir / str(queryid)


class Runner:
    """One runner process: its own bookkeeping connection (autocommit) holds the advisory locks."""

    def __init__(self, cfg: config.Config | None = None, connect: bool = True):
        self.cfg = cfg or config.load()
        self.conn = _connect() if connect else None
        self.listener = QueueListener()  # used by serve()
        self.current: Claimed | None = None  # the query being run, if any
        self._interrupted: dict[str, int] = {}  # queries an outage interrupted -> how many times
        self._replica_problem: str | None = None  # why the read replica is unusable (logged once)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.listener.close()

    # -- queue bookkeeping ------------------------------------------------------------------
    def claim(self) -> Claimed | None:
        """Mark the next queued query (fair share) started and lock it; None if nothing is queued.

        Queries already claimed :data:`MAX_ATTEMPTS` times are marked as errored instead.
        """
        self.conn.execute(
            "UPDATE db_queryqueue SET finished = now(), error = true, errortext = %s "
            "WHERE started IS NULL AND finished IS NULL AND attempts >= %s",
            (f"the query was interrupted {MAX_ATTEMPTS} times; submit it again", MAX_ATTEMPTS))
        row = self.conn.execute(
            "UPDATE db_queryqueue SET started = now(), attempts = attempts + 1 WHERE queryid = ("
            " SELECT q.queryid FROM db_queryqueue q WHERE q.started IS NULL AND q.finished IS NULL"
            f" ORDER BY {FAIR_ORDER} LIMIT 1 FOR UPDATE OF q SKIP LOCKED) "
            f"RETURNING queryid, queries, subdicts, format, pg_advisory_lock({_LOCK_KEY})").fetchone()
        if row is None:
            return None
        return Claimed(str(row[0]), list(row[1]), [s or {} for s in row[2]], row[3])

    def _finish(self, queryid: str, errortext: str | None = None) -> None:
        self.conn.execute("UPDATE db_queryqueue SET finished = now(), error = %s, errortext = %s "
                          "WHERE queryid = %s", (errortext is not None, errortext, queryid))

    def _requeue(self, queryid: str) -> None:
        """Put a query back in the queue, and wake the runners (another one may take it at once)."""
        self.conn.execute("WITH back AS (UPDATE db_queryqueue SET started = NULL WHERE queryid = %s "
                          "AND finished IS NULL RETURNING 1) SELECT pg_notify(%s, '') FROM back",
                          (queryid, CHANNEL))

    def _release(self, queryid: str) -> None:
        """Put a claimed query back in the queue as if never claimed (the replica was not usable)."""
        self.conn.execute("UPDATE db_queryqueue SET started = NULL, attempts = greatest(attempts - 1, 0) "
                          "WHERE queryid = %s AND finished IS NULL", (queryid,))

    def replica_usable(self) -> bool:
        """Whether users' queries can run now: no replica configured, or it answers within its lag bound."""
        problem = replica.replica_ready(self.cfg)
        if problem != self._replica_problem:
            if problem:
                log.warning("not running queued queries: %s", problem)
            else:
                log.info("the SQL read replica is usable again")
            self._replica_problem = problem
        return problem is None

    def _unlock(self, queryid: str) -> None:
        self.conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s::text, 0))", (queryid,))

    def recover_abandoned(self) -> int:
        """Mark as errored the started, unfinished queries whose runner is gone."""
        count = 0
        rows = self.conn.execute("SELECT queryid FROM db_queryqueue "
                                 "WHERE started IS NOT NULL AND finished IS NULL").fetchall()
        for (queryid,) in rows:
            got = self.conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s::text, 0))",
                                    (str(queryid),)).fetchone()[0]
            if got:
                try:
                    cur = self.conn.execute("UPDATE db_queryqueue SET finished = now(), error = true, "
                                            "errortext = %s WHERE queryid = %s AND finished IS NULL "
                                            "AND started IS NOT NULL", (ABANDONED, queryid))
                    count += cur.rowcount
                finally:
                    self._unlock(str(queryid))
        if count:
            log.warning("marked %d abandoned queries as errored", count)
        return count

    def prune(self, days: float) -> tuple[int, int]:
        """Delete finished queries older than ``days`` and their files; returns (rows, files)."""
        ids = [str(r[0]) for r in self.conn.execute(
            "DELETE FROM db_queryqueue WHERE finished IS NOT NULL AND finished < now() - make_interval("
            "secs => %s) RETURNING queryid", (days * 86400,)).fetchall()]
        files = 0
        for queryid in ids:
            path = result_path(self.cfg, queryid)
            try:
                path.unlink()
                files += 1
            except FileNotFoundError:
                pass
        log.info("pruned %d queries finished more than %g days ago (%d result files)", len(ids), days, files)
        return len(ids), files

    # -- running -----------------------------------------------------------------------------
    def run_once(self) -> Claimed | None:
        """Run the oldest queued query, if any; returns it. Ctrl-C puts it back in the queue."""
        self.recover_abandoned()
        if not self.replica_usable():
            return None
        job = self.claim()
        if job is None:
            return None
        self.current = job
        try:
            self._run(job)
        except BaseException:
            try:
                self._unlock(job.queryid)
            except psycopg.Error:  # the connection is gone, and the lock with it
                pass
            raise
        self._unlock(job.queryid)
        self.current = None
        return job

    def serve(self, idle_sleep: float) -> None:
        """Run queued queries forever; when the queue is empty, wait until a query is queued
        (``NOTIFY``), at most ``idle_sleep`` s.

        A lost or refused database connection is logged and retried with back-off (1 s doubling
        to 30 s); the query it interrupted goes back to the queue. Ctrl-C/SIGTERM ends the loop.
        """
        delay = 1.0
        while True:
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = _connect()
                    log.info("connected to the database")
                self.listener.ready()  # before the claim: a query queued after it wakes the wait below
                self._requeue_interrupted()
                job = self.run_once()
                delay = 1.0
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if not database_lost(exc):
                    raise
                if self.current is not None:
                    queryid = self.current.queryid
                    self._interrupted[queryid] = self._interrupted.get(queryid, 0) + 1
                    self.current = None
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                log.warning("database unavailable (%s); retrying in %.0f s", first, delay)
                self.close()
                self.conn = None
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if job is None:
                self.listener.wait(idle_sleep)

    def _requeue_interrupted(self) -> None:
        """Put back in the queue the queries an outage interrupted (errored after too many tries)."""
        for queryid, times in list(self._interrupted.items()):
            if times > MAX_OUTAGE_RETRIES:
                self._finish(queryid, f"the database connection was lost {times} times while this query "
                                      "ran; submit it again")
                log.warning("query %s: errored after %d database outages", queryid, times)
            else:
                self._requeue(queryid)
                log.warning("query %s: interrupted by a database outage; put back in the queue", queryid)
            del self._interrupted[queryid]

    def _run(self, job: Claimed) -> None:
        seconds = self.cfg.sql_queue_timeout
        final = result_path(self.cfg, job.queryid)
        part = final.with_name(final.name + ".part")
        log.info("query %s: started (%d statements, format %s)", job.queryid, len(job.queries), job.format)
        t0 = time.monotonic()
        fired = None
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = replica.users_connection(seconds, self.cfg, fallback=False)
            except sqlexec.ReplicaUnavailable as exc:  # went away since replica_usable(): wait for it
                self._release(job.queryid)
                log.warning("query %s: put back in the queue: %s", job.queryid, exc)
                return
            try:
                with sqlexec.guarded(conn, seconds) as fired:
                    for query, subdict in zip(job.queries[:-1], job.subdicts[:-1], strict=True):
                        sqlexec.run_statement(conn, sqlexec.render(conn, query, subdict), self.cfg)
                    sink = Sink(part, job.format, progress=self._progress(job.queryid),
                                max_bytes=self.cfg.sql_result_max_bytes)
                    rows = export_last(conn, sqlexec.render(conn, job.queries[-1], job.subdicts[-1]), sink)
                    sink.close()
            finally:
                conn.close()
            os.replace(part, final)
        except KeyboardInterrupt:
            _remove_quietly(part)
            self._requeue(job.queryid)
            log.warning("query %s: interrupted; put back in the queue", job.queryid)
            raise
        except (psycopg.Error, sqlexec.SqlError, pa.ArrowException, OSError, ValueError) as exc:
            _remove_quietly(part)
            if database_lost(exc) and not (fired is not None and fired.is_set()):
                if self.cfg.sql_database_url and replica.replica_ready(self.cfg) is not None:
                    self._release(job.queryid)  # the replica went down under the query: run it later
                    log.warning("query %s: the read replica went away; put back in the queue", job.queryid)
                    return
                if not self._database_answers():
                    raise  # not the query's fault: serve() retries it once the database is back
                text = TERMINATED
            else:
                text = sqlexec.error_text(exc, fired, seconds)
            if isinstance(exc, OSError) and not isinstance(exc, psycopg.Error):
                text = f"cannot write the result file in {final.parent}: {text}"
            self._finish(job.queryid, text)
            log.info("query %s: error: %s", job.queryid, text)
            return
        self._finish(job.queryid)
        elapsed = time.monotonic() - t0
        log.info("query %s: finished, %d rows in %.1f s (%.0f rows/s)", job.queryid, rows, elapsed,
                 rows / elapsed if elapsed else 0)

    def _database_answers(self) -> bool:
        """Whether the database stayed up: the bookkeeping connection still answers (a shutdown
        terminates every backend at once) and so does a fresh connection (a server shutting down
        refuses new ones)."""
        time.sleep(0.2)  # let a server-wide shutdown reach the other backends first
        try:
            self.conn.execute("SELECT 1").fetchone()
            with app_connect(autocommit=True) as fresh:
                fresh.execute("SELECT 1").fetchone()
            return True
        except psycopg.Error:
            return False

    @staticmethod
    def _progress(queryid: str):
        def report(rows: int) -> None:
            log.info("query %s: %d rows written", queryid, rows)
        return report


def _remove_quietly(path: Path) -> None:
    """Delete ``path`` if it exists; an unusable results dir must not hide the real error."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def queue_position(cursor, queryid) -> int | None:
    """1-based place of a queued query in the runners' claim order now (None if not queued)."""
    cursor.execute(f"SELECT pos FROM (SELECT q.queryid, row_number() OVER (ORDER BY {FAIR_ORDER}) AS pos "
                   "FROM db_queryqueue q WHERE q.started IS NULL AND q.finished IS NULL) w "
                   "WHERE queryid = %s", [queryid])
    row = cursor.fetchone()
    return int(row[0]) if row else None
