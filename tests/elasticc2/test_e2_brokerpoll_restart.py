"""brokerpoll2 after the Kafka broker restarts on the same port (empty): ingest resumes by itself."""

import os
import signal
import subprocess
import time

import pytest
from django.db import connection
from test_e2_brokerpoll import classification, produce, query, wait_for_count

from desctom.testing.cli import DESCTOM, cli_env


@pytest.mark.django_db(transaction=True)
def test_broker_restart_then_5000_messages_all_stored_once(tmp_path):
    """Issue 15 item 3: 6,000 messages on 3 partitions read, tansu down, back empty, the topic recreated
    a few seconds later and 5,000 messages produced: all 5,000 stored, once, with no manual step.

    Before the fix tansu's group coordinator kept a member closed mid-join as the group's leader and
    assigned no partition to anyone, ever; the poller now reads by manual assignment (kafkalink.py).
    """
    from desctom.testing.services import ThrowawayKafka

    broker = ThrowawayKafka()  # a dedicated broker: this test stops it
    broker.start()
    proc = None
    log = tmp_path / "poll.log"
    try:
        topic = "restart-5000"
        before = int(os.environ.get("A_BEFORE", "6000"))
        parts = int(os.environ.get("A_PARTS", "3"))
        produce(broker.bootstrap, topic, [classification(i) for i in range(before)], partitions=parts)
        proc = subprocess.Popen([DESCTOM, "brokerpoll2", "--do-test", "--test-topic", topic, "--test-server",
                                 broker.bootstrap, "--batch-timeout", "0.5"], env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=open(log, "w"), start_new_session=True)
        wait_for_count(before, proc, tmp_path)
        broker.stop()  # SIGTERM; tansu keeps topics, offsets and groups in memory only
        time.sleep(float(os.environ.get("A_DOWN", "10")))
        broker.start()
        time.sleep(float(os.environ.get("A_GAP", "5")))
        after = [classification(i) for i in range(before, before + 5000)]
        produce(broker.bootstrap, topic, after, partitions=parts)
        started = time.monotonic()
        wait_for_count(before + 5000, proc, tmp_path, timeout=150)
        print(f"resumed: 5000 stored {time.monotonic() - started:.1f} s after producing")
        time.sleep(2)
        stored = query("SELECT count(*), count(DISTINCT alert_id) FROM elasticc2_brokermessage")
        assert stored == [(before + 5000,) * 2]
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
        broker.destroy()
        connection.close()



def _wedge_group(bootstrap: str, topic: str, group: str, broker) -> None:
    """Leave tansu's group ``group`` with a leader that will never sync (what a broker restart can do).

    A member rejoins after the broker restarted while its topic is still missing, and closes while
    its JoinGroup is in flight (right after the topic is recreated); tansu keeps it as the group's leader.
    """
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    member = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                       "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
                       "max.poll.interval.ms": 30000, "topic.metadata.refresh.interval.ms": 10000,
                       "log_level": 0})
    member.subscribe([topic])
    deadline = time.monotonic() + 30
    while not member.assignment() and time.monotonic() < deadline:
        member.consume(500, 1)
    broker.stop()
    end = time.monotonic() + 10
    while time.monotonic() < end:
        member.consume(500, 1)
    broker.start()
    end = time.monotonic() + 5
    while time.monotonic() < end:
        member.consume(500, 1)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 3, 1)]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": bootstrap, "log_level": 0})
    for i in range(300):
        producer.produce(topic, classification(i), partition=i % 3)
    assert producer.flush(20) == 0
    member.close()


@pytest.mark.django_db(transaction=True)
def test_a_group_that_assigns_nothing_is_read_by_manual_assignment(tmp_path):
    """A wedged consumer group (no partitions for anyone, ever): the poller reads every partition itself."""
    from desctom.testing.services import ThrowawayKafka

    broker = ThrowawayKafka()
    broker.start()
    proc = None
    log = tmp_path / "poll.log"
    try:
        topic = "wedged"
        produce(broker.bootstrap, topic, [], partitions=3)
        _wedge_group(broker.bootstrap, topic, "testing", broker)
        proc = subprocess.Popen([DESCTOM, "brokerpoll2", "--do-test", "--test-topic", topic, "--test-server",
                                 broker.bootstrap, "--batch-timeout", "0.5"], env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=open(log, "w"), start_new_session=True)
        wait_for_count(300, proc, tmp_path, timeout=120)
        assert "by manual assignment" in log.read_text()
        status = query("SELECT stored, last_error FROM elasticc2_brokerpollerstatus WHERE broker = 'test'")
        assert status[0][0] == 300 and "reading by manual assignment" in status[0][1]
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
        broker.destroy()
        connection.close()
