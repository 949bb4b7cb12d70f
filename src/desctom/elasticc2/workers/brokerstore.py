"""Store broker classification messages: the one write path for Kafka polling and HTTP PUT.

The reference's ``BrokerMessage.load_batch`` (§3.4), made idempotent and fast:

1. the classifiers of the batch are registered with ``INSERT ... ON CONFLICT DO NOTHING`` against
   the unique 4-tuple (two ingesters can never register one twice) and looked up;
2. the messages are binary-COPYed (column-wise from numpy arrays) straight into
   ``elasticc2_brokermessage`` in a savepoint: the unique indexes refuse a batch holding a message
   already stored (same topic/partition/offset/Kafka timestamp, or for ``REST_push`` the same
   classifier/alert/brokerIngestTimestamp). Only then, or for messages PUT over HTTP (whose answer
   names the first new id), the batch goes the careful way: COPY into a temporary table, then
   ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, which skips what is stored, inside one batch as
   across batches. The direct COPY writes about twice as fast into a big table (issue 17); re-read
   batches (a poller restarted between its two commits) are rare;
3. the source ids of the messages really inserted go to the ``elasticc2_brokersourceids`` queue.

Everything happens in the caller's transaction: the poller commits it, then its Kafka offsets.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np
import psycopg

from desctom.core.bulkcopy import copy_block

#: Topic name of messages PUT over HTTP (as the original).
REST_TOPIC = "REST_push"
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_STAGE = "_stage_brokermessage"
_STAGE_COLUMNS = ("streammessage_id", "topicname", "kafkapartition", "alert_id", "diasource_id",
                  "msghdrtimestamp", "descingesttimestamp", "elasticcpublishtimestamp",
                  "brokeringesttimestamp", "classifier_id", "classid", "probability")
_STAGE_TYPES = ("int8", "text", "int4", "int8", "int8", "timestamptz", "timestamptz", "timestamptz",
                "timestamptz", "int8", "int2[]", "float4[]")
_STAGE_DDL = f"""CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
    streammessage_id bigint, topicname text, kafkapartition integer, alert_id bigint, diasource_id bigint,
    msghdrtimestamp timestamptz, descingesttimestamp timestamptz, elasticcpublishtimestamp timestamptz,
    brokeringesttimestamp timestamptz, classifier_id bigint, classid smallint[], probability real[]
) ON COMMIT DELETE ROWS"""
_SMALLINT = (-32768, 32767)

ClassifierKey = tuple[str, str | None, str, str | None]


class InvalidMessage(ValueError):
    """A message that cannot be stored; the text names the offending field."""


@dataclass
class StoreResult:
    """What one :func:`store_messages` call did."""

    given: int = 0
    inserted: int = 0
    duplicates: int = 0
    new_classifiers: int = 0
    first_id: int | None = None  # the lowest new brokermessage_id (of pushed messages; Kafka's: None)
    new_source_ids: int = 0


@dataclass
class MessageBatch:
    """Classification messages gathered column-wise before one store.

    Timestamps are integer milliseconds since the Unix epoch (as on the wire), ``None`` if absent.
    """

    stream_offset: list[int] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    partition: list[int | None] = field(default_factory=list)
    header_ms: list[int | None] = field(default_factory=list)
    alert_id: list[int] = field(default_factory=list)
    diasource_id: list[int] = field(default_factory=list)
    elasticc_publish_ms: list[int | None] = field(default_factory=list)
    broker_ingest_ms: list[int | None] = field(default_factory=list)
    classifier: list[ClassifierKey] = field(default_factory=list)
    classid: list[list[int]] = field(default_factory=list)
    probability: list[list[float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.alert_id)

    def add(self, msg: dict, *, topic: str, offset: int = -1, partition: int | None = None,
            header_ms: int | None = None) -> None:
        """Append one decoded brokerClassification record (timestamps in ms).

        Raises :class:`InvalidMessage` (and appends nothing) if a value cannot be stored.
        """
        classes = msg["classifications"]
        ids = [c["classId"] for c in classes]
        probs = [c["probability"] for c in classes]
        if ids and (min(ids) < _SMALLINT[0] or max(ids) > _SMALLINT[1]):
            raise InvalidMessage("classifications: classId out of range (must fit a 16-bit integer)")
        self.stream_offset.append(offset)
        self.topic.append(topic)
        self.partition.append(partition)
        self.header_ms.append(header_ms)
        self.alert_id.append(msg["alertId"])
        self.diasource_id.append(msg["diaSourceId"])
        self.elasticc_publish_ms.append(msg["elasticcPublishTimestamp"])
        self.broker_ingest_ms.append(msg["brokerIngestTimestamp"])
        self.classifier.append((msg["brokerName"], msg["brokerVersion"], msg["classifierName"],
                                msg["classifierParams"]))
        self.classid.append(ids)
        self.probability.append(probs)


class ClassifierRegistry:
    """Classifier ids by 4-tuple; unknown classifiers are registered race-free.

    Every call looks its (few) keys up in the database rather than trusting a cache: a batch
    holds a handful of distinct classifiers, and the registry may have been emptied meanwhile
    (``desctom demo reset``), which a cached id would silently survive.
    """

    def __init__(self, table: str = "elasticc2_brokerclassifier"):
        self.table = table  # the live survey keeps its own registry of the same shape
        self.known: dict[ClassifierKey, int] = {}

    def ids_for(self, conn: psycopg.Connection,
                keys: set[ClassifierKey]) -> tuple[dict[ClassifierKey, int], int]:
        """``({key: classifier_id}, number newly registered)`` for ``keys``."""
        if not keys:
            return {}, 0
        columns = [list(col) for col in zip(*keys, strict=True)]
        with conn.cursor() as cur:
            cur.execute(f"""
                INSERT INTO {self.table}
                    (brokername, brokerversion, classifiername, classifierparams, modified)
                SELECT b, v, c, p, now() FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
                    AS t(b, v, c, p)
                ON CONFLICT DO NOTHING""", columns)
            created = cur.rowcount
            cur.execute(f"""
                SELECT k.b, k.v, k.c, k.p, bc.classifier_id
                FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS k(b, v, c, p)
                JOIN {self.table} bc
                  ON bc.brokername = k.b AND bc.brokerversion IS NOT DISTINCT FROM k.v
                 AND bc.classifiername = k.c AND bc.classifierparams IS NOT DISTINCT FROM k.p""",
                        columns)
            found = {(b, v, c, p): cid for b, v, c, p, cid in cur.fetchall()}
        self.known.update(found)
        return found, created

    def forget(self) -> None:
        """Drop what was learnt (after a rollback the registrations may not exist)."""
        self.known.clear()


_DEFAULT_REGISTRY = ClassifierRegistry()


@dataclass
class MessageColumns:
    """A batch of messages as numpy columns (what :func:`store_messages` writes).

    Timestamps are ms since the Unix epoch, masked where absent; ``classifier`` indexes
    ``classifiers``; ``classid``/``probability`` are ``(n, kmax)``, ``nclasses`` used per row.
    """

    stream_offset: np.ndarray
    topic: np.ndarray
    partition: np.ma.MaskedArray
    header_ms: np.ma.MaskedArray
    alert_id: np.ndarray
    diasource_id: np.ndarray
    elasticc_publish_ms: np.ma.MaskedArray
    broker_ingest_ms: np.ma.MaskedArray
    classifier: np.ndarray
    classifiers: list[ClassifierKey]
    nclasses: np.ndarray
    classid: np.ndarray
    probability: np.ndarray

    def __len__(self) -> int:
        return len(self.alert_id)


def _masked(values: list[int | None]) -> np.ma.MaskedArray:
    n = len(values)
    return np.ma.MaskedArray(np.fromiter((0 if v is None else v for v in values), np.int64, n),
                             mask=np.fromiter((v is None for v in values), bool, n))


def batch_columns(batch: MessageBatch) -> MessageColumns:
    """The columns of a :class:`MessageBatch`."""
    n = len(batch)
    keys = list(dict.fromkeys(batch.classifier))
    code = {k: i for i, k in enumerate(keys)}
    nclasses = np.fromiter((len(c) for c in batch.classid), np.int64, n)
    kmax = int(nclasses.max(initial=0))
    classid = np.zeros((n, kmax), np.int64)
    probability = np.zeros((n, kmax), np.float32)
    for i, (ids, probs) in enumerate(zip(batch.classid, batch.probability, strict=True)):
        classid[i, :len(ids)] = ids
        probability[i, :len(probs)] = probs
    return MessageColumns(
        stream_offset=np.asarray(batch.stream_offset, dtype=np.int64),
        topic=np.char.encode(np.asarray(batch.topic, dtype=str), "utf-8"),
        partition=_masked(batch.partition), header_ms=_masked(batch.header_ms),
        alert_id=np.asarray(batch.alert_id, dtype=np.int64),
        diasource_id=np.asarray(batch.diasource_id, dtype=np.int64),
        elasticc_publish_ms=_masked(batch.elasticc_publish_ms),
        broker_ingest_ms=_masked(batch.broker_ingest_ms),
        classifier=np.fromiter((code[k] for k in batch.classifier), np.int64, n), classifiers=keys,
        nclasses=nclasses, classid=classid, probability=probability)


def _as_time(ms: np.ma.MaskedArray) -> np.ma.MaskedArray:
    return np.ma.MaskedArray(np.ma.getdata(ms).astype("datetime64[ms]"), mask=np.ma.getmaskarray(ms))


def _copy_stream(cols: MessageColumns, classifier_ids: np.ndarray, now: datetime.datetime) -> bytes:
    """The binary COPY data of the whole batch (rows grouped by number of classes)."""
    n = len(cols)
    columns = [cols.stream_offset, cols.topic, cols.partition, cols.alert_id, cols.diasource_id,
               _as_time(cols.header_ms), np.full(n, np.datetime64(now.replace(tzinfo=None), "us")),
               _as_time(cols.elasticc_publish_ms), _as_time(cols.broker_ingest_ms),
               classifier_ids[cols.classifier]]
    parts = [_COPY_HEADER]
    sizes = np.unique(cols.nclasses)
    for k in sizes.tolist():
        rows = np.flatnonzero(cols.nclasses == k) if len(sizes) > 1 else slice(None)
        part = [c[rows] for c in columns] + [cols.classid[rows, :k], cols.probability[rows, :k]]
        parts.append(copy_block(part, _STAGE_TYPES))
    parts.append(b"\xff\xff")
    return b"".join(parts)


def store_messages(conn: psycopg.Connection, batch: MessageBatch | MessageColumns,
                   registry: ClassifierRegistry | None = None, *,
                   posted_by: int | None = None) -> StoreResult:
    """Store ``batch`` in the caller's transaction (the caller commits). Duplicates are skipped.

    ``posted_by`` is the id of the account that PUT the messages over HTTP (``postedby_id``).
    """
    registry = registry or _DEFAULT_REGISTRY
    if isinstance(batch, MessageBatch):
        batch = batch_columns(batch)
    result = StoreResult(given=len(batch))
    if not len(batch):
        return result
    try:
        return _store(conn, batch, registry, result, posted_by)
    except BaseException:
        registry.forget()  # the caller's transaction will not commit what was registered
        raise


def _copy_direct(conn: psycopg.Connection, data: bytes, diasource_ids: np.ndarray) -> int | None:
    """COPY ``data`` straight into the message table and queue its source ids, in a savepoint.

    Returns the new source ids queued, or ``None`` (nothing written) if a message is already stored.
    """
    cols = ", ".join(_STAGE_COLUMNS)
    try:
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(f"COPY elasticc2_brokermessage ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(data)
            cur.execute("""
                WITH src AS (
                    INSERT INTO elasticc2_brokersourceids (diasource_id)
                    SELECT unnest(%s::bigint[]) ON CONFLICT DO NOTHING RETURNING 1)
                SELECT count(*) FROM src""", [np.unique(diasource_ids).tolist()])
            return cur.fetchone()[0]
    except psycopg.errors.UniqueViolation:
        return None


def _store(conn: psycopg.Connection, batch: MessageColumns, registry: ClassifierRegistry,
           result: StoreResult, posted_by: int | None) -> StoreResult:
    ids, result.new_classifiers = registry.ids_for(conn, set(batch.classifiers))
    classifier_ids = np.array([ids[k] for k in batch.classifiers], dtype=np.int64)
    now = datetime.datetime.now(datetime.UTC)
    data = _copy_stream(batch, classifier_ids, now)
    if not np.any(batch.topic == REST_TOPIC.encode()):  # read from Kafka: nobody waits for the first id
        new_sources = _copy_direct(conn, data, batch.diasource_id)
        if new_sources is not None:
            result.inserted, result.new_source_ids = len(batch), new_sources
            return result
    cols = ", ".join(_STAGE_COLUMNS)
    with conn.cursor() as cur:
        cur.execute(_STAGE_DDL)
        cur.execute(f"TRUNCATE {_STAGE}")
        with cur.copy(f"COPY {_STAGE} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(data)
        cur.execute(f"""
            WITH ins AS (
                INSERT INTO elasticc2_brokermessage ({cols}, postedby_id) SELECT {cols}, %(poster)s::integer
                FROM {_STAGE} ON CONFLICT DO NOTHING RETURNING brokermessage_id, diasource_id),
            src AS (
                INSERT INTO elasticc2_brokersourceids (diasource_id)
                SELECT DISTINCT diasource_id FROM ins ON CONFLICT DO NOTHING RETURNING 1)
            SELECT (SELECT count(*) FROM ins), (SELECT min(brokermessage_id) FROM ins),
                   (SELECT count(*) FROM src)""", {"poster": posted_by})
        inserted, first_id, new_sources = cur.fetchone()
        cur.execute(f"TRUNCATE {_STAGE}")
    result.inserted = inserted
    result.duplicates = result.given - inserted
    result.first_id = first_id
    result.new_source_ids = new_sources
    return result
