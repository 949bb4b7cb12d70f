"""Store decoded live messages: sources once, forced sources once, one provenance row per message.

The one write path of the live survey (Kafka pollers, the simulator's tests, the benchmark):

1. the batch's survey objects are associated with root objects (:mod:`.association`, its own short
   transaction);
2. detections and forced sources not known yet are binary-COPYed into a staging table and inserted
   with ``ON CONFLICT DO NOTHING`` (each alert repeats ~30 previous detections and ~100 forced
   sources: a per-process memory of the ids already stored drops most before they reach the
   database; the unique keys make it exact);
3. the root objects' first/latest detection and detection counts follow the new detections;
4. one ``diasource_brokerinfo`` row per message (broker, topic, partition, offset, schema, Kafka
   timestamp, and a ``BrokerMessage``'s classifier and classifications), unique per
   broker/topic/partition/offset: a batch read twice (a poller killed between its database commit
   and its Kafka commit) stores nothing twice.

Steps 2-4 happen in the caller's transaction; the caller commits, then calls :meth:`LiveStore.committed`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import polars as pl
import psycopg

from desctom.core.bulkcopy import copy_arrays
from desctom.elasticc2.workers.brokerstore import ClassifierRegistry
from desctom.live.workers.association import associate
from desctom.survey.lsst_decode import FORCED_COLUMNS, SOURCE_COLUMNS, DecodedBatch

#: The live stream's classifier registry (same shape and registration as the campaign's).
LIVE_CLASSIFIERS = "live_brokerclassifier"
#: More rows than this in a batch: ask the database which it has (see ``_insert_photometry``).
PROBE_ABOVE = 2000
_COPY_TYPES = {pl.Int64: "int8", pl.Int32: "int4", pl.Float64: "float8", pl.Float32: "float4",
               pl.Utf8: "text", pl.Boolean: "bool"}


@dataclass
class MessageMeta:
    """Where each input message came from (lists indexed like the decoder's input)."""

    topic: list[str]
    partition: list[int]
    offset: list[int]
    msgtime_ms: list[int | None]


@dataclass
class LiveStoreResult:
    """What one :meth:`LiveStore.store` did."""

    messages: int = 0
    duplicates: int = 0
    sources: int = 0
    forced: int = 0
    new_roots: int = 0
    classified: int = 0


class SeenIds:
    """Ids this process knows are stored (two generations of at most ``limit`` ids each)."""

    def __init__(self, limit: int = 4_000_000):
        self.limit = limit
        self.current: set[int] = set()
        self.previous: set[int] = set()

    def unknown(self, ids: list[int]) -> np.ndarray:
        """A boolean mask of ``ids``: True where the id is not known to be stored."""
        cur, prev = self.current, self.previous
        return np.fromiter((i not in cur and i not in prev for i in ids), bool, len(ids))

    def add(self, ids) -> None:
        self.current.update(ids)
        if len(self.current) > self.limit:
            self.previous, self.current = self.current, set()

    def clear(self) -> None:
        self.current, self.previous = set(), set()


def _column(series: pl.Series):
    """A polars column as a numpy (masked where null) array for :func:`copy_arrays`."""
    if series.dtype == pl.Utf8:
        values = np.array(series.fill_null("").to_list(), dtype=object)
    elif series.dtype == pl.Boolean:
        values = series.fill_null(False).to_numpy()
    else:
        values = series.fill_null(0).to_numpy()
    if series.null_count():
        return np.ma.MaskedArray(values, mask=series.is_null().to_numpy())
    return values


def _stage(conn: psycopg.Connection, name: str, like: str, columns: list[str]) -> None:
    """An empty temporary table ``name`` with ``columns`` of ``like`` (types only, no constraints)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass('pg_temp.{name}')")
        if cur.fetchone()[0] is None:
            cur.execute(f"CREATE TEMP TABLE {name} ON COMMIT DELETE ROWS AS "
                        f"SELECT {', '.join(columns)} FROM {like} WITH NO DATA")
        else:
            cur.execute(f"TRUNCATE {name}")


class LiveStore:
    """Writes decoded batches of one stream (one instance per poller process)."""

    def __init__(self, broker: str, registry: ClassifierRegistry | None = None):
        self.broker = broker
        self.registry = registry or ClassifierRegistry(LIVE_CLASSIFIERS)
        self.seen_sources = SeenIds()
        self.seen_forced = SeenIds()
        self._pending: tuple[list[int], list[int]] = ([], [])

    # -- public ------------------------------------------------------------------------------------
    def associate(self, conn: psycopg.Connection, batch: DecodedBatch) -> dict:
        """Associate the batch's survey objects (commits on ``conn``); ``{diaobjectid: rootid}``."""
        return associate(conn, _positions(batch))

    def store(self, conn: psycopg.Connection, batch: DecodedBatch, meta: MessageMeta,
              roots: dict | None = None) -> LiveStoreResult:
        """Write ``batch`` in the caller's transaction. ``roots`` is what :meth:`associate` returned
        for it (associated now if not given)."""
        result = LiveStoreResult()
        if not len(batch):
            return result
        if roots is None:
            roots = self.associate(conn, batch)
        root_of = _root_lookup(roots)
        new_src, result.sources = self._insert_photometry(conn, batch.sources, "diasource", "diasourceid",
                                                          SOURCE_COLUMNS, self.seen_sources, root_of,
                                                          stats=True)
        new_fs, result.forced = self._insert_photometry(conn, batch.forced, "diaforcedsource",
                                                        "diaforcedsourceid", FORCED_COLUMNS, self.seen_forced,
                                                        root_of)
        self._pending[0].extend(new_src)
        self._pending[1].extend(new_fs)
        result.messages, result.classified = self._insert_provenance(conn, batch, meta, root_of)
        result.duplicates = len(batch) - result.messages
        return result

    def committed(self) -> None:
        """The caller committed: remember the ids stored (they need not reach the database again)."""
        self.seen_sources.add(self._pending[0])
        self.seen_forced.add(self._pending[1])
        self._pending = ([], [])

    def rolled_back(self) -> None:
        """The caller rolled back: forget what this batch would have stored."""
        self._pending = ([], [])
        self.registry.forget()

    # -- steps ---------------------------------------------------------------------------------------
    def _insert_photometry(self, conn, frame: pl.DataFrame, table: str, key: str, names: dict,
                           seen: SeenIds, root_of: pl.DataFrame,
                           stats: bool = False) -> tuple[list[int], int]:
        """Insert the unknown rows of ``frame``; (ids now known to be stored, rows inserted)."""
        if frame.is_empty():
            return [], 0
        if frame.height > PROBE_ABOVE:
            # Many rows (an alert batch's history): ask the database which of them it has, by object and
            # time (5x faster than probing each id); the memory of this process would not know most.
            known = frame.filter(pl.col("diaobjectid").is_not_null())
            with conn.cursor(binary=True) as cur:
                cur.execute(f"SELECT array_agg({key}) FROM {table} "
                            "WHERE diaobjectid = ANY(%s) AND midpointmjdtai >= %s",
                            (known["diaobjectid"].unique().to_list(), known["midpointmjdtai"].min()))
                stored = cur.fetchone()[0] or []
            frame = frame.filter(~pl.col(key).is_in(pl.Series(stored, dtype=pl.Int64)))
        else:  # a few rows: what this process stored lately (two brokers sending the same alert)
            frame = frame.filter(pl.Series(seen.unknown(frame[key].to_list())))
        if frame.is_empty():
            return [], 0
        frame = frame.join(root_of, on="diaobjectid", how="left")
        columns = list(names.values())
        stage = f"_live_stage_{table}"
        _stage(conn, stage, table, [*columns, "rootid"])
        copy_arrays(conn, stage, [*columns, "rootid"], [_column(frame[c]) for c in columns] + [_uuids(frame)],
                    types=[_COPY_TYPES[frame[c].dtype] for c in columns] + ["uuid"])
        cols = ", ".join([*columns, "rootid"])
        with conn.cursor() as cur:
            if stats:
                cur.execute(f"""
                    WITH ins AS (
                        INSERT INTO {table} ({cols}, ingested_at)
                        SELECT {cols}, now() FROM {stage} ORDER BY {key}
                        ON CONFLICT ({key}) DO NOTHING
                        RETURNING rootid, midpointmjdtai),
                    agg AS (SELECT rootid, min(midpointmjdtai) AS first, max(midpointmjdtai) AS last,
                                   count(*) AS n FROM ins WHERE rootid IS NOT NULL GROUP BY rootid),
                    upd AS (
                        UPDATE root_diaobject r SET first_mjd = LEAST(r.first_mjd, agg.first),
                               last_mjd = GREATEST(r.last_mjd, agg.last), ndetections = r.ndetections + agg.n
                        FROM agg WHERE r.id = agg.rootid RETURNING 1)
                    SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd)""")
            else:
                cur.execute(f"""
                    WITH ins AS (
                        INSERT INTO {table} ({cols}, ingested_at)
                        SELECT {cols}, now() FROM {stage} ORDER BY {key}
                        ON CONFLICT ({key}) DO NOTHING RETURNING 1)
                    SELECT count(*), 0 FROM ins""")
            inserted = cur.fetchone()[0]
            cur.execute(f"TRUNCATE {stage}")
        return frame[key].to_list(), inserted

    def _insert_provenance(self, conn, batch: DecodedBatch, meta: MessageMeta,
                           root_of: pl.DataFrame) -> tuple[int, int]:
        msgs = batch.messages.join(root_of, on="diaobjectid", how="left", maintain_order="left")
        idx = msgs["index"].to_numpy()
        n = len(idx)
        topic = np.array([meta.topic[i] for i in idx], dtype=object)
        partition = np.array([meta.partition[i] for i in idx], dtype=np.int64)
        offset = np.array([meta.offset[i] for i in idx], dtype=np.int64)
        stamps = [meta.msgtime_ms[i] for i in idx]
        msgtime = np.ma.MaskedArray(np.array([s or 0 for s in stamps], dtype="datetime64[ms]"),
                                    mask=np.array([s is None for s in stamps]))
        received = np.full(n, np.datetime64(datetime.datetime.now(datetime.UTC).replace(tzinfo=None), "us"))
        classifier = classid = probability = None
        if "brokername" in msgs.columns:
            keys = list(zip(msgs["brokername"].to_list(), msgs["classifiername"].to_list(),
                            msgs["classifierversion"].to_list(), strict=True))
            wanted = {(b, None, c, v) for b, c, v in keys}
            ids, _ = self.registry.ids_for(conn, wanted)
            classifier = np.array([ids[(b, None, c, v)] for b, c, v in keys], dtype=np.int64)
            classid = msgs["classid"].to_list()
            probability = msgs["probability"].to_list()
        stage = "_live_stage_brokerinfo"
        columns = ["brokername", "topic", "kafkapartition", "kafkaoffset", "diasourceid", "diaobjectid",
                   "rootid", "schemaversion", "schemaid", "msgtime", "receivedtime", "classifier_id",
                   "classid", "probability"]
        _stage(conn, stage, "diasource_brokerinfo", columns)
        types = ["text", "text", "int4", "int8", "int8", "int8", "uuid", "text", "int4", "timestamptz",
                 "timestamptz", "int8", "int2[]", "float4[]"]
        base = [np.full(n, self.broker, dtype=object), topic, partition, offset,
                msgs["diasourceid"].to_numpy(), _column(msgs["diaobjectid"]), _uuids(msgs),
                _column(msgs["schemaversion"]),
                _column(msgs["schemaid"]), msgtime, received]
        lengths = (np.array([len(c) for c in classid], dtype=np.int64) if classid is not None
                   else np.zeros(n, np.int64))
        for k in np.unique(lengths).tolist():
            rows = np.flatnonzero(lengths == k)
            part = [c[rows] for c in base]
            if classifier is None:
                part += [None, None, None]
            else:
                part += [classifier[rows],
                         np.array([classid[r] for r in rows], dtype=np.int16).reshape(len(rows), k),
                         np.array([probability[r] for r in rows], dtype=np.float32).reshape(len(rows), k)]
            copy_arrays(conn, stage, columns, part, types=types)
        cols = ", ".join(columns)
        with conn.cursor() as cur:
            cur.execute(f"""
                WITH ins AS (
                    INSERT INTO diasource_brokerinfo ({cols})
                    SELECT {cols} FROM {stage}
                    ON CONFLICT (brokername, topic, kafkapartition, kafkaoffset) DO NOTHING
                    RETURNING classifier_id)
                SELECT count(*), count(classifier_id) FROM ins""")
            inserted, classified = cur.fetchone()
            cur.execute(f"TRUNCATE {stage}")
        return inserted, classified


def _root_lookup(roots: dict) -> pl.DataFrame:
    """``(diaobjectid, rootid)`` with the root ids as their 16 bytes (what the binary COPY writes)."""
    return pl.DataFrame({"diaobjectid": list(roots), "rootid": [r.bytes for r in roots.values()]},
                        schema={"diaobjectid": pl.Int64, "rootid": pl.Binary})


def _uuids(frame: pl.DataFrame):
    """The ``rootid`` column of ``frame`` (joined with :func:`_root_lookup`) for :func:`copy_arrays`."""
    col = frame["rootid"]
    values = np.array(col.fill_null(bytes(16)).to_list(), dtype="S16")
    return np.ma.MaskedArray(values, mask=col.is_null().to_numpy()) if col.null_count() else values


def _positions(batch: DecodedBatch) -> pl.DataFrame:
    """``(diaobjectid, ra, dec, validitystartmjdtai)`` of every survey object the batch names."""
    frames = [batch.objects.select("diaobjectid", "ra", "dec", "validitystartmjdtai")]
    for frame in (batch.sources, batch.forced):
        if not frame.is_empty():
            frames.append(frame.filter(pl.col("diaobjectid").is_not_null())
                          .group_by("diaobjectid").agg(pl.col("ra").first(), pl.col("dec").first())
                          .with_columns(pl.lit(None, dtype=pl.Float64).alias("validitystartmjdtai")))
    return (pl.concat(frames, how="vertical_relaxed").filter(pl.col("diaobjectid").is_not_null())
            .unique("diaobjectid", keep="first", maintain_order=True))
