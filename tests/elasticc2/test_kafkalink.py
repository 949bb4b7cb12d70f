"""librdkafka's log lines through ``kafka_logger()``: one line per kind per period, not one per retry."""

import logging
import socket
import time

from confluent_kafka import Consumer

from desctom.elasticc2.workers.brokerpoll.kafkalink import RepeatFilter, kafka_logger


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_broker_logs_one_line_per_kind_not_one_per_retry():
    """Issue 15 item 3: the poller log grew 2.4 KB/s while tansu was down (a line per reconnect)."""
    logger = kafka_logger()
    collect = Collect()
    logger.addHandler(collect)
    try:
        consumer = Consumer({"bootstrap.servers": f"127.0.0.1:{_closed_port()}", "group.id": "g",
                             "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 100}, logger=logger)
        consumer.subscribe(["t"])
        unfiltered = Collect()
        raw = logging.getLogger("test.kafkalink.raw")
        raw.addHandler(unfiltered)
        raw.setLevel(logging.DEBUG)
        witness = Consumer({"bootstrap.servers": f"127.0.0.1:{_closed_port()}", "group.id": "g",
                            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 100}, logger=raw)
        witness.subscribe(["t"])
        end = time.monotonic() + 4
        while time.monotonic() < end:
            consumer.poll(0.2)
            witness.poll(0.2)
        consumer.close()
        witness.close()
    finally:
        logger.removeHandler(collect)
    assert len(unfiltered.lines) >= 10, unfiltered.lines  # the witness shows librdkafka retries many times
    assert any("Connection refused" in line for line in collect.lines)
    assert len(collect.lines) <= 3, collect.lines


def test_a_held_back_kind_is_counted_when_it_comes_through_again():
    logger = logging.getLogger("test.kafkalink.repeat")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    collect = Collect()
    logger.addHandler(collect)
    logger.addFilter(RepeatFilter(every=0.3))
    for port in range(5):
        logger.error("%s [%s] %s", "FAIL", "rdkafka#consumer-1", f"connect to 127.0.0.1:{port} refused")
    logger.error("%s [%s] %s", "FAIL", "rdkafka#consumer-1", "something else entirely")
    time.sleep(0.35)
    logger.error("%s [%s] %s", "FAIL", "rdkafka#consumer-1", "connect to 127.0.0.1:7 refused")
    assert collect.lines == [
        "FAIL [rdkafka#consumer-1] connect to 127.0.0.1:0 refused",
        "FAIL [rdkafka#consumer-1] something else entirely",
        "FAIL [rdkafka#consumer-1] connect to 127.0.0.1:7 refused (4 more like this in 0 s)",
    ]
