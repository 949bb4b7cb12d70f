"""Copy what brokers classified from the PPDB into the local ("known") tables (reference §3.5).

One call of :func:`update_known_tables` is one transaction:

1. take the updater's lock: a transaction-level advisory lock, and the single row of
   ``elasticc2_importppdbrunning`` locked ``FOR UPDATE NOWAIT`` (created if missing), so older
   tools that honour that row also wait; either held elsewhere -> :class:`UpdateRunning`;
2. the source ids to process: the ``elasticc2_brokersourceids`` queue (or, with ``doall``, every
   ``diasource_id`` of ``elasticc2_brokermessage``); ids absent from the PPDB are counted and dropped;
3. their objects, then the sources themselves, are copied (``ON CONFLICT DO NOTHING``);
4. forced photometry of every affected object up to its latest known detection is copied, reading
   the PPDB forced table through its ``diaobject_id`` index (an object's few hundred rows);
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
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg

from desctom.elasticc2.queries.consensus import upsert_consensus, upsert_consensus_as_of
from desctom.survey.columns import FORCED_COLUMNS, OBJECT_COLUMNS, SOURCE_COLUMNS

#: Advisory lock key of the updater (any 64-bit constant; "E2KNOWN" in ASCII).
LOCK_KEY = 0x45324B4E4F574E
#: Temporary tables of one run (dropped at the end of the run, or at commit/rollback).
_TEMP = ("_known_ids", "_known_src", "_known_obj", "_known_maxmjd", "_known_changed")


class UpdateRunning(Exception):
    """Another update of the known tables holds the lock."""


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

    def summary(self) -> str:
        return (f"{self.source_ids:,} source ids processed ({self.unknown_ids:,} not in the PPDB, ignored); "
                f"added {self.objects_added:,} objects, {self.sources_added:,} sources, "
                f"{self.forced_added:,} forced sources; {self.objectinfo_upserted:,} diaobjectinfo rows "
                f"upserted; {self.classifications_upserted:,} latest classifications upserted; "
                f"{self.source_classifications_upserted:,} per-detection latest classifications upserted; "
                f"{self.consensus_upserted:,} consensus classes and {self.consensus_as_of_upserted:,} "
                f"consensus-as-of rows changed; "
                f"{self.seconds:.2f} s")


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
    "  WHERE p.diaobject_id = m.diaobject_id AND p.midpointtai + 0 <= m.maxmjd OFFSET 0) f "
    "ON CONFLICT DO NOTHING")

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


def _run(cur, doall: bool, explain: bool) -> UpdateResult:
    res = UpdateResult()
    run = _Steps(cur, res)
    _lock(cur)
    run.step("ids")
    run.sql("DROP TABLE IF EXISTS " + ", ".join(_TEMP))
    run.sql("CREATE TEMP TABLE _known_ids (diasource_id bigint PRIMARY KEY) ON COMMIT DROP")
    queue = ("SELECT DISTINCT diasource_id FROM elasticc2_brokermessage" if doall
             else "SELECT diasource_id FROM elasticc2_brokersourceids")
    res.source_ids = run.sql(f"INSERT INTO _known_ids {queue}")
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
    run.sql("CREATE TEMP TABLE _known_maxmjd ON COMMIT DROP AS "
            "SELECT s.diaobject_id, max(s.midpointtai) AS maxmjd FROM _known_obj o "
            "JOIN elasticc2_diasource s ON s.diaobject_id = o.diaobject_id GROUP BY s.diaobject_id")
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


def update_known_tables(*, doall: bool = False, connection=None, explain: bool = False) -> UpdateResult:
    """Run one update in one transaction; see the module docstring.

    ``connection``: a Django connection (default: ``django.db.connection``) or a psycopg one. Inside
    an enclosing transaction the update is a savepoint (and the lock lasts until that transaction
    ends). ``explain`` stores the plan of the forced-source step in the result. Raises
    :class:`UpdateRunning` if another update holds the lock; any other error propagates after the
    rollback.
    """
    start = time.perf_counter()
    if isinstance(connection, psycopg.Connection):
        with connection.transaction(), connection.cursor() as cur:
            res = _run(cur, doall, explain)
    else:
        from django.db import connection as default_connection
        from django.db import transaction

        conn = connection or default_connection
        with transaction.atomic(using=conn.alias), conn.cursor() as cur:
            res = _run(cur, doall, explain)
    res.seconds = time.perf_counter() - start
    return res


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
