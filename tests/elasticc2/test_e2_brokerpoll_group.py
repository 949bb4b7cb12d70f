"""Two brokerpoll2 processes in one consumer group on a 4-partition topic (real tansu, real PostgreSQL):
Kafka splits the partitions between them; one is SIGKILLed mid-stream, the supervisor restarts it, and
every message is stored exactly once."""

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest
from django.db import connection
from test_e2_brokerpoll import classification, produce, query

from desctom.survey.kafka import make_producer
from desctom.testing.cli import DESCTOM, cli_env

FIRST, SECOND = 10_000, 20_000  # before the pollers start, and while they run


def _member_pid(out_path, member: int, not_pid: int | None = None) -> int | None:
    """The pid of ``test#member`` from the supervisor's "started" lines (the latest one but ``not_pid``)."""
    found = [int(p) for p in re.findall(rf"started test#{member} \(pid (\d+)\)", out_path.read_text())]
    found = [p for p in found if p != not_pid]
    return found[-1] if found else None


def _wait(predicate, what: str, proc, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{what}\n{log.read_text()[-3000:]}"
        time.sleep(0.1)


def _count() -> int:
    return query("SELECT count(*) FROM elasticc2_brokermessage")[0][0]


def _split() -> bool:
    """Both members have written a status row with partitions, and no partition is in both."""
    rows = query("SELECT member, assigned FROM elasticc2_brokerpollerstatus WHERE broker = 'test'")
    parts = {m: set(a if isinstance(a, list) else json.loads(a or "[]")) for m, a in rows}
    return set(parts) == {0, 1} and all(parts.values()) and not (parts[0] & parts[1])


@pytest.mark.django_db(transaction=True)
def test_two_members_one_killed_every_message_stored_once(kafka_server, tmp_path):
    topic = f"group-{uuid.uuid4().hex[:8]}"
    produce(kafka_server.bootstrap, topic, [classification(i) for i in range(FIRST)], partitions=4)
    out, log = tmp_path / "poll.out", tmp_path / "poll.log"
    proc = subprocess.Popen([DESCTOM, "brokerpoll2", "--do-test", "--test-topic", topic, "--test-server",
                             kafka_server.bootstrap, "--processes", "2", "--batch-size", "500", "-g", topic,
                             "--batch-timeout", "0.3"], env=cli_env(), stdout=open(out, "w"),
                            stderr=open(log, "w"), start_new_session=True)
    later = [classification(i) for i in range(FIRST, FIRST + SECOND)]

    def produce_while_running():
        producer = make_producer(kafka_server.bootstrap)
        for start in range(0, SECOND, 1000):
            for value in later[start:start + 1000]:
                producer.produce(topic, value)
                producer.poll(0)
            producer.flush(30)
            time.sleep(0.2)

    producing = threading.Thread(target=produce_while_running)
    try:
        _wait(_split, "the two members never split the partitions", proc, log, timeout=40)
        producing.start()
        _wait(lambda: _count() >= FIRST + 2000, "nothing of the second part stored", proc, log, timeout=30)
        victim = _member_pid(out, 1)
        os.kill(victim, signal.SIGKILL)  # mid-stream: messages are being produced and read
        killed_at = _count()
        producing.join(60)
        _wait(lambda: _member_pid(out, 1, not_pid=victim) is not None, "member 1 not restarted", proc, log,
              timeout=20)
        _wait(lambda: _count() >= FIRST + SECOND, "not every message stored", proc, log, timeout=60)
        time.sleep(1)  # a duplicate would show up now
        assert killed_at < FIRST + SECOND, "the kill came too late to test anything"
        assert query("SELECT count(*), count(DISTINCT alert_id), count(DISTINCT (kafkapartition, "
                     "streammessage_id)) FROM elasticc2_brokermessage") == [(FIRST + SECOND,) * 3]
        assert query("SELECT count(DISTINCT kafkapartition) FROM elasticc2_brokermessage") == [(4,)]
        text = out.read_text()
        assert re.search(r"test#1 exited with status -9; restarting", text), text
        members = query("SELECT member FROM elasticc2_brokerpollerstatus WHERE broker = 'test' ORDER BY 1")
        assert members == [(0,), (1,)]
    finally:
        if producing.is_alive():
            producing.join(60)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_rows_of_former_members_are_removed_at_start(kafka_server, tmp_path):
    """A stream that ran 3 members and now runs 1: the rows of members 1 and 2 go at start."""
    with connection.cursor() as cur:
        for member in (0, 1, 2):
            cur.execute("INSERT INTO elasticc2_brokerpollerstatus (broker, member, consumed, stored, "
                        "skipped, quarantined) VALUES ('test', %s, 0, 5, 0, 0)", [member])
    topic = f"shrink-{uuid.uuid4().hex[:8]}"
    produce(kafka_server.bootstrap, topic, [classification(i) for i in range(10)], partitions=4)
    done = subprocess.run([DESCTOM, "brokerpoll2", "--do-test", "--test-topic", topic, "--test-server",
                           kafka_server.bootstrap, "--processes", "1", "--idle-exit", "3", "-g", topic],
                          env=cli_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "removed the status of 2 former member(s)" in done.stdout
    assert query("SELECT member, stored FROM elasticc2_brokerpollerstatus WHERE broker = 'test'") == [(0, 10)]
    connection.close()
