"""A fake alert broker: classifies every alert it reads with two made-up classifiers.

For each ``elasticc.v0_9_1.alert`` it consumes, it produces two ``brokerClassification`` messages
(broker ``FakeBroker`` ``v1.0``): ``NugentClassifier`` (``100%``), which always says class 2222,
and ``RandomSNType`` (``Perfect``), a random probability vector over 20 leaf classes.

Only the first two fields of an alert are read: a schemaless Avro record starts with ``alertId``
(a zigzag varint long), then the ``diaSource`` record, whose first field is ``diaSourceId``. The
output is encoded directly (constant parts prepared once, probabilities packed by numpy); tests
check the bytes against fastavro with the published schema.

Delivery is at-least-once: offsets are committed only once the classifications of the batch are
acknowledged by Kafka.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, KafkaError, KafkaException, TopicPartition

from desctom.survey.avro_wire import avro_string, zigzag_long
from desctom.survey.kafka import default_servers, ensure_topics, make_consumer, make_producer

BROKER_NAME = "FakeBroker"
BROKER_VERSION = "v1.0"
NUGENT = ("NugentClassifier", "100%")
RANDOM = ("RandomSNType", "Perfect")
NUGENT_CLASS = 2222
RANDOM_CLASSES = (2222, 2223, 2224, 2225, 2226, 2232, 2233, 2234, 2235, 2242, 2243, 2244, 2245, 2246,
                  2322, 2323, 2324, 2325, 2326, 2332)
DEFAULT_GROUP = "fakebroker"
BATCH = 5000
# librdkafka looks for subscribed topics that do not exist yet only at each metadata refresh
# (default every 5 min); with tansu a missing topic among existing ones is otherwise found late.
METADATA_REFRESH_MS = 3000


#: With --idle-exit: how long to wait at least for the consumer group to assign partitions.
UNASSIGNED_IDLE_S = 30.0


class FakeBrokerError(RuntimeError):
    """The fake broker cannot go on (Kafka refused or lost its output)."""


def _varint_end(data: bytes, start: int) -> int:
    """Index just past the varint starting at ``start``."""
    for i in range(start, min(start + 10, len(data))):
        if data[i] < 0x80:
            return i + 1
    raise ValueError("truncated or invalid Avro long at the start of the alert")


def _read_long(data: bytes, start: int) -> tuple[int, int]:
    end = _varint_end(data, start)
    n = 0
    for shift, byte in enumerate(data[start:end]):
        n |= (byte & 0x7F) << (7 * shift)
    return (n >> 1) ^ -(n & 1), end


def alert_ids(value: bytes) -> tuple[int, int]:
    """``(alertId, diaSourceId)`` of a schemaless Avro alert, read from its first bytes only."""
    alert_id, pos = _read_long(value, 0)
    source_id, _ = _read_long(value, pos)
    return alert_id, source_id


def _ids_prefix(value: bytes) -> bytes:
    """The encoded ``alertId`` and ``diaSourceId``: the same two longs open a classification."""
    return value[:_varint_end(value, _varint_end(value, 0))]


def _classification_block(class_ids: Sequence[int]) -> np.ndarray:
    """One Avro array block of ``classificationDict`` records, probabilities left zero."""
    codes = [zigzag_long(c) for c in class_ids]
    width = len(codes[0])
    if any(len(c) != width for c in codes):
        raise ValueError("class ids of different encoded lengths")
    head, tail = zigzag_long(len(codes)), b"\x00"
    row = np.zeros(len(head) + len(codes) * (width + 4) + len(tail), dtype=np.uint8)
    row[:len(head)] = list(head)
    body = row[len(head):-1].reshape(len(codes), width + 4)
    body[:, :width] = [list(c) for c in codes]
    return row


@dataclass
class Summary:
    """What a run did."""

    alerts: int = 0
    messages: int = 0
    seconds: float = 0.0
    active_seconds: float = 0.0  # from the first alert received to the end
    reason: str = ""

    def line(self) -> str:
        text = (f"fakebroker stopped ({self.reason}): {self.alerts:,} alerts consumed, {self.messages:,} "
                f"classifications produced in {self.seconds:.1f} s")
        if self.alerts and self.active_seconds > 0:
            text += (f"; since the first alert {self.alerts / self.active_seconds:,.0f} alerts/s, "
                     f"{self.messages / self.active_seconds:,.0f} messages/s")
        return text


class FakeBroker:
    """Reads alerts from ``alert_topics``, writes two classifications per alert to ``dest_topic``."""

    def __init__(self, alert_topics: Sequence[str], dest_topic: str, source: str | None = None,
                 dest: str | None = None, group: str = DEFAULT_GROUP, seed: int | None = None,
                 log: Callable[[str], None] = print, progress_every: float = 5.0, batch: int = BATCH):
        if not alert_topics:
            raise ValueError("no alert topics given")
        self.alert_topics = list(alert_topics)
        self.dest_topic = dest_topic
        self.source = source or default_servers()
        self.dest = dest or default_servers()
        self.group = group
        self.rng = np.random.default_rng(seed)
        self.log = log
        self.progress_every = progress_every
        self.batch = batch
        self._stop: str | None = None
        self._delivery_errors: list[str] = []
        self.skipped = 0
        tail = avro_string(BROKER_NAME) + avro_string(BROKER_VERSION)
        nugent = _classification_block([NUGENT_CLASS])
        nugent[-5:-1] = np.frombuffer(np.float32(1.0).astype("<f4").tobytes(), dtype=np.uint8)
        self._nugent_tail = tail + avro_string(NUGENT[0]) + avro_string(NUGENT[1]) + nugent.tobytes()
        self._random_tail = tail + avro_string(RANDOM[0]) + avro_string(RANDOM[1])
        self._random_row = _classification_block(RANDOM_CLASSES)
        self._prob_width = len(zigzag_long(RANDOM_CLASSES[0])) + 4

    # -- classification (no Kafka) ----------------------------------------------------------------

    def probabilities(self, n: int) -> np.ndarray:
        """``n`` random probability vectors (float32) over the 20 classes, uniform on the simplex."""
        draws = self.rng.standard_exponential((n, len(RANDOM_CLASSES)))
        return (draws / draws.sum(axis=1, keepdims=True)).astype("<f4")

    def classify(self, alerts: Sequence[tuple[bytes | None, int | None]],
                 ingest_ms: int | None = None) -> list[bytes]:
        """Classification messages for ``(alert bytes, Kafka timestamp ms)`` pairs, two per alert.

        ``elasticcPublishTimestamp`` is the alert's Kafka timestamp (``ingest_ms`` if it has none);
        ``brokerIngestTimestamp`` is ``ingest_ms`` (default: now). Alerts too short to hold the two
        ids get no messages and are counted in ``self.skipped``.
        """
        if ingest_ms is None:
            ingest_ms = int(time.time() * 1000)
        ingest = b"\x02" + zigzag_long(ingest_ms)
        starts = []
        for value, timestamp in alerts:
            try:
                ids = _ids_prefix(value)
            except (ValueError, TypeError):
                self.skipped += 1
                continue
            starts.append(ids + zigzag_long(ingest_ms if timestamp is None else timestamp) + ingest)
        if not starts:
            return []
        n, n_classes, width = len(starts), len(RANDOM_CLASSES), self._prob_width
        rows = np.tile(self._random_row, (n, 1))
        head = len(zigzag_long(n_classes))
        body = rows[:, head:-1].reshape(n, n_classes, width)
        body[:, :, width - 4:] = self.probabilities(n).view(np.uint8).reshape(n, n_classes, 4)
        blob, step = rows.tobytes(), rows.shape[1]
        nugent_tail, random_tail = self._nugent_tail, self._random_tail
        out = []
        for i, start in enumerate(starts):
            out.append(start + nugent_tail)
            out.append(start + random_tail + blob[i * step:(i + 1) * step])
        return out

    # -- the Kafka loop -----------------------------------------------------------------------------

    def stop(self, reason: str = "stop requested") -> None:
        """Ask the run loop to finish its batch and return."""
        self._stop = reason

    def _on_delivery(self, err, msg) -> None:
        if err is not None:
            self._delivery_errors.append(str(err))

    def _on_signal(self, signum, frame) -> None:
        if self._stop is not None:
            raise KeyboardInterrupt
        self._stop = signal.Signals(signum).name
        self.log(f"fakebroker: {self._stop} received, finishing the batch in progress")

    def run(self, max_alerts: int | None = None, idle_exit: float | None = None) -> Summary:
        """Consume, classify, produce, commit until stopped, ``max_alerts`` or ``idle_exit`` s idle."""
        ensure_topics(self.dest, [self.dest_topic])
        producer = make_producer(self.dest, **{"delivery.report.only.error": True,
                                               "on_delivery": self._on_delivery})
        consumer = make_consumer(self.source, self.group,
                                 **{"topic.metadata.refresh.interval.ms": METADATA_REFRESH_MS})
        handlers = self._install_signals()
        self._stop = None
        summary = Summary()
        started = last_alert = last_report = time.monotonic()
        reported_alerts, waiting, first_alert, assigned = 0, set(), None, False
        self.log(f"fakebroker: group {self.group!r} reading {', '.join(self.alert_topics)} on "
                 f"{self.source}, writing {self.dest_topic} on {self.dest}")
        try:
            consumer.subscribe(self.alert_topics)
            while self._stop is None:
                want = self.batch if max_alerts is None else min(self.batch, max_alerts - summary.alerts)
                msgs = consumer.consume(want, timeout=1.0)
                ingest_ms = int(time.time() * 1000)
                good = [m for m in msgs if not self._consumer_error(m, waiting)]
                now = time.monotonic()
                if not assigned and consumer.assignment():
                    assigned, last_alert = True, now  # the idle clock starts once partitions are ours
                if good:
                    first_alert = now if first_alert is None else first_alert
                    summary.messages += self._process(producer, consumer, good, ingest_ms)
                    summary.alerts += len(good)
                    last_alert = now = time.monotonic()
                if max_alerts is not None and summary.alerts >= max_alerts:
                    self._stop = f"--max-alerts {max_alerts}"
                elif idle_exit is not None and now - last_alert >= (
                        idle_exit if assigned else max(idle_exit, UNASSIGNED_IDLE_S)):
                    self._stop = f"no alerts for {idle_exit:g} s"
                if now - last_report >= self.progress_every:
                    if summary.alerts > reported_alerts:  # quiet while idle
                        rate = (summary.alerts - reported_alerts) / (now - last_report)
                        self.log(f"fakebroker: {summary.alerts:,} alerts consumed, {summary.messages:,} "
                                 f"messages produced ({rate:,.0f} alerts/s)")
                    last_report, reported_alerts = now, summary.alerts
        finally:
            consumer.close()
            self._restore_signals(handlers)
        end = time.monotonic()
        summary.seconds = end - started
        summary.active_seconds = 0.0 if first_alert is None else end - first_alert
        summary.reason = self._stop or ""
        return summary

    def _consumer_error(self, msg, waiting: set[str]) -> bool:
        err = msg.error()
        if err is None:
            return False
        if err.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
            if msg.topic() not in waiting:
                waiting.add(msg.topic())
                self.log(f"fakebroker: topic {msg.topic()} does not exist yet; waiting for it")
            return True
        if err.fatal():
            raise KafkaException(err)
        self.log(f"fakebroker: consumer error: {err}")
        return True

    def _process(self, producer, consumer, msgs: list, ingest_ms: int) -> int:
        """Classify and produce ``msgs``, wait for the acks, then commit their offsets."""
        skipped = self.skipped
        out = self.classify([(m.value(), _timestamp_ms(m)) for m in msgs], ingest_ms)
        if self.skipped > skipped:
            self.log(f"fakebroker: skipped {self.skipped - skipped} malformed alert(s)")
        topic = self.dest_topic
        for value in out:
            while True:
                try:
                    producer.produce(topic, value)
                    break
                except BufferError:
                    producer.poll(0.1)
        while producer.flush(30) > 0:
            self.log("fakebroker: waiting for Kafka to acknowledge the classifications")
        if self._delivery_errors:
            errors, self._delivery_errors = self._delivery_errors, []
            raise FakeBrokerError(f"{len(errors)} classifications not delivered (first: {errors[0]}); "
                                  "the alerts of this batch stay uncommitted")
        offsets: dict[tuple[str, int], int] = {}
        for m in msgs:
            key = (m.topic(), m.partition())
            offsets[key] = max(offsets.get(key, -1), m.offset() + 1)
        try:
            consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                            asynchronous=False)
        except KafkaException as exc:
            # A rebalance can void the commit: the alerts will simply be classified again.
            self.log(f"fakebroker: offset commit failed ({exc}); these alerts may be classified again")
        return len(out)

    def _install_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        return {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    @staticmethod
    def _restore_signals(handlers) -> None:
        for sig, handler in (handlers or {}).items():
            signal.signal(sig, handler)


def _timestamp_ms(msg) -> int | None:
    kind, value = msg.timestamp()
    return None if kind == TIMESTAMP_NOT_AVAILABLE or value < 0 else value
