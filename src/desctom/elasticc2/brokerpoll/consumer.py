"""One broker's Kafka stream into PostgreSQL, batch by batch, losing and duplicating nothing.

Each batch: decode all messages at once, store the valid ones (:func:`store_messages`, which
skips any message already stored), record the poller status, commit the database transaction,
and only then commit the Kafka offsets. A crash between the two commits re-reads the batch
after restart; the database's unique keys drop the repeats. A message that does not decode is
counted, logged with its topic/partition/offset, and skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psycopg
from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from desctom.common.bulkcopy import connect
from desctom.elasticc2.brokerpoll.streams import BrokerStream
from desctom.elasticc2.brokerstore import ClassifierRegistry, MessageColumns, store_messages
from desctom.streaming.classification_decoder import decode_classifications
from desctom.streaming.kafka import list_topics, make_consumer

log = logging.getLogger("desctom.brokerpoll")


@dataclass
class PollCounts:
    """Running totals of one consumer."""

    consumed: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    batches: int = 0


class BrokerStreamConsumer:
    """Reads one :class:`BrokerStream` into ``elasticc2_brokermessage`` until told to stop."""

    def __init__(self, stream: BrokerStream, *, batch_size: int = 5000, batch_timeout: float = 1.0,
                 reset: bool = False, database: dict | None = None,
                 heartbeat: Callable[[dict], None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False, idle_exit: float | None = None,
                 topic_refresh: float = 60.0, reconnect_after: float = 30.0):
        self.stream = stream
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self.reset = reset
        self.database = database
        self.heartbeat = heartbeat or (lambda info: None)
        self.should_stop = should_stop
        self.idle_exit = idle_exit
        self.topic_refresh = topic_refresh
        self.reconnect_after = reconnect_after
        self.counts = PollCounts()
        self.registry = ClassifierRegistry()
        self.started = time.monotonic()
        self._reset_done: set[tuple[str, int]] = set()
        self._conn: psycopg.Connection | None = None
        self._consumer = None
        self._topics: list[str] = []
        self._last_message = time.monotonic()
        self._last_status = 0.0

    # -- connections --------------------------------------------------------------------------------
    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.database, autocommit=False)
        return self._conn

    def _close_db(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None

    def _connect_kafka(self) -> bool:
        """Subscribe to the stream's topics that exist; False if there are none yet."""
        servers = self.stream.servers
        topics = self.stream.resolve_topics(list_topics(servers))
        if not topics:
            return False
        extra = {"topic.metadata.refresh.interval.ms": 10000, **self.stream.client_config()}
        self._consumer = make_consumer(servers, self.stream.group_id, **extra)
        self._consumer.subscribe(topics, on_assign=self._on_assign)
        self._topics = topics
        log.info("%s: subscribed to %s as group %s", self.stream.name, ", ".join(topics),
                 self.stream.group_id)
        return True

    def _on_assign(self, consumer, partitions) -> None:
        """The idle clock starts at assignment; with ``reset``: each partition from its beginning, once."""
        self._last_message = time.monotonic()
        if not self.reset:
            return
        for tp in partitions:
            if (tp.topic, tp.partition) not in self._reset_done:
                tp.offset = OFFSET_BEGINNING
                self._reset_done.add((tp.topic, tp.partition))
        consumer.assign(partitions)

    def _close_kafka(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:  # closing a consumer whose broker vanished can raise; nothing to save
                pass
            self._consumer = None

    # -- main loop ----------------------------------------------------------------------------------
    def run(self) -> PollCounts:
        """Consume until ``should_stop()`` (or ``idle_exit`` seconds without messages)."""
        last_refresh = time.monotonic()
        error_since: float | None = None
        try:
            while not self.should_stop():
                if self._consumer is None:
                    try:
                        connected = self._connect_kafka()
                    except Exception as exc:  # broker unreachable: retry, the stream must not die
                        log.warning("%s: cannot connect to Kafka (%s); retrying", self.stream.name, exc)
                        connected = False
                    if not connected:
                        self._beat()
                        if self._idle_expired():
                            break
                        self._sleep(5)
                        continue
                    last_refresh = time.monotonic()
                messages = self._consumer.consume(self.batch_size, self.batch_timeout)
                good, failed = self._split_errors(messages)
                if failed and not good:
                    error_since = error_since or time.monotonic()
                else:
                    error_since = None
                if good:
                    self._process(good)
                self._beat()
                now = time.monotonic()
                if error_since and now - error_since > self.reconnect_after:
                    log.warning("%s: no data for %.0f s and Kafka errors; reconnecting", self.stream.name,
                                now - error_since)
                    self._close_kafka()
                    error_since = None
                elif now - last_refresh > self.topic_refresh:
                    last_refresh = now
                    if self.stream.resolve_topics(list_topics(self.stream.servers)) != self._topics:
                        log.info("%s: topic list changed; resubscribing", self.stream.name)
                        self._close_kafka()
                if self._idle_expired():
                    break
        finally:
            self._close_kafka()
            self._close_db()
        return self.counts

    def _idle_expired(self) -> bool:
        """``idle_exit`` seconds without messages once partitions are assigned (30 s at least before)."""
        if self.idle_exit is None:
            return False
        assigned = self._consumer is not None and bool(self._consumer.assignment())
        limit = self.idle_exit if assigned else max(self.idle_exit, 30.0)
        return time.monotonic() - self._last_message > limit

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.should_stop():
            time.sleep(0.2)

    def _split_errors(self, messages) -> tuple[list, list]:
        good, failed = [], []
        for m in messages:
            err = m.error()
            if err is None:
                good.append(m)
            elif err.code() != KafkaError._PARTITION_EOF:
                failed.append(m)
                log.warning("%s: Kafka error: %s", self.stream.name, err)
        return good, failed

    def _beat(self) -> None:
        self.heartbeat({"message": "ok", "nconsumed": self.counts.consumed, "stored": self.counts.stored,
                        "runtime": time.monotonic() - self.started})
        if time.monotonic() - self._last_status > 30:
            try:
                conn = self._db()
                self._write_status(conn)
                conn.commit()
            except psycopg.Error as exc:
                log.warning("%s: cannot record status (%s)", self.stream.name, exc)
                self._close_db()

    # -- one batch ----------------------------------------------------------------------------------
    def _process(self, messages: list) -> None:
        """Decode, store, commit the database, then commit the Kafka offsets."""
        self._last_message = time.monotonic()
        n = len(messages)
        decoded = decode_classifications([m.value() or b"" for m in messages])
        for i in np.flatnonzero(~decoded.valid):
            m = messages[i]
            log.warning("%s: skipped undecodable message %s[%d]@%d: %s", self.stream.name, m.topic(),
                        m.partition(), m.offset(), decoded.error[i])
        keep = np.flatnonzero(decoded.valid)
        stamps = [m.timestamp() for m in messages]
        has_time = np.array([t[0] != 0 and t[1] >= 0 for t in stamps], dtype=bool)
        cols = MessageColumns(
            stream_offset=np.array([m.offset() for m in messages], dtype=np.int64)[keep],
            topic=np.char.encode(np.array([m.topic() for m in messages], dtype=str), "utf-8")[keep],
            partition=np.ma.MaskedArray(np.array([m.partition() for m in messages], dtype=np.int64))[keep],
            header_ms=np.ma.MaskedArray(np.array([t[1] for t in stamps], dtype=np.int64),
                                        mask=~has_time)[keep],
            alert_id=decoded.alert_id[keep], diasource_id=decoded.diasource_id[keep],
            elasticc_publish_ms=np.ma.MaskedArray(decoded.elasticc_publish_ms)[keep],
            broker_ingest_ms=decoded.broker_ingest_ms[keep], classifier=decoded.classifier[keep],
            classifiers=decoded.classifiers, nclasses=decoded.nclasses[keep], classid=decoded.classid[keep],
            probability=decoded.probability[keep])
        self._store_with_retries(cols, n, n - len(keep), stamps)
        offsets: dict[tuple[str, int], int] = {}
        for m in messages:
            key = (m.topic(), m.partition())
            offsets[key] = max(offsets.get(key, -1), m.offset())
        try:
            self._consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in offsets.items()],
                                  asynchronous=False)
        except KafkaException as exc:  # stored already: a re-read after restart is dropped as duplicate
            log.warning("%s: could not commit Kafka offsets (%s)", self.stream.name, exc)

    def _store_with_retries(self, cols: MessageColumns, consumed: int, skipped: int, stamps) -> None:
        """Store and commit; while the database is unreachable, wait and retry the same batch."""
        delay = 1.0
        while True:
            try:
                conn = self._db()
                result = store_messages(conn, cols, self.registry)
                after = PollCounts(consumed=self.counts.consumed + consumed,
                                   stored=self.counts.stored + result.inserted,
                                   duplicates=self.counts.duplicates + result.duplicates,
                                   skipped=self.counts.skipped + skipped, batches=self.counts.batches + 1)
                self._write_status(conn, after, latest_ms=max((t[1] for t in stamps), default=None))
                conn.commit()
                self.counts = after
                return
            except psycopg.OperationalError as exc:
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                log.warning("%s: database unavailable (%s); retrying in %.0f s", self.stream.name,
                            first_line, delay)
                self.registry.forget()
                self._close_db()
                if self.should_stop():
                    raise
                # still alive, only waiting: the supervisor must not kill and restart us meanwhile
                self.heartbeat({"message": "waiting for the database", "nconsumed": self.counts.consumed,
                                "stored": self.counts.stored, "runtime": time.monotonic() - self.started})
                self._sleep(delay)
                delay = min(delay * 2, 30.0)

    def _write_status(self, conn: psycopg.Connection, counts: PollCounts | None = None,
                      latest_ms: int | None = None) -> None:
        """Upsert this broker's row of ``elasticc2_brokerpollerstatus`` (in the caller's transaction)."""
        counts = counts or self.counts
        self._last_status = time.monotonic()
        with conn.cursor() as cur:
            cur.execute("""
                INSERT INTO elasticc2_brokerpollerstatus
                    (broker, started, heartbeat, consumed, stored, skipped, last_message)
                VALUES (%(b)s, now() - make_interval(secs => %(run)s), now(), %(c)s, %(s)s, %(k)s,
                        to_timestamp(%(ms)s / 1000.0))
                ON CONFLICT (broker) DO UPDATE SET
                    started = EXCLUDED.started, heartbeat = now(), consumed = EXCLUDED.consumed,
                    stored = EXCLUDED.stored, skipped = EXCLUDED.skipped,
                    last_message = COALESCE(EXCLUDED.last_message, elasticc2_brokerpollerstatus.last_message)
                """, {"b": self.stream.name, "run": time.monotonic() - self.started, "c": counts.consumed,
                      "s": counts.stored, "k": counts.skipped, "ms": latest_ms})
