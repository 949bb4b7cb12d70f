"""Bounding the fast queries running at once, per user and in total, across every web worker.

A request takes one of ``DESCTOM_SQL_FAST_PER_USER`` per-user slots and one of
``DESCTOM_SQL_FAST_TOTAL`` shared slots: each slot is a PostgreSQL session advisory lock taken with
``pg_try_advisory_lock`` on the web thread's own (app role) connection, so the bound holds across
gunicorn's processes and threads, and a worker that dies releases its slots with its connection.
The users' SQL role cannot take advisory locks (:func:`desctom.db.workers.roles.sandbox`), so users cannot
hold slots themselves. No slot free: :class:`Busy`, answered at once with HTTP 429.

gunicorn's gthread worker accepts connections beyond its threads and queues them to its thread pool,
so a process bound matters too: at most half of a worker's ``DESCTOM_WEB_THREADS`` (at least one) run
users' SQL at once, and the other threads stay free for pages, ``/healthz`` and the API.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.db import connection

from desctom.core import config

#: Advisory lock classes (first key of the two-key form): shared slots, then per-user slot i.
TOTAL_CLASS = 0x44535154  # "DSQT"
USER_CLASS = 0x44535500   # "DSU" + slot number (user id as the second key)
RETRY_AFTER = 5


class Busy(Exception):
    """No fast-query slot is free; ``str(exc)`` tells why."""


_process_slots: threading.BoundedSemaphore | None = None
_process_lock = threading.Lock()


def _process_semaphore(cfg: config.Config) -> tuple[threading.BoundedSemaphore, int]:
    global _process_slots
    size = max(1, cfg.web_threads // 2)
    with _process_lock:
        if _process_slots is None:
            _process_slots = threading.BoundedSemaphore(size)
    return _process_slots, size


def _try(key1: int, key2: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [key1, key2])
        return bool(cur.fetchone()[0])


def _release(keys: list[tuple[int, int]]) -> None:
    with connection.cursor() as cur:
        for key1, key2 in keys:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [key1, key2])


def _first_free(keys: list[tuple[int, int]]) -> tuple[int, int] | None:
    return next((key for key in keys if _try(*key)), None)


@contextmanager
def fast_query_slot(user_id: int, cfg: config.Config | None = None):
    """Hold one per-user and one shared slot while the block runs, or raise :class:`Busy`."""
    cfg = cfg or config.load()
    process, size = _process_semaphore(cfg)
    if not process.acquire(blocking=False):
        raise Busy(f"this web worker already runs {size} SQL queries, half of its threads "
                   "(DESCTOM_WEB_THREADS): try again in a few seconds, or use the long-query queue "
                   "(db/submitsqlquery/)")
    held = []
    try:
        mine = _first_free([(USER_CLASS + i, int(user_id)) for i in range(cfg.sql_fast_per_user)])
        if mine is None:
            raise Busy(f"you already run {cfg.sql_fast_per_user} queries at once, the limit of "
                       "db/runsqlquery/ per user (DESCTOM_SQL_FAST_PER_USER): wait for one to finish, or "
                       "use the long-query queue (db/submitsqlquery/)")
        held.append(mine)
        shared = _first_free([(TOTAL_CLASS, i) for i in range(cfg.sql_fast_total)])
        if shared is None:
            raise Busy(f"{cfg.sql_fast_total} queries are running, the limit of db/runsqlquery/ for "
                       "everyone (DESCTOM_SQL_FAST_TOTAL): try again in a few seconds, or use the "
                       "long-query queue (db/submitsqlquery/)")
        held.append(shared)
        yield
    finally:
        try:
            if held:
                _release(held)
        finally:
            process.release()
