"""Building the alert sender's Avro messages, in this process or in forked worker processes."""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator

from desctom.elasticc2.queries.alerts import AlertBatch

#: History of the WFD and DDF-full alerts, and of the DDF-limited ones (days).
FULL_DAYS = 365.0
LIMITED_DAYS = 30.0

#: One built alert: (alert_id, source midpointtai, Avro with 365 days, Avro with 30 days or None).
Built = tuple[int, float, bytes, bytes | None]


class BuiltChunk(list):
    """The built alerts of one chunk (a list of :data:`Built`), with the seconds spent reading the
    PPDB (``fetch_seconds``) and encoding Avro (``encode_seconds``) in the process that built it."""

    fetch_seconds: float = 0.0
    encode_seconds: float = 0.0


def build_chunk(rows: list[tuple[int, float, bool]]) -> BuiltChunk:
    """Avro of the ``(alert_id, midpointtai, isddf)`` rows, in their order; DDF alerts also with 30 days.

    DDF and WFD alerts are built as separate batches, so only DDF alerts pay for the second
    (30-day) encoding.
    """
    full: dict[int, bytes] = {}
    limited: dict[int, bytes] = {}
    wfd = [r[0] for r in rows if not r[2]]
    ddf = [r[0] for r in rows if r[2]]
    fetch = encode = 0.0
    t0 = time.perf_counter()
    if wfd:
        batch = AlertBatch(wfd, max_daysprevious=FULL_DAYS)
        t1 = time.perf_counter()
        full.update(batch.avro(FULL_DAYS))
        t2 = time.perf_counter()
        fetch, encode, t0 = fetch + t1 - t0, encode + t2 - t1, t2
    if ddf:
        batch = AlertBatch(ddf, max_daysprevious=FULL_DAYS)
        t1 = time.perf_counter()
        full.update(batch.avro(FULL_DAYS))
        limited = batch.avro(LIMITED_DAYS)
        t2 = time.perf_counter()
        fetch, encode = fetch + t1 - t0, encode + t2 - t1
    missing = [r[0] for r in rows if r[0] not in full]
    if missing:
        raise LookupError(f"{len(missing)} alerts vanished from the PPDB while sending (e.g. {missing[0]})")
    out = BuiltChunk((aid, mjd, full[aid], limited.get(aid) if isddf else None) for aid, mjd, isddf in rows)
    out.fetch_seconds, out.encode_seconds = fetch, encode
    return out


def _worker_init(parent: int) -> None:
    """In a forked worker: leave Ctrl-C to the parent and never use the parent's database sessions."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.connection = None  # psycopg closes a session only in the process that opened it


def _die_with_parent(parent: int) -> None:
    """Linux: get SIGKILL when the sender dies, even by SIGKILL (pool workers would wait forever)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class Builder:
    """Turns chunks of alert rows into built alerts, in order; ``nprocs`` > 0 uses forked workers.

    With workers, up to ``nprocs + 1`` chunks are being built while the caller produces the
    previous one. Use as a context manager; the pool is forked on entry, so close the parent's
    Django connections first.
    """

    def __init__(self, nprocs: int = 0):
        self.nprocs = nprocs
        self.pool = None

    def __enter__(self):
        if self.nprocs > 0:
            import multiprocessing

            from django.db import connections

            connections.close_all()
            self.pool = multiprocessing.get_context("fork").Pool(self.nprocs, initializer=_worker_init,
                                                                 initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def built(self, chunks: Iterable[list[tuple[int, float, bool]]]) -> Iterator[BuiltChunk]:
        """The built alerts of every chunk, chunk by chunk, in the chunks' order."""
        if self.pool is None:
            for rows in chunks:
                yield build_chunk(rows)
            return
        pending = deque()
        for rows in chunks:
            pending.append(self.pool.apply_async(build_chunk, (rows,)))
            if len(pending) > self.nprocs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
