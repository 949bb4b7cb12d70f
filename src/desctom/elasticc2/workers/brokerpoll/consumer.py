"""One broker's Kafka stream into PostgreSQL, batch by batch, losing and duplicating nothing.

Each batch: decode all messages at once, store the valid ones (:func:`store_messages`, which
skips any message already stored), record the poller status, commit the database transaction,
and only then commit the Kafka offsets. A crash between the two commits re-reads the batch
after restart; the database's unique keys drop the repeats.

A message that does not decode, breaks the value rules (:mod:`desctom.elasticc2.models.messagerules`) or
fails to store (a data or integrity error of PostgreSQL: the batch is bisected in savepoints until
the failing message is alone) goes to ``elasticc2_brokermessagequarantine`` with its raw bytes and
error, is counted (``quarantined``; ``skipped`` counts the same messages, the reference's column),
logged with its topic/partition/offset, and skipped: its offset is committed with the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psycopg
from confluent_kafka import KafkaError, KafkaException

from desctom.core.bulkcopy import connect
from desctom.elasticc2.models.messagerules import column_problems
from desctom.elasticc2.workers.brokerpoll.kafkalink import StreamLink, kafka_logger
from desctom.elasticc2.workers.brokerpoll.records import Health, Rejected, quarantine, write_status
from desctom.elasticc2.workers.brokerpoll.streams import BrokerStream
from desctom.elasticc2.workers.brokerstore import ClassifierRegistry, MessageColumns, store_messages
from desctom.survey.classification_decoder import decode_classifications

log = logging.getLogger("desctom.brokerpoll")


@dataclass
class PollCounts:
    """Running totals of one consumer."""

    consumed: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    batches: int = 0
    quarantined: int = 0

#: Errors of PostgreSQL caused by the data of a message (bisected, then quarantined), and of numpy.
DATA_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError, ValueError, OverflowError)
#: Seconds between status rows (and lag measurements).
STATUS_EVERY = 10.0


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def take(cols: MessageColumns, rows: np.ndarray) -> MessageColumns:
    """The messages ``rows`` of ``cols``."""
    return MessageColumns(
        stream_offset=cols.stream_offset[rows], topic=cols.topic[rows], partition=cols.partition[rows],
        header_ms=cols.header_ms[rows], alert_id=cols.alert_id[rows], diasource_id=cols.diasource_id[rows],
        elasticc_publish_ms=cols.elasticc_publish_ms[rows], broker_ingest_ms=cols.broker_ingest_ms[rows],
        classifier=cols.classifier[rows], classifiers=cols.classifiers, nclasses=cols.nclasses[rows],
        classid=cols.classid[rows], probability=cols.probability[rows])


class BrokerStreamConsumer:
    """Reads one :class:`BrokerStream` into ``elasticc2_brokermessage`` until told to stop.

    ``member`` (0..N-1) is which of the stream's N processes this is: all join the stream's one
    consumer group (Kafka splits the partitions among them), each writes its own status row, and
    only member 0 may fall back to reading every partition by manual assignment.
    """

    def __init__(self, stream: BrokerStream, *, batch_size: int = 5000, batch_timeout: float = 1.0,
                 reset: bool = False, database: dict | None = None,
                 heartbeat: Callable[[dict], None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False, idle_exit: float | None = None,
                 topic_refresh: float = 60.0, reconnect_after: float = 30.0, member: int = 0):
        self.stream = stream
        self.member = member
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self.database = database
        self.heartbeat = heartbeat or (lambda info: None)
        self.should_stop = should_stop
        self.idle_exit = idle_exit
        self.topic_refresh = topic_refresh
        self.reconnect_after = reconnect_after
        self.counts = PollCounts()
        self.registry = ClassifierRegistry()
        self.started = time.monotonic()
        self._conn: psycopg.Connection | None = None
        self._last_message = time.monotonic()
        self._last_status = 0.0
        self._last_progress = time.monotonic()  # the stall clock starts when the consumer starts
        self.health = Health()
        self._last_lag = 0.0
        self.link = StreamLink(stream, health=self.health, on_error=self._error, reset=reset,
                               reconnect_after=reconnect_after, kafka_logger=kafka_logger(),
                               may_fall_back=member == 0)

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

    # -- main loop ----------------------------------------------------------------------------------
    def run(self) -> PollCounts:
        """Consume until ``should_stop()`` (or ``idle_exit`` seconds without messages)."""
        last_refresh = time.monotonic()
        error_since: float | None = None
        try:
            while not self.should_stop():
                if self.link.consumer is None:
                    try:
                        connected = self.link.connect()
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
                messages = self.link.consume(self.batch_size, self.batch_timeout)
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
                    self.link.close()
                    error_since = None
                elif now - last_refresh > self.topic_refresh:
                    last_refresh = now
                    try:
                        self.link.follow_topics()
                    except KafkaException as exc:
                        log.info("%s: cannot list topics (%s)", self.stream.name, exc)
                if self._idle_expired():
                    break
        finally:
            self.link.close()
            self._close_db()
        return self.counts

    def _idle_expired(self) -> bool:
        """``idle_exit`` seconds without messages once partitions are assigned (30 s at least before)."""
        if self.idle_exit is None:
            return False
        assigned = self.link.assigned()
        limit = self.idle_exit if assigned else max(self.idle_exit, 30.0)
        return time.monotonic() - max(self._last_message, self.link.assigned_at) > limit

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
                text = f"Kafka: {err}"
                if text != self.health.last_error or time.time() - (self.health.last_error_time or 0) > 60:
                    log.warning("%s: %s", self.stream.name, text)  # the same error once a minute
                self._error(text)
        return good, failed

    def _error(self, text: str) -> None:
        """Remember the last error (written to the status row; it stays until a later error)."""
        self.health.last_error = text
        self.health.last_error_time = time.time()

    # -- health -------------------------------------------------------------------------------------
    def info(self, message: str = "ok") -> dict:
        """The heartbeat sent to the supervisor: counts, lag and seconds since the last progress."""
        return {"message": message, "nconsumed": self.counts.consumed, "stored": self.counts.stored,
                "quarantined": self.counts.quarantined, "runtime": time.monotonic() - self.started,
                "lag": self.health.lag, "progress_age": time.monotonic() - self._last_progress}

    def _beat(self) -> None:
        if time.monotonic() - self._last_lag >= STATUS_EVERY:
            self._last_lag = time.monotonic()
            self.link.measure()
        self.heartbeat(self.info())
        if time.monotonic() - self._last_status >= STATUS_EVERY:
            try:
                conn = self._db()
                self._write_status(conn)
                conn.commit()
            except psycopg.Error as exc:
                log.warning("%s: cannot record status (%s)", self.stream.name, exc)
                self._close_db()

    # -- one batch ----------------------------------------------------------------------------------
    def _process(self, messages: list) -> None:
        """Decode, check, store (quarantining what cannot be), commit the database, then the offsets."""
        self._last_message = time.monotonic()
        values = [m.value() or b"" for m in messages]
        decoded = decode_classifications(values)
        stamps = [m.timestamp() for m in messages]
        has_time = np.array([t[0] != 0 and t[1] >= 0 for t in stamps], dtype=bool)
        header = np.where(has_time, np.array([t[1] for t in stamps], dtype=np.int64), -1)
        problems = column_problems(decoded, header)
        keep = np.array([i for i, p in enumerate(problems) if p is None], dtype=np.int64)
        rejected = [self._rejected(messages[i], header[i], p)
                    for i, p in enumerate(problems) if p is not None]
        cols = MessageColumns(
            stream_offset=np.array([m.offset() for m in messages], dtype=np.int64)[keep],
            topic=np.char.encode(np.array([m.topic() for m in messages], dtype=str), "utf-8")[keep],
            partition=np.ma.MaskedArray(np.array([m.partition() for m in messages], dtype=np.int64))[keep],
            header_ms=np.ma.MaskedArray(header, mask=~has_time)[keep],
            alert_id=decoded.alert_id[keep], diasource_id=decoded.diasource_id[keep],
            elasticc_publish_ms=np.ma.MaskedArray(decoded.elasticc_publish_ms)[keep],
            broker_ingest_ms=decoded.broker_ingest_ms[keep], classifier=decoded.classifier[keep],
            classifiers=decoded.classifiers, nclasses=decoded.nclasses[keep], classid=decoded.classid[keep],
            probability=decoded.probability[keep])
        latest = max((int(h) for h in header), default=-1)
        self._store_with_retries(cols, messages, keep, rejected, latest if latest >= 0 else None)
        offsets: dict[tuple[str, int], int] = {}
        for m in messages:
            key = (m.topic(), m.partition())
            offsets[key] = max(offsets.get(key, -1), m.offset() + 1)
        self.link.commit(offsets)

    @staticmethod
    def _rejected(m, header_ms: int, error: str) -> Rejected:
        return Rejected(topic=m.topic(), partition=m.partition(), offset=m.offset(),
                        header_ms=int(header_ms) if header_ms >= 0 else None, error=error,
                        payload=m.value() or b"")

    def _store_rows(self, conn: psycopg.Connection, cols: MessageColumns,
                    rows: np.ndarray) -> tuple[int, dict[int, str]]:
        """Store ``rows`` of ``cols`` in a savepoint; on a data error bisect. ``(inserted, {row: error})``."""
        try:
            with conn.transaction():
                return store_messages(conn, take(cols, rows), self.registry).inserted, {}
        except DATA_ERRORS as exc:
            if conn.broken:
                raise
            if len(rows) == 1:
                return 0, {int(rows[0]): f"not stored: {type(exc).__name__}: {_first_line(exc)}"}
            half = len(rows) // 2
            first, bad1 = self._store_rows(conn, cols, rows[:half])
            second, bad2 = self._store_rows(conn, cols, rows[half:])
            return first + second, {**bad1, **bad2}

    def _store_with_retries(self, cols: MessageColumns, messages: list, keep: np.ndarray,
                            rejected: list[Rejected], latest_ms: int | None) -> None:
        """Store and commit; while the database is unreachable (or fails otherwise), wait and retry."""
        delay = 1.0
        while True:
            try:
                conn = self._db()
                inserted, failed = (self._store_rows(conn, cols, np.arange(len(cols))) if len(cols)
                                    else (0, {}))
                hdr = np.ma.filled(cols.header_ms, -1)
                bad = rejected + [self._rejected(messages[keep[j]], int(hdr[j]), err)
                                  for j, err in failed.items()]
                quarantine(conn, self.stream.name, bad)
                after = PollCounts(consumed=self.counts.consumed + len(messages),
                                   stored=self.counts.stored + inserted,
                                   duplicates=self.counts.duplicates + len(cols) - len(failed) - inserted,
                                   skipped=self.counts.skipped + len(bad), batches=self.counts.batches + 1,
                                   quarantined=self.counts.quarantined + len(bad))
                if failed:
                    self._error(next(iter(failed.values())))
                self._last_progress = time.monotonic()
                self.health.last_progress = time.time()
                self._write_status(conn, after, latest_ms=latest_ms)
                conn.commit()
                self.counts = after
                for r in bad:
                    log.warning("%s: quarantined message %s[%d]@%d: %s", self.stream.name, r.topic,
                                r.partition, r.offset, r.error)
                return
            except psycopg.Error as exc:
                lost = isinstance(exc, psycopg.OperationalError) or self._conn is None or self._conn.broken
                what = "database unavailable" if lost else "cannot store the batch"
                log.warning("%s: %s (%s); retrying in %.0f s", self.stream.name, what, _first_line(exc),
                            delay)
                self._error(f"{what}: {_first_line(exc)}")
                self.registry.forget()
                self._close_db()
                if self.should_stop():
                    raise
                # still alive, only waiting: the supervisor must not kill and restart us meanwhile
                self.heartbeat(self.info("waiting for the database"))
                self._sleep(delay)
                delay = min(delay * 2, 30.0)

    def _write_status(self, conn: psycopg.Connection, counts: PollCounts | None = None,
                      latest_ms: int | None = None) -> None:
        """Upsert this member's row of ``elasticc2_brokerpollerstatus`` (in the caller's transaction)."""
        self._last_status = time.monotonic()
        write_status(conn, self.stream.name, time.monotonic() - self.started, counts or self.counts,
                     latest_ms, self.health, member=self.member)
