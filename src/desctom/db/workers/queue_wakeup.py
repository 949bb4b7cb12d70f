"""Waking the long-query runners at once: ``NOTIFY`` when a query is queued, ``LISTEN`` in each runner.

The submitting transaction calls :func:`notify_queued`; PostgreSQL delivers the notification when
(and only if) that transaction commits, to every runner listening on :data:`CHANNEL`. A runner
waits on its own connection (:class:`QueueListener`), never longer than its idle sleep, so the
queue is still polled when a notification is missed (a query put in the queue by hand, a listening
connection that was lost). A lost listening connection is made again on the next round; it never
stops the runner.
"""

from __future__ import annotations

import logging
import time

import psycopg

from desctom.core.bulkcopy import connect as app_connect

log = logging.getLogger("desctom.long_query_runner")

#: The notification channel of the long-query queue.
CHANNEL = "desctom_sql_queue"
#: ``application_name`` of a runner's listening connection (seen in ``pg_stat_activity``).
LISTENER_NAME = "desctom-queue-listener"
#: Seconds to pause after the listening connection broke, before listening again.
RELISTEN_PAUSE = 1.0


def notify_queued(cursor) -> None:
    """Tell the runners a query was queued (delivered when the caller's transaction commits)."""
    cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


class QueueListener:
    """A runner's dedicated ``LISTEN`` connection (autocommit)."""

    def __init__(self):
        self.conn: psycopg.Connection | None = None
        self._broken = False  # whether the last attempt failed (logged once per failure spell)

    def ready(self) -> bool:
        """Listen (connecting if need be) and drop the notifications already received, which the
        claim that follows covers; False if the database cannot be listened to now."""
        try:
            if self.conn is None or self.conn.closed:
                self.conn = app_connect(autocommit=True, connect_timeout=10, application_name=LISTENER_NAME)
                self.conn.execute(f"LISTEN {CHANNEL}")
                if self._broken:
                    log.info("listening for queued queries again")
                self._broken = False
            for _ in self.conn.notifies(timeout=0):
                pass
            return True
        except psycopg.Error as exc:
            self._lost(exc)
            return False

    def wait(self, timeout: float) -> bool:
        """Sleep until a query is queued or ``timeout`` s pass; True if a notification woke it.

        Without a listening connection this is a plain sleep; a connection that breaks while
        waiting is dropped and the wait ends after :data:`RELISTEN_PAUSE` s so it is made again."""
        if self.conn is None or self.conn.closed:
            time.sleep(timeout)
            return False
        try:
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error as exc:
            self._lost(exc)
            time.sleep(min(timeout, RELISTEN_PAUSE))
            return False

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                pass
            self.conn = None

    def _lost(self, exc: BaseException) -> None:
        if not self._broken:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("cannot listen for queued queries (%s); polling until listening again", first)
        self._broken = True
        self.close()
