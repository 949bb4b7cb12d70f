"""Copy what brokers classified from the PPDB into the local ("known") tables (reference §3.5).

One update (one transaction, or one chunk of a chunked run; see below):

1. take the updater's lock: a transaction-level advisory lock, and the single row of
   ``elasticc2_importppdbrunning`` locked ``FOR UPDATE NOWAIT`` (created if missing), so older
   tools that honour that row also wait; either held elsewhere -> :class:`UpdateRunning`;
2. the source ids to process: the ``elasticc2_brokersourceids`` queue (or, with ``doall``, every
   ``diasource_id`` of ``elasticc2_brokermessage``); ids absent from the PPDB are counted and dropped;
3. their objects, then the sources themselves, are copied (``ON CONFLICT DO NOTHING``);
4. forced photometry of every affected object up to its latest known detection is copied, reading
   the PPDB forced table through its ``diaobject_id`` index (an object's few hundred rows); only the
   rows from the time of the object's latest known forced source on are inserted (the rest are there:
   the known forced photometry is always the PPDB's up to a time), except with ``doall``, which
   offers every row again and so also repairs known forced photometry written by other means;
5. ``elasticc2_diaobjectinfo`` gets the first and the latest detection per (object, band),
   upserted on ``(diaobject_id, filtername)`` (rows already right are not rewritten);
6. ``elasticc2_diaobjectlatestclassification`` gets, per (object, classifier), the latest message
   among those of the processed sources, where it is later than the row already there (the order:
   the detection's ``midpointtai``, then ``descingesttimestamp``, then ``brokermessage_id``);
7. ``elasticc2_diasourcelatestclassification`` gets, per (processed source, classifier), its latest
   message (by ``descingesttimestamp``, then ``brokermessage_id``), where later than the row there;
8. ``elasticc2_diaobjectconsensus`` is recomputed for the affected objects, and
   ``elasticc2_diaobjectconsensusasof`` for their detections from the earliest one whose latest
   message changed in step 7 (:mod:`desctom.elasticc2.queries.consensus`; rows already right are not
   rewritten);
9. the processed ids leave the queue (not with ``doall``); ids queued meanwhile stay.

Any error rolls the whole transaction back: every table stays exactly as it was.

With ``chunk=N`` the queue (or, with ``doall``, every classified source) is first planned into
chunks of whole objects -- all the queued ids of an object in the same chunk, objects in id order
until about N ids, ids not in the PPDB in chunks of their own -- and each chunk is one such
transaction, committed before the next starts. A run killed between or during chunks leaves the
committed chunks done and dequeued and the others queued: a rerun plans what is left. The run holds
a session advisory lock on the same key for its whole length, so no other updater runs between
its chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import psycopg

from desctom.elasticc2.queries.consensus import upsert_consensus, upsert_consensus_as_of
from desctom.survey.columns import FORCED_COLUMNS, OBJECT_COLUMNS, SOURCE_COLUMNS

#: Advisory lock key of the updater (any 64-bit constant; "E2KNOWN" in ASCII).
LOCK_KEY = 0x45324B4E4F574E
#: Temporary tables of one run (dropped at the end of the run, or at commit/rollback).
_TEMP = ("_known_ids", "_known_src", "_known_obj", "_known_maxmjd", "_known_changed")


class UpdateRunning(Exception):
    """Another update of the known tables holds the lock."""


class ChunkFailed(Exception):
    """A chunk after the first failed: it was rolled back, the chunks before it stay committed."""

    def __init__(self, message: str, done: UpdateResult):
        super().__init__(message)
        self.done = done


@dataclass
class UpdateResult:
    """What one update did."""

    source_ids: int = 0          # source ids processed (taken from the queue, or all with doall)
    unknown_ids: int = 0         # of those, ids not in the PPDB (ignored, still dequeued)
    objects_added: int = 0
    sources_added: int = 0
    forced_added: int = 0
    objectinfo_upserted: int = 0  # diaobjectinfo rows inserted or changed
    classifications_upserted: int = 0  # diaobjectlatestclassification rows inserted or replaced
    source_classifications_upserted: int = 0  # diasourcelatestclassification rows inserted or replaced
    consensus_upserted: int = 0  # diaobjectconsensus rows inserted or changed
    consensus_as_of_upserted: int = 0  # diaobjectconsensusasof rows inserted or changed
    seconds: float = 0.0
    forced_plan: str | None = None  # EXPLAIN of the forced-source step, when asked for
    step_seconds: dict[str, float] = field(default_factory=dict)  # where the time went
    chunks: int = 0  # transactions committed (1 for an unchunked run)
    stopped: bool = False  # a chunked run asked to stop before its queue was done

    def add(self, other: UpdateResult) -> None:
        """Add up another chunk's counts and step times (``seconds`` is the caller's)."""
        for f in fields(self):
            if f.type == "int":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        for name, sec in other.step_seconds.items():
            self.step_seconds[name] = self.step_seconds.get(name, 0.0) + sec
        self.forced_plan = self.forced_plan or other.forced_plan

    def summary(self) -> str:
        return (f"{self.source_ids:,} source ids processed ({self.unknown_ids:,} not in the PPDB, ignored); "
                f"added {self.objects_added:,} objects, {self.sources_added:,} sources, "
                f"{self.forced_added:,} forced sources; {self.objectinfo_upserted:,} diaobjectinfo rows "
                f"upserted; {self.classifications_upserted:,} latest classifications upserted; "
                f"{self.source_classifications_upserted:,} per-detection latest classifications upserted; "
                f"{self.consensus_upserted:,} consensus classes and {self.consensus_as_of_upserted:,} "
                f"consensus-as-of rows changed; "
                + (f"{self.chunks:,} chunks; " if self.chunks > 1 else "")
                + ("stopped before the end of the queue; " if self.stopped else "")
                + f"{self.seconds:.2f} s")


def _cols(columns, prefix: str = "") -> str:
    return ", ".join(prefix + c for c in columns)


_FORCED_STEP = (
    f"INSERT INTO elasticc2_diaforcedsource ({_cols(FORCED_COLUMNS)}) "
    f"SELECT {_cols(FORCED_COLUMNS, 'f.')} "
    "FROM (SELECT * FROM _known_maxmjd ORDER BY diaobject_id) m CROSS JOIN LATERAL ("
    # One lookup per object through the diaobject_id index, whatever the statistics say (the original
    # forced this plan with pg_hint_plan, reference §7.1): "OFFSET 0" keeps the planner from turning
    # the per-object subquery into a hash join over the whole table, "+ 0" from using the
    # midpointtai index instead of (or AND-ed with) the diaobject_id one.
    f"  SELECT {_cols(FORCED_COLUMNS)} FROM elasticc2_ppdbdiaforcedsource p "
    "  WHERE p.diaobject_id = m.diaobject_id AND p.midpointtai + 0 <= m.maxmjd "
    "  AND p.midpointtai + 0 >= m.knownmjd OFFSET 0) f "
    "ON CONFLICT DO NOTHING")

#: Per affected object: the time of its latest known detection (``maxmjd``), and the time from which
#: its forced photometry is to be copied (``knownmjd``): that of the latest forced source it already
#: has -- one backward probe of the light-curve index -- or -infinity (``{known}``: the expression).
#: The known forced photometry of an object is always the PPDB's up to a time (each update copies up
#: to the latest known detection), so only what follows needs copying; the rows at that very time go
#: again and meet ON CONFLICT.
_MAXMJD_STEP = """
CREATE TEMP TABLE _known_maxmjd ON COMMIT DROP AS
SELECT m.diaobject_id, m.maxmjd, {known} AS knownmjd
FROM (SELECT s.diaobject_id, max(s.midpointtai) AS maxmjd FROM _known_obj o
      JOIN elasticc2_diasource s ON s.diaobject_id = o.diaobject_id GROUP BY s.diaobject_id) m
"""
_KNOWN_FROM = ("coalesce((SELECT f.midpointtai FROM elasticc2_diaforcedsource f "
               "WHERE f.diaobject_id = m.diaobject_id ORDER BY f.midpointtai DESC LIMIT 1), '-infinity')")

_INFO_STEP = """
WITH ordered AS (
    SELECT s.diaobject_id, s.filtername, s.diasource_id, s.psflux, s.psfluxerr, s.midpointtai,
           row_number() OVER (PARTITION BY s.diaobject_id, s.filtername
                              ORDER BY s.midpointtai, s.diasource_id) AS up,
           row_number() OVER (PARTITION BY s.diaobject_id, s.filtername
                              ORDER BY s.midpointtai DESC, s.diasource_id DESC) AS down
    FROM elasticc2_diasource s JOIN _known_obj o ON o.diaobject_id = s.diaobject_id
), summary AS (
    SELECT diaobject_id, filtername,
           max(diasource_id) FILTER (WHERE up = 1) AS first_id,
           max(psflux) FILTER (WHERE up = 1) AS first_flux,
           max(psfluxerr) FILTER (WHERE up = 1) AS first_fluxerr,
           max(midpointtai) FILTER (WHERE up = 1) AS first_mjd,
           max(diasource_id) FILTER (WHERE down = 1) AS latest_id,
           max(psflux) FILTER (WHERE down = 1) AS latest_flux,
           max(psfluxerr) FILTER (WHERE down = 1) AS latest_fluxerr,
           max(midpointtai) FILTER (WHERE down = 1) AS latest_mjd
    FROM ordered WHERE up = 1 OR down = 1 GROUP BY diaobject_id, filtername
)
INSERT INTO elasticc2_diaobjectinfo AS i
    (diaobject_id, filtername, firstsource_id, firstsourceflux, firstsourcefluxerr, firstsourcemjd,
     latestsource_id, latestsourceflux, latestsourcefluxerr, latestsourcemjd)
SELECT diaobject_id, filtername, first_id, first_flux, first_fluxerr, first_mjd,
       latest_id, latest_flux, latest_fluxerr, latest_mjd
FROM summary
ON CONFLICT (diaobject_id, filtername) DO UPDATE SET
    firstsource_id = EXCLUDED.firstsource_id, firstsourceflux = EXCLUDED.firstsourceflux,
    firstsourcefluxerr = EXCLUDED.firstsourcefluxerr, firstsourcemjd = EXCLUDED.firstsourcemjd,
    latestsource_id = EXCLUDED.latestsource_id, latestsourceflux = EXCLUDED.latestsourceflux,
    latestsourcefluxerr = EXCLUDED.latestsourcefluxerr, latestsourcemjd = EXCLUDED.latestsourcemjd
WHERE (i.firstsource_id, i.firstsourceflux, i.firstsourcefluxerr, i.firstsourcemjd,
       i.latestsource_id, i.latestsourceflux, i.latestsourcefluxerr, i.latestsourcemjd)
      IS DISTINCT FROM
      (EXCLUDED.firstsource_id, EXCLUDED.firstsourceflux, EXCLUDED.firstsourcefluxerr,
       EXCLUDED.firstsourcemjd, EXCLUDED.latestsource_id, EXCLUDED.latestsourceflux,
       EXCLUDED.latestsourcefluxerr, EXCLUDED.latestsourcemjd)
"""


#: Per (object, classifier) the latest message among the messages of the sources ``{sources}`` (a
#: relation with a ``diasource_id`` column) that are known, upserted where it is later than the row there.
_LATEST_CLASSIFICATION = """
INSERT INTO elasticc2_diaobjectlatestclassification AS l
    (diaobject_id, classifier_id, diasource_id, midpointtai, descingesttimestamp, brokermessage_id,
     classid, probability)
SELECT DISTINCT ON (s.diaobject_id, m.classifier_id)
       s.diaobject_id, m.classifier_id, s.diasource_id, s.midpointtai, m.descingesttimestamp,
       m.brokermessage_id, m.classid, m.probability
FROM {sources} q
JOIN elasticc2_diasource s ON s.diasource_id = q.diasource_id
JOIN elasticc2_brokermessage m ON m.diasource_id = q.diasource_id
JOIN elasticc2_brokerclassifier c ON c.classifier_id = m.classifier_id
ORDER BY s.diaobject_id, m.classifier_id,
         s.midpointtai DESC, m.descingesttimestamp DESC, m.brokermessage_id DESC
ON CONFLICT (diaobject_id, classifier_id) DO UPDATE SET
    diasource_id = EXCLUDED.diasource_id, midpointtai = EXCLUDED.midpointtai,
    descingesttimestamp = EXCLUDED.descingesttimestamp, brokermessage_id = EXCLUDED.brokermessage_id,
    classid = EXCLUDED.classid, probability = EXCLUDED.probability
WHERE (EXCLUDED.midpointtai, EXCLUDED.descingesttimestamp, EXCLUDED.brokermessage_id)
      > (l.midpointtai, l.descingesttimestamp, l.brokermessage_id)
"""

#: Per (source, classifier) the latest message among the messages of the known sources ``{sources}``
#: (a relation with a ``diasource_id`` column), upserted where it is later than the row there; per
#: object, the earliest detection time of the rows it changed and their number go to ``_known_changed``.
_SOURCE_CLASSIFICATION = """
WITH changed AS (
INSERT INTO elasticc2_diasourcelatestclassification AS l
    (diasource_id, classifier_id, diaobject_id, midpointtai, descingesttimestamp, brokermessage_id)
SELECT DISTINCT ON (q.diasource_id, m.classifier_id)
       q.diasource_id, m.classifier_id, s.diaobject_id, s.midpointtai, m.descingesttimestamp,
       m.brokermessage_id
FROM {sources} q
JOIN elasticc2_diasource s ON s.diasource_id = q.diasource_id
JOIN elasticc2_brokermessage m ON m.diasource_id = q.diasource_id
JOIN elasticc2_brokerclassifier c ON c.classifier_id = m.classifier_id
ORDER BY q.diasource_id, m.classifier_id, m.descingesttimestamp DESC, m.brokermessage_id DESC
ON CONFLICT (diasource_id, classifier_id) DO UPDATE SET
    descingesttimestamp = EXCLUDED.descingesttimestamp, brokermessage_id = EXCLUDED.brokermessage_id
WHERE (EXCLUDED.descingesttimestamp, EXCLUDED.brokermessage_id) > (l.descingesttimestamp, l.brokermessage_id)
RETURNING l.diaobject_id, l.midpointtai)
INSERT INTO _known_changed SELECT diaobject_id, min(midpointtai), count(*) FROM changed GROUP BY diaobject_id
"""
_CHANGED_TABLE = ("CREATE TEMP TABLE _known_changed (diaobject_id bigint PRIMARY KEY, since float8, "
                  "n bigint) ON COMMIT DROP")


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a psycopg error, also when Django wrapped it."""
    for e in (exc, exc.__cause__):
        if isinstance(e, psycopg.Error) and e.sqlstate:
            return e.sqlstate
    return None


def _lock(cur) -> None:
    """Take the updater's advisory lock and the importppdbrunning row, or raise UpdateRunning.

    A refused lock aborts the transaction; the caller's rollback undoes everything.
    """
    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (LOCK_KEY,))
    if not cur.fetchone()[0]:
        raise UpdateRunning("another update of the known tables is running (advisory lock held); "
                            "try again when it has finished")
    try:
        cur.execute("SELECT id, running FROM elasticc2_importppdbrunning ORDER BY id LIMIT 1 "
                    "FOR UPDATE NOWAIT")
    except Exception as exc:
        if _sqlstate(exc) != "55P03":  # lock_not_available
            raise
        raise UpdateRunning("another update is running (the elasticc2_importppdbrunning row is locked); "
                            "try again when it has finished") from None
    row = cur.fetchone()
    if row is None:  # the original's migration made the row; make it if it is missing
        cur.execute("INSERT INTO elasticc2_importppdbrunning (running) VALUES (false)")
    elif row[1]:
        raise UpdateRunning("another update is running: elasticc2_importppdbrunning.running is true (set by "
                            "an older updater; if none runs, one crashed: set running to false)")


class _Steps:
    """Runs the statements of one update, adding up the seconds of each step."""

    def __init__(self, cur, res: UpdateResult):
        self.cur, self.res, self.name, self.t = cur, res, "lock", time.perf_counter()

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.res.step_seconds[self.name] = self.res.step_seconds.get(self.name, 0.0) + now - self.t
        self.name, self.t = name, now

    def sql(self, statement: str, params=None) -> int:
        self.cur.execute(statement, params)
        return self.cur.rowcount


def _queue(doall: bool) -> str:
    return ("SELECT DISTINCT diasource_id FROM elasticc2_brokermessage" if doall
            else "SELECT diasource_id FROM elasticc2_brokersourceids")


def _run(cur, doall: bool, explain: bool, ids: str | None = None, params=None) -> UpdateResult:
    """One update of the source ids ``ids`` (a query; default: the whole queue) in the current transaction."""
    res = UpdateResult(chunks=1)
    run = _Steps(cur, res)
    _lock(cur)
    run.step("ids")
    run.sql("DROP TABLE IF EXISTS " + ", ".join(_TEMP))
    run.sql("CREATE TEMP TABLE _known_ids (diasource_id bigint PRIMARY KEY) ON COMMIT DROP")
    res.source_ids = run.sql(f"INSERT INTO _known_ids {ids or _queue(doall)}", params)
    run.sql("ANALYZE _known_ids")
    found = run.sql("CREATE TEMP TABLE _known_src ON COMMIT DROP AS "
                    "SELECT s.diasource_id, s.diaobject_id FROM _known_ids i "
                    "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = i.diasource_id")
    res.unknown_ids = res.source_ids - found
    run.sql("ANALYZE _known_src")
    run.sql("CREATE TEMP TABLE _known_obj ON COMMIT DROP AS "
            "SELECT DISTINCT diaobject_id FROM _known_src WHERE diaobject_id IS NOT NULL")
    run.sql("ALTER TABLE _known_obj ADD PRIMARY KEY (diaobject_id)")
    run.sql("ANALYZE _known_obj")

    run.step("objects")
    res.objects_added = run.sql(
        f"INSERT INTO elasticc2_diaobject ({_cols(OBJECT_COLUMNS)}) SELECT {_cols(OBJECT_COLUMNS, 'p.')} "
        "FROM _known_obj o JOIN elasticc2_ppdbdiaobject p ON p.diaobject_id = o.diaobject_id "
        "ON CONFLICT DO NOTHING")
    run.step("sources")
    res.sources_added = run.sql(
        f"INSERT INTO elasticc2_diasource ({_cols(SOURCE_COLUMNS)}) SELECT {_cols(SOURCE_COLUMNS, 'p.')} "
        "FROM _known_src k JOIN elasticc2_ppdbdiasource p ON p.diasource_id = k.diasource_id "
        "ON CONFLICT DO NOTHING")

    run.step("forced")
    run.sql(_MAXMJD_STEP.format(known="'-infinity'::float8" if doall else _KNOWN_FROM))
    run.sql("ANALYZE _known_maxmjd")
    if explain:
        cur.execute("EXPLAIN " + _FORCED_STEP)
        res.forced_plan = "\n".join(r[0] for r in cur.fetchall())
    res.forced_added = run.sql(_FORCED_STEP)

    run.step("objectinfo")
    res.objectinfo_upserted = run.sql(_INFO_STEP)
    run.step("classifications")
    res.classifications_upserted = run.sql(_LATEST_CLASSIFICATION.format(sources="_known_ids"))
    run.step("source classifications")
    run.sql(_CHANGED_TABLE)
    run.sql(_SOURCE_CLASSIFICATION.format(sources="_known_ids"))
    cur.execute("SELECT COALESCE(sum(n), 0) FROM _known_changed")
    res.source_classifications_upserted = int(cur.fetchone()[0])
    run.sql("ANALYZE _known_changed")
    run.step("consensus")
    res.consensus_upserted = upsert_consensus(cur, "_known_obj")
    run.step("consensus as of")
    res.consensus_as_of_upserted = upsert_consensus_as_of(cur, "_known_changed")
    run.step("dequeue")
    if not doall:
        run.sql("DELETE FROM elasticc2_brokersourceids q USING _known_ids i "
                "WHERE q.diasource_id = i.diasource_id")
    run.sql("DROP TABLE " + ", ".join(_TEMP))
    run.step("")
    return res


def update_known_tables(*, doall: bool = False, connection=None, explain: bool = False,
                        chunk: int | None = None, progress: Callable | None = None,
                        stop: Callable[[], bool] | None = None) -> UpdateResult:
    """Run one update; see the module docstring.

    ``connection``: a Django connection (default: ``django.db.connection``) or a psycopg one. Inside
    an enclosing transaction each transaction is a savepoint (and the lock lasts until that
    transaction ends). ``explain`` stores the plan of the (first) forced-source step in the result.
    ``chunk``: about that many source ids per transaction, whole objects (None or 0: one
    transaction); ``progress(total, done_ids, planned_ids)`` is called after each committed chunk;
    ``stop()`` true stops before the next chunk. Raises :class:`UpdateRunning` if another update
    holds the lock; any other error propagates after the rollback of the failing transaction
    (wrapped in :class:`ChunkFailed` when earlier chunks were committed).
    """
    start = time.perf_counter()
    atomic = _atomic_for(connection)
    if chunk:
        res = _chunked(atomic, doall, explain, chunk, progress, stop or (lambda: False))
    else:
        with atomic() as cur:
            res = _run(cur, doall, explain)
    res.seconds = time.perf_counter() - start
    return res


def _atomic_for(connection):
    """A context-manager factory: one transaction (or savepoint) on ``connection``, giving a cursor."""
    from contextlib import contextmanager

    if isinstance(connection, psycopg.Connection):
        @contextmanager
        def atomic():
            with connection.transaction(), connection.cursor() as cur:
                yield cur
        atomic.in_transaction = connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        return atomic
    from django.db import connection as default_connection
    from django.db import transaction

    conn = connection or default_connection

    @contextmanager
    def atomic():
        with transaction.atomic(using=conn.alias), conn.cursor() as cur:
            yield cur
    atomic.in_transaction = conn.in_atomic_block
    return atomic


#: The chunks of a run: each id of the queue with its chunk number (whole objects per chunk, in
#: object-id order; ids not in the PPDB, or without an object, after them in chunks of their own).
_PLAN = """
CREATE TEMP TABLE _known_plan AS
WITH q AS (
    SELECT q.diasource_id, s.diaobject_id FROM ({queue}) q
    LEFT JOIN elasticc2_ppdbdiasource s ON s.diasource_id = q.diasource_id
), per AS (
    SELECT diaobject_id, count(*) AS n FROM q WHERE diaobject_id IS NOT NULL GROUP BY diaobject_id
), numbered AS (
    SELECT diaobject_id, ((sum(n) OVER (ORDER BY diaobject_id))::bigint - n) / %(n)s AS chunk FROM per
)
SELECT q.diasource_id, o.chunk FROM q JOIN numbered o ON o.diaobject_id = q.diaobject_id
UNION ALL
SELECT diasource_id, (SELECT COALESCE(max(chunk), -1) + 1 FROM numbered)
                     + (row_number() OVER (ORDER BY diasource_id) - 1) / %(n)s
FROM q WHERE diaobject_id IS NULL
"""


def _chunked(atomic, doall: bool, explain: bool, size: int, progress, stop) -> UpdateResult:
    total = UpdateResult()
    session_lock = not atomic.in_transaction  # inside a transaction the chunks' xact locks last anyway
    with atomic() as cur:
        if session_lock:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
            if not cur.fetchone()[0]:
                raise UpdateRunning("another update of the known tables is running (advisory lock held); "
                                    "try again when it has finished")
    try:
        with atomic() as cur:
            cur.execute("DROP TABLE IF EXISTS _known_plan")
            cur.execute(_PLAN.format(queue=_queue(doall)), {"n": size})
            planned = cur.rowcount
            cur.execute("CREATE INDEX ON _known_plan (chunk)")
            cur.execute("ANALYZE _known_plan")
            cur.execute("SELECT DISTINCT chunk FROM _known_plan ORDER BY 1")
            chunks = [r[0] for r in cur.fetchall()]
        for k in chunks or [None]:
            if total.chunks and stop():
                total.stopped = True
                break
            try:
                with atomic() as cur:
                    one = _run(cur, doall, explain and not total.chunks,
                               "SELECT diasource_id FROM _known_plan WHERE chunk = %(k)s", {"k": k})
            except UpdateRunning:
                raise
            except Exception as exc:
                if not total.chunks:
                    raise
                raise ChunkFailed(f"chunk {total.chunks + 1} of {len(chunks)} failed and was rolled back; "
                                  f"the {total.chunks} chunks before it ({total.source_ids:,} source ids) "
                                  f"stay committed: {' '.join(str(exc).split())}", total) from exc
            total.add(one)
            if progress is not None:
                progress(total, total.source_ids, planned)
        with atomic() as cur:
            cur.execute("DROP TABLE IF EXISTS _known_plan")
    finally:
        if session_lock:
            try:
                with atomic() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            except Exception:  # a lost connection has dropped the lock already
                pass
    return total


def rebuild_latest_classifications(connection=None) -> int:
    """Recompute ``elasticc2_diaobjectlatestclassification`` and
    ``elasticc2_diasourcelatestclassification`` from every stored message of a known source, and
    ``elasticc2_diaobjectconsensus`` and ``elasticc2_diaobjectconsensusasof`` from them (for data
    written without ``update_elasticc2_sources``, e.g. by SQL); returns the latest-classification rows."""
    from django.db import connection as default_connection
    from django.db import transaction

    conn = connection or default_connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        cur.execute("DELETE FROM elasticc2_diaobjectlatestclassification")
        cur.execute(_LATEST_CLASSIFICATION.format(
            sources="(SELECT DISTINCT diasource_id FROM elasticc2_brokermessage)"))
        rows = cur.rowcount
        cur.execute("DELETE FROM elasticc2_diasourcelatestclassification")
        cur.execute("DROP TABLE IF EXISTS _known_changed")
        cur.execute(_CHANGED_TABLE)
        cur.execute(_SOURCE_CLASSIFICATION.format(
            sources="(SELECT DISTINCT diasource_id FROM elasticc2_brokermessage)"))
        cur.execute("DELETE FROM elasticc2_diaobjectconsensus")
        upsert_consensus(cur, "(SELECT DISTINCT diaobject_id FROM elasticc2_diaobjectlatestclassification)")
        cur.execute("DELETE FROM elasticc2_diaobjectconsensusasof")
        upsert_consensus_as_of(cur, "_known_changed")
        cur.execute("DROP TABLE _known_changed")
        return rows
