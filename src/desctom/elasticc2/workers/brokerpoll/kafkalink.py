"""The Kafka side of one broker stream: subscribe, read, commit, measure, and recover.

A :class:`StreamLink` owns the stream's confluent-kafka consumer. Normally it is a member of the
stream's consumer group and the group coordinator assigns it partitions. Two broker events are
handled here so that ingest resumes by itself:

* **A topic recreated** (the embedded broker keeps topics in memory, so a restart recreates them
  empty and reuses offsets from 0; an operator may delete and recreate a topic too): every topic's
  id is watched (``DescribeTopics``), and a topic whose id changed is read again from its
  beginning. Offsets this process committed for the old topic are forgotten. Messages read twice
  are dropped by the database's unique keys.
* **A group that assigns nothing**: after a restart, tansu's group coordinator can keep a member
  that closed while its JoinGroup was in flight as the group's leader forever; every later member
  then waits in "rebalance in progress" and no partition is ever assigned, even to a fresh process.
  When the link has had no partitions for ``reconnect_after`` seconds while messages wait and no
  member of the group commits anything, it stops relying on the group and reads every partition of
  its topics by manual assignment (from the group's committed offset where the broker still knows
  one, else from the beginning), for the rest of the process's life. Commits are still attempted;
  the database stays the record of what was stored. In a stream of several processes only member
  0 may fall back (``may_fall_back``): one reader of every partition is enough, and the others
  keep waiting in the group.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient

from desctom.elasticc2.workers.brokerpoll.records import Health
from desctom.elasticc2.workers.brokerpoll.streams import BrokerStream
from desctom.survey.kafka import make_consumer

log = logging.getLogger("desctom.brokerpoll")

Key = tuple[str, int]

#: librdkafka settings of every stream consumer (the stream's own settings win).
CONSUMER_SETTINGS = {
    "topic.metadata.refresh.interval.ms": 10000,
    # also the rebalance timeout the coordinator waits for vanished members: 30 s, not 300 s
    "max.poll.interval.ms": 30000,
}
#: Seconds a metadata, offset or watermark request may take while measuring.
MEASURE_TIMEOUT = 2.0


class StreamLink:
    """One stream's consumer: group member, or reader of every partition once the group fails it."""

    def __init__(self, stream: BrokerStream, *, health: Health, on_error: Callable[[str], None],
                 reset: bool = False, reconnect_after: float = 30.0,
                 kafka_logger: logging.Logger | None = None, may_fall_back: bool = True):
        self.stream = stream
        self.may_fall_back = may_fall_back
        self.health = health
        self.on_error = on_error
        self.reset = reset
        self.reconnect_after = reconnect_after
        self.kafka_logger = kafka_logger
        self.consumer = None
        self.manual = False
        self.topics: list[str] = []
        self.committed: dict[Key, int] = {}  # next offsets this process committed (or stored, manual)
        self.topic_ids: dict[str, str] = {}
        self._reset_done: set[Key] = set()
        self._subscribed_at = time.monotonic()
        self.assigned_at = 0.0  # monotonic time of the last assignment
        self._group_stall: tuple[object, float] | None = None  # (committed offsets seen, since when)
        self._commit_warned = False
        self._admin: AdminClient | None = None

    # -- connection ---------------------------------------------------------------------------------
    def _make(self):
        conf = {**CONSUMER_SETTINGS, **self.stream.client_config()}
        if self.kafka_logger is not None:
            conf["logger"] = self.kafka_logger
        return make_consumer(self.stream.servers, self.stream.group_id, **conf)

    def connect(self) -> bool:
        """Subscribe (or, in manual mode, assign) to the stream's topics that exist; False if none do."""
        consumer = self._make()
        try:
            available = sorted(t for t in consumer.list_topics(timeout=10).topics if not t.startswith("__"))
            topics = self.stream.resolve_topics(available)
        except Exception:
            consumer.close()
            raise
        if not topics:
            consumer.close()
            return False
        self.consumer, self.topics = consumer, topics
        self._subscribed_at = time.monotonic()
        self._group_stall = None
        self._check_topic_ids()
        if self.manual:
            self._assign_all()
        else:
            consumer.subscribe(topics, on_assign=self._on_assign)
            log.info("%s: subscribed to %s as group %s", self.stream.name, ", ".join(topics),
                     self.stream.group_id)
        return True

    def close(self) -> None:
        if self.consumer is not None:
            try:
                self.consumer.close()
            except Exception:  # closing a consumer whose broker vanished can raise; nothing to save
                pass
            self.consumer = None

    def follow_topics(self) -> None:
        """Follow a changed topic list without leaving the group (a close mid-join can wedge tansu)."""
        if self.consumer is None:
            return
        available = sorted(t for t in self.consumer.list_topics(timeout=10).topics if not t.startswith("__"))
        topics = self.stream.resolve_topics(available)
        if topics == self.topics:
            return
        log.info("%s: topics now %s", self.stream.name, ", ".join(topics) or "(none)")
        self.topics = topics
        if not topics:
            self.close()
        elif self.manual:
            self._assign_all()
        else:
            self.consumer.subscribe(topics, on_assign=self._on_assign)

    def _on_assign(self, consumer, partitions) -> None:
        """With ``reset``: each partition from its beginning, once."""
        self.assigned_at = time.monotonic()
        if not self.reset:
            return
        for tp in partitions:
            if (tp.topic, tp.partition) not in self._reset_done:
                tp.offset = OFFSET_BEGINNING
                self._reset_done.add((tp.topic, tp.partition))
        consumer.assign(partitions)

    def _partitions(self, timeout: float = MEASURE_TIMEOUT) -> list[TopicPartition]:
        meta = self.consumer.list_topics(timeout=timeout).topics
        return [TopicPartition(t, p) for t in self.topics if t in meta for p in sorted(meta[t].partitions)]

    def _assign_all(self) -> None:
        """Manual mode: every partition, from the group's offset if the broker knows one, else ours or 0."""
        partitions = self._partitions(timeout=10)
        try:
            known = {(tp.topic, tp.partition): tp.offset
                     for tp in self.consumer.committed(partitions, timeout=5)}
        except KafkaException:
            known = {}
        start = []
        for tp in partitions:
            key = (tp.topic, tp.partition)
            offset = known.get(key, -1)
            if offset < 0:
                offset = self.committed.get(key, -1)
            if offset < 0 or (self.reset and key not in self._reset_done):
                offset = OFFSET_BEGINNING
                self._reset_done.add(key)
            start.append(TopicPartition(tp.topic, tp.partition, offset))
        self.consumer.assign(start)
        self.assigned_at = time.monotonic()
        log.warning("%s: reading %d partitions of %s by manual assignment (the group coordinator "
                    "assigns none)", self.stream.name, len(start), ", ".join(self.topics))

    # -- reading and committing ---------------------------------------------------------------------
    def consume(self, n: int, timeout: float) -> list:
        return self.consumer.consume(n, timeout)

    def assigned(self) -> bool:
        return self.consumer is not None and bool(self.consumer.assignment())

    def commit(self, offsets: dict[Key, int]) -> None:
        """Commit the next ``offsets`` (after the batch is stored); a failure is noted, not fatal."""
        self.committed.update(offsets)
        try:
            self.consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                                 asynchronous=False)
        except KafkaException as exc:  # stored already: a re-read after restart is dropped as duplicate
            if self.manual:  # the wedged group refuses commits from non-members: expected, say it once
                if not self._commit_warned:
                    self._commit_warned = True
                    log.info("%s: the group refuses commits from a manually assigned reader (%s); the "
                             "database records what was stored", self.stream.name, exc)
                return
            log.warning("%s: could not commit Kafka offsets (%s)", self.stream.name, exc)
            self.on_error(f"Kafka commit: {exc}")

    # -- recreated topics ---------------------------------------------------------------------------
    def _check_topic_ids(self) -> None:
        """Compare every topic's id with the last one seen; read recreated topics from the start."""
        if self._admin is None:
            self._admin = admin_client(self.stream, self.kafka_logger)
        ids = topic_ids(self._admin, self.stream.name, self.topics)
        for topic, new in ids.items():
            old = self.topic_ids.get(topic)
            self.topic_ids[topic] = new
            if old is None or old == new:
                continue
            log.warning("%s: topic %s was recreated (broker restarted?); reading it again from the "
                        "beginning", self.stream.name, topic)
            self.on_error(f"Kafka: topic {topic} was recreated; read again from its beginning")
            for key in [k for k in self.committed if k[0] == topic]:
                del self.committed[key]
            self._rewind(topic)

    def _rewind(self, topic: str) -> None:
        if self.consumer is None:
            return
        mine = [tp for tp in self.consumer.assignment() if tp.topic == topic]
        for tp in mine:
            try:
                low, _ = self.consumer.get_watermark_offsets(tp, timeout=MEASURE_TIMEOUT, cached=False)
                self.consumer.seek(TopicPartition(topic, tp.partition, low))
            except KafkaException as exc:  # not fetching yet: it starts from the (lost) group offset
                log.info("%s: cannot seek %s[%d] (%s)", self.stream.name, topic, tp.partition, exc)

    # -- health -------------------------------------------------------------------------------------
    def measure(self) -> None:
        """Membership, assignment, lag (high-water mark minus committed offset), recreated topics.

        The lag covers every partition of the subscribed topics, assigned or not: a consumer left
        without partitions while messages wait has lag too. Short timeouts: a broker outage must
        not hold the loop.
        """
        consumer = self.consumer
        if consumer is None:
            self.health.member_id, self.health.assigned, self.health.lag = None, [], None
            self.health.group_lag = None
            return
        try:
            self.health.member_id = None if self.manual else (consumer.memberid() or None)
        except (KafkaException, RuntimeError):
            self.health.member_id = None
        try:
            self._check_topic_ids()
            assignment = consumer.assignment()
            partitions = self._partitions()
            committed = None
            if not self.manual and partitions:
                try:
                    committed = {(tp.topic, tp.partition): tp.offset
                                 for tp in consumer.committed(partitions, timeout=MEASURE_TIMEOUT)}
                except KafkaException as exc:  # no group coordinator: judge by what we committed
                    log.info("%s: cannot read the committed offsets (%s)", self.stream.name, exc)
            self.health.assigned = sorted(f"{tp.topic}[{tp.partition}]" for tp in assignment)
            mine = {(tp.topic, tp.partition) for tp in assignment}
            lag = own_lag = 0
            for tp in partitions:
                key = (tp.topic, tp.partition)
                low, high = consumer.get_watermark_offsets(tp, timeout=1, cached=False)
                done = self.committed.get(key, -1) if committed is None else committed.get(key, -1)
                waiting = max(0, high - (done if done >= 0 else low))
                lag += waiting
                own_lag += waiting if key in mine else 0
            self.health.lag, self.health.group_lag, self.health.lag_time = own_lag, lag, time.time()
        except (KafkaException, RuntimeError) as exc:
            log.info("%s: cannot measure the lag (%s)", self.stream.name, exc)
            return
        if not self.manual and self.may_fall_back:
            self._judge_group(bool(assignment), lag, committed)

    def _judge_group(self, assigned: bool, lag: int, committed: dict | None) -> None:
        """Fall back to manual assignment when the group leaves messages waiting with nobody reading."""
        if assigned or lag == 0:
            self._group_stall = None
            return
        now = time.monotonic()
        seen = None if committed is None else tuple(sorted(committed.items()))
        if self._group_stall is None:
            self._group_stall = (seen, now)
            return
        if seen is not None and seen != self._group_stall[0]:
            # the group's offsets moved (or were first read): a member makes progress, or may
            self._group_stall = (seen, now if self._group_stall[0] is not None else self._group_stall[1])
            if self._group_stall[1] == now:
                return
        waited = min(now - self._subscribed_at, now - self._group_stall[1])
        if waited < self.reconnect_after:
            return
        self.on_error(f"Kafka: no partitions assigned {now - self._subscribed_at:.0f} s after joining group "
                      f"{self.stream.group_id} while {lag} messages wait; reading by manual assignment")
        self.manual = True
        self.close()  # the run loop connects again, now assigning every partition itself


def admin_client(stream: BrokerStream, logger: logging.Logger | None = None) -> AdminClient:
    """An admin client for ``stream``'s servers with its connection (TLS/SASL) settings."""
    from desctom.survey.kafka import default_servers

    conf = {k: v for k, v in stream.client_config().items() if k.startswith(_CONNECTION_PREFIXES)}
    if logger is not None:
        conf["logger"] = logger
    return AdminClient({"bootstrap.servers": stream.servers or default_servers(), **conf})


def topic_ids(admin: AdminClient, name: str, topics: list[str]) -> dict[str, str]:
    """``{topic: id}`` from the broker; empty where it cannot say (topic ids came with Kafka 2.8)."""
    if not topics:
        return {}
    try:
        futures = admin.describe_topics(TopicCollection(topics), request_timeout=MEASURE_TIMEOUT)
    except (KafkaException, ValueError, TypeError) as exc:
        log.info("%s: cannot describe topics (%s)", name, exc)
        return {}
    ids = {}
    for topic, future in futures.items():
        try:
            found = future.result(MEASURE_TIMEOUT + 1)
        except (KafkaException, TimeoutError):
            continue
        if found.topic_id is not None:
            ids[topic] = str(found.topic_id)
    return ids


#: librdkafka settings that are about the connection (an admin client takes only these).
_CONNECTION_PREFIXES = ("security.", "sasl.", "ssl.", "client.", "socket.", "broker.", "api.")


class RepeatFilter(logging.Filter):
    """Lets one librdkafka log line of each kind through per ``every`` seconds, counting the rest.

    During a broker outage librdkafka reports every reconnect attempt (several per second); the
    poller log would grow by kilobytes a second. Lines of a kind differ only in their numbers.
    """

    def __init__(self, every: float = 60.0):
        super().__init__()
        self.every = every
        self._seen: dict[tuple, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        kind = (record.levelno, str(record.msg), *(re.sub(r"[0-9]+", "#", str(a)) for a in args))
        now = time.monotonic()
        last, hidden = self._seen.get(kind, (-1e18, 0))
        if now - last < self.every:
            self._seen[kind] = (last, hidden + 1)
            return False
        self._seen[kind] = (now, 0)
        if hidden and args:
            record.args = (*args[:-1], f"{args[-1]} ({hidden} more like this in {now - last:.0f} s)")
        if len(self._seen) > 1000:
            self._seen.clear()
        return True


def kafka_logger() -> logging.Logger:
    """The logger librdkafka's messages go to (``desctom.kafka``), with repeats held back."""
    logger = logging.getLogger("desctom.kafka")
    if not any(isinstance(f, RepeatFilter) for f in logger.filters):
        logger.addFilter(RepeatFilter())
    return logger
