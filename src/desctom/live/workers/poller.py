"""One live stream (LSST alerts or DESC BrokerMessages) from Kafka into the live tables.

The ELAsTiCC2 poller's loop, connection handling, status rows, consumer groups and supervisor are
reused as they are (:class:`BrokerStreamConsumer`); only a batch's processing differs:

1. decode the batch (:class:`~desctom.survey.lsst_decode.AlertDecoder`; an adapter first turns a
   differently-formatted broker's messages into BrokerMessages);
2. associate its survey objects with root objects (committed at once);
3. store sources, forced sources and one provenance row per message, quarantine the messages that
   did not decode (``elasticc2_brokermessagequarantine``, with offset and reason), write the
   status row, commit; only then commit the Kafka offsets.

A crash anywhere re-reads the batch; the unique keys make the re-read store nothing twice. If a
batch fails on its data in the database, its messages are stored one by one and the failing ones
quarantined. While the database or the schema registry is unreachable the batch is retried.
"""

from __future__ import annotations

import importlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from desctom.core.bulkcopy import connect
from desctom.elasticc2.workers.brokerpoll.consumer import DATA_ERRORS, BrokerStreamConsumer, PollCounts
from desctom.elasticc2.workers.brokerpoll.records import Rejected, quarantine
from desctom.elasticc2.workers.brokerstore import ClassifierRegistry
from desctom.live.workers.schemas import RegistrySchemas, RegistryUnavailable
from desctom.live.workers.store import LIVE_CLASSIFIERS, LiveStore, MessageMeta
from desctom.survey.lsst_decode import AlertDecoder, DecodedBatch
from desctom.survey.lsst_schemas import DEFAULT_VERSION

log = logging.getLogger("desctom.brokerpoll")
#: A batch is decoded and stored in CHUNKS chunks (of CHUNK_MIN messages at least), pipelined.
CHUNKS = 4
CHUNK_MIN = 250


def make_decoder(stream, database: dict | None = None) -> tuple[AlertDecoder, object | None]:
    """The decoder (and adapter, or ``None``) of a live ``stream``."""
    adapter = None
    if stream.adapter:
        module, name = stream.adapter.split(":")
        adapter = getattr(importlib.import_module(module), name)(stream)
    kind = "brokermessage" if stream.format == "desc-brokermessage" else "alert"
    if adapter is not None:
        return AlertDecoder(kind, version=adapter.version, wire="schemaless"), adapter
    lookup = None
    if stream.schema_registry:
        lookup = RegistrySchemas(stream.schema_registry, lambda: connect(database, autocommit=True))
    return AlertDecoder(kind, version=stream.schema or DEFAULT_VERSION, wire=stream.wire,
                        schema_for_id=lookup), None


class LiveStreamConsumer(BrokerStreamConsumer):
    """Reads one live stream into ``diasource``, ``diaforcedsource``, ``diasource_brokerinfo``..."""

    def __init__(self, stream, **options):
        super().__init__(stream, **options)
        self.decoder, self.adapter = make_decoder(stream, self.database)
        self.registry = ClassifierRegistry(LIVE_CLASSIFIERS)
        self.live = LiveStore(stream.name, self.registry)
        self._assoc_conn: psycopg.Connection | None = None
        self._decoder_pool = ThreadPoolExecutor(1, thread_name_prefix="live-decode")

    def _process(self, messages: list) -> None:
        self._last_message = time.monotonic()
        values = [m.value() or b"" for m in messages]
        adapter_bad: dict[int, str] = {}
        if self.adapter is not None:
            values, adapter_bad = self.adapter.convert(values)
        stamps = [m.timestamp() for m in messages]
        meta = MessageMeta(topic=[m.topic() for m in messages], partition=[m.partition() for m in messages],
                           offset=[m.offset() for m in messages],
                           msgtime_ms=[t[1] if t[0] != 0 and t[1] >= 0 else None for t in stamps])
        delay = 1.0
        while True:
            try:
                self._store_batch(values, meta, messages, adapter_bad)
                break
            except (psycopg.Error, RegistryUnavailable) as exc:
                self.live.rolled_back()
                what = "schema registry unavailable" if isinstance(exc, RegistryUnavailable) else \
                    "database unavailable"
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log.warning("%s: %s (%s); retrying in %.0f s", self.stream.name, what, text, delay)
                self._error(f"{what}: {text}")
                self._close_db()
                if self.should_stop():
                    raise
                self.heartbeat(self.info("waiting for the database"))
                self._sleep(delay)
                delay = min(delay * 2, 30.0)
        offsets: dict[tuple[str, int], int] = {}
        for m in messages:
            key = (m.topic(), m.partition())
            offsets[key] = max(offsets.get(key, -1), m.offset() + 1)
        self.link.commit(offsets)

    def _assoc_db(self) -> psycopg.Connection:
        """The association's own autocommit connection (its transactions commit at once)."""
        if self._assoc_conn is None or self._assoc_conn.closed:
            self._assoc_conn = connect(self.database, autocommit=True)
        return self._assoc_conn

    def _close_db(self) -> None:
        super()._close_db()
        if self._assoc_conn is not None:
            try:
                self._assoc_conn.close()
            except psycopg.Error:
                pass
            self._assoc_conn = None

    def _chunks(self, n: int) -> list[range]:
        size = max(CHUNK_MIN, -(-n // CHUNKS))
        return [range(i, min(i + size, n)) for i in range(0, n, size)]

    def _store_batch(self, values: list[bytes], meta: MessageMeta, messages, adapter_bad: dict) -> None:
        """Decode and store the batch chunk by chunk (decoding the next chunk in a thread meanwhile:
        polars decodes outside the GIL while PostgreSQL works), then quarantine, status, commit."""
        conn = self._db()
        chunks = self._chunks(len(values))
        bad: dict[int, str] = dict(adapter_bad)
        inserted = duplicates = 0
        with conn.transaction():
            future = self._decoder_pool.submit(self.decoder.decode, [values[i] for i in chunks[0]])
            for n, chunk in enumerate(chunks):
                batch = future.result()
                if n + 1 < len(chunks):
                    following = [values[i] for i in chunks[n + 1]]
                    future = self._decoder_pool.submit(self.decoder.decode, following)
                base = chunk.start
                bad.update({base + i: err for i, err in batch.bad.items() if base + i not in bad})
                cut = slice(base, chunk.stop)
                part = MessageMeta(topic=meta.topic[cut], partition=meta.partition[cut],
                                   offset=meta.offset[cut], msgtime_ms=meta.msgtime_ms[cut])
                roots = self.live.associate(self._assoc_db(), batch)
                try:
                    with conn.transaction():
                        stored = self.live.store(conn, batch, part, roots).messages
                except DATA_ERRORS:
                    if conn.broken:
                        raise
                    self.live.rolled_back()
                    stored, failed = self._one_by_one(conn, batch, [values[i] for i in chunk], part, roots)
                    bad.update({base + i: err for i, err in failed.items()})
                inserted += stored
                duplicates += len(batch) - stored
            rejected = [Rejected(topic=meta.topic[i], partition=meta.partition[i], offset=meta.offset[i],
                                 header_ms=meta.msgtime_ms[i], error=err, payload=messages[i].value() or b"")
                        for i, err in sorted(bad.items())]
            quarantine(conn, self.stream.name, rejected)
            after = PollCounts(consumed=self.counts.consumed + len(messages),
                               stored=self.counts.stored + inserted,
                               duplicates=self.counts.duplicates + duplicates,
                               skipped=self.counts.skipped + len(rejected), batches=self.counts.batches + 1,
                               quarantined=self.counts.quarantined + len(rejected))
            if rejected:
                self._error(rejected[0].error)
            self._last_progress = time.monotonic()
            self.health.last_progress = time.time()
            latest = max((s for s in meta.msgtime_ms if s is not None), default=None)
            self._write_status(conn, after, latest_ms=latest)
        conn.commit()  # a no-op unless a transaction was open before (the block was then a savepoint)
        self.live.committed()
        self.counts = after
        for r in rejected:
            log.warning("%s: quarantined message %s[%d]@%d: %s", self.stream.name, r.topic, r.partition,
                        r.offset, r.error)

    def _one_by_one(self, conn, batch: DecodedBatch, values: list[bytes], meta: MessageMeta,
                    roots: dict) -> tuple[int, dict[int, str]]:
        """Store each decoded message of a chunk alone (savepoints); ``(stored, {index: error})``."""
        stored, failed = 0, {}
        for i in batch.messages["index"].to_list():
            one = self.decoder.decode([values[i]])
            one_meta = MessageMeta(topic=[meta.topic[i]], partition=[meta.partition[i]],
                                   offset=[meta.offset[i]], msgtime_ms=[meta.msgtime_ms[i]])
            try:
                with conn.transaction():
                    stored += self.live.store(conn, one, one_meta, roots).messages
            except DATA_ERRORS as exc:
                if conn.broken:
                    raise
                self.live.rolled_back()
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                failed[i] = f"not stored: {type(exc).__name__}: {first}"
        return stored, failed
