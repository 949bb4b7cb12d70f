"""The long-query runner: claim queued queries, run them as the read-only role, write the result files.

Claiming uses ``FOR UPDATE SKIP LOCKED``, so any number of runners can work side by side and
never run the same query. The claiming statement also takes a session advisory lock on the
query, held while it runs: a query marked started whose lock nobody holds belongs to a runner
that died, and is marked as errored (not re-run: it might be what killed the runner).

With ``--loop`` (:meth:`Runner.serve`) the runner outlives database restarts: it waits with
back-off until PostgreSQL answers again, then puts back in the queue the query the outage
interrupted (at most ``MAX_OUTAGE_RETRIES`` times) and carries on.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pyarrow as pa

from desctom import config
from desctom.common.bulkcopy import connect as app_connect
from desctom.db import sqlexec
from desctom.db.export import Sink, export_last

log = logging.getLogger("desctom.long_query_runner")

_LOCK_KEY = "hashtextextended(queryid::text, 0)"
ABANDONED = "the runner running this query stopped before it finished; submit it again"
#: Times a query interrupted by a database outage is run again before it is marked as errored.
MAX_OUTAGE_RETRIES = 3
#: SQLSTATE prefixes meaning no usable connection: 08 connection exception, 57P server shutdown/crash,
#: 53300 too many connections.
_LOST_STATES = ("08", "57P", "53300")


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
        self.conn = app_connect(autocommit=True) if connect else None
        self.current: Claimed | None = None  # the query being run, if any
        self._interrupted: dict[str, int] = {}  # queries an outage interrupted -> how many times

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    # -- queue bookkeeping ------------------------------------------------------------------
    def claim(self) -> Claimed | None:
        """Mark the oldest queued query started and lock it; None if nothing is queued."""
        row = self.conn.execute(
            "UPDATE db_queryqueue SET started = now() WHERE queryid = ("
            " SELECT queryid FROM db_queryqueue WHERE started IS NULL ORDER BY submitted"
            " LIMIT 1 FOR UPDATE SKIP LOCKED) "
            f"RETURNING queryid, queries, subdicts, format, pg_advisory_lock({_LOCK_KEY})").fetchone()
        if row is None:
            return None
        return Claimed(str(row[0]), list(row[1]), [s or {} for s in row[2]], row[3])

    def _finish(self, queryid: str, errortext: str | None = None) -> None:
        self.conn.execute("UPDATE db_queryqueue SET finished = now(), error = %s, errortext = %s "
                          "WHERE queryid = %s", (errortext is not None, errortext, queryid))

    def _requeue(self, queryid: str) -> None:
        self.conn.execute("UPDATE db_queryqueue SET started = NULL WHERE queryid = %s AND finished IS NULL",
                          (queryid,))

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
        """Run queued queries forever; sleep ``idle_sleep`` s when the queue is empty.

        A lost or refused database connection is logged and retried with back-off (1 s doubling
        to 30 s); the query it interrupted goes back to the queue. Ctrl-C/SIGTERM ends the loop.
        """
        delay = 1.0
        while True:
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = app_connect(autocommit=True)
                    log.info("connected to the database")
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
                time.sleep(idle_sleep)

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
            conn = sqlexec.connect(seconds, self.cfg)
            try:
                with sqlexec.guarded(conn, seconds) as fired:
                    for query, subdict in zip(job.queries[:-1], job.subdicts[:-1], strict=True):
                        sqlexec.run_statement(conn, sqlexec.render(conn, query, subdict))
                    sink = Sink(part, job.format, progress=self._progress(job.queryid))
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
                raise  # not the query's fault: serve() retries it once the database is back
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
