"""brokerpoll2 on a real tansu broker and a real PostgreSQL: batches, bad messages, restarts, kills."""

import os
import signal
import subprocess
import time
import uuid

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from desctom.survey import schemas
from desctom.survey.kafka import ensure_topics, make_producer
from desctom.testing.cli import DESCTOM, cli_env

T0 = 1_760_000_000_000
LEAVES = [2222, 2223, 2224, 2225, 2226, 2232, 2233, 2234, 2235, 2242]


def classification(i: int, classifier: str = "RandomSNType") -> bytes:
    probs = np.random.default_rng(i).dirichlet(np.ones(len(LEAVES)))
    return schemas.encode(schemas.broker_classification_schema(), {
        "alertId": 1000 + i, "diaSourceId": 5000 + i // 2, "elasticcPublishTimestamp": T0 + i,
        "brokerIngestTimestamp": None if i % 7 == 0 else T0 + i + 500, "brokerName": "TestBroker",
        "brokerVersion": "v2", "classifierName": classifier, "classifierParams": "p",
        "classifications": [{"classId": c, "probability": float(p)}
                            for c, p in zip(LEAVES, probs, strict=True)]})


def produce(servers: str, topic: str, values: list[bytes], partitions: int = 1) -> None:
    ensure_topics(servers, [topic], partitions=partitions)
    producer = make_producer(servers)
    for v in values:
        producer.produce(topic, v)
        producer.poll(0)
    assert producer.flush(30) == 0


def query(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def poll(servers, topic, *extra):
    call_command("brokerpoll2", "--do-test", "--test-topic", topic, "--test-server", servers,
                 "--idle-exit", "4", "--batch-timeout", "0.5", *extra)


@pytest.mark.django_db(transaction=True)
def test_poller_stores_every_message_once_and_skips_bad_ones(kafka_server, capsys):
    topic = f"cls-{uuid.uuid4().hex[:8]}"
    values = [classification(i, "A" if i % 2 else "B") for i in range(3000)]
    values[10] = b"\x01\x02garbage"
    values[20] = values[20] + b"\x00"
    produce(kafka_server.bootstrap, topic, values, partitions=3)
    poll(kafka_server.bootstrap, topic, "--batch-size", "700")
    assert query("SELECT count(*), count(DISTINCT (kafkapartition, streammessage_id)) "
                 "FROM elasticc2_brokermessage WHERE topicname = %s", [topic]) == [(2998, 2998)]
    assert query("SELECT classifiername FROM elasticc2_brokerclassifier ORDER BY 1") == [("A",), ("B",)]
    sources = {5000 + i // 2 for i in range(3000) if i not in (10, 20)}
    assert query("SELECT count(*) FROM elasticc2_brokersourceids")[0][0] == len(sources)
    status = query("SELECT consumed, stored, skipped FROM elasticc2_brokerpollerstatus WHERE broker = 'test'")
    assert status == [(3000, 2998, 2)]
    row = query("SELECT alert_id, classid, brokeringesttimestamp, elasticcpublishtimestamp, msghdrtimestamp "
                "FROM elasticc2_brokermessage WHERE alert_id = 1007")[0]
    assert row[1] == LEAVES and row[2] is None and row[3].timestamp() * 1000 == T0 + 7 and row[4] is not None
    # read everything again from the start: nothing is duplicated
    poll(kafka_server.bootstrap, topic, "--reset")
    assert query("SELECT count(*) FROM elasticc2_brokermessage")[0][0] == 2998
    assert "skipped undecodable" not in capsys.readouterr().out  # logged on stderr with topic/offset


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_batch_then_restart_loses_and_duplicates_nothing(kafka_server):
    topic = f"kill-{uuid.uuid4().hex[:8]}"
    n = 60_000
    produce(kafka_server.bootstrap, topic, [classification(i) for i in range(n)], partitions=2)
    argv = [DESCTOM, "brokerpoll2", "--do-test", "--test-topic", topic, "--test-server",
            kafka_server.bootstrap, "--batch-size", "2000", "--batch-timeout", "0.5"]
    proc = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while query("SELECT count(*) FROM elasticc2_brokermessage")[0][0] < 4000:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the supervisor and its consumer, wherever they are
        proc.wait()
    stored = query("SELECT count(*) FROM elasticc2_brokermessage")[0][0]
    assert stored < n, "the kill came too late to test anything"
    done = subprocess.run([*argv, "--idle-exit", "4"], env=cli_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert query("SELECT count(*), count(DISTINCT alert_id) FROM elasticc2_brokermessage") == [(n, n)]


@pytest.mark.django_db(transaction=True)
def test_poller_survives_a_kafka_restart(tmp_path):
    from desctom.testing.services import ThrowawayKafka

    broker = ThrowawayKafka()
    broker.start()
    proc = None
    try:
        topic = "restart-test"
        produce(broker.bootstrap, topic, [classification(i) for i in range(100)])
        proc = subprocess.Popen([DESCTOM, "brokerpoll2", "--do-test", "--test-topic", topic, "--test-server",
                                 broker.bootstrap, "--batch-timeout", "0.5"], env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "poll.log", "w"),
                                start_new_session=True)
        wait_for_count(100, proc, tmp_path)
        broker.stop()
        time.sleep(3)
        broker.start()  # same port; the embedded broker comes back empty
        produce(broker.bootstrap, topic, [classification(i) for i in range(100, 150)])
        wait_for_count(150, proc, tmp_path, timeout=150)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            assert proc.wait(60) == 0
        broker.destroy()


def wait_for_count(n, proc, tmp_path, timeout=90):
    deadline = time.monotonic() + timeout
    while query("SELECT count(*) FROM elasticc2_brokermessage")[0][0] < n:
        assert proc.poll() is None, (tmp_path / "poll.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (tmp_path / "poll.log").read_text()[-3000:]
        time.sleep(0.2)


def test_no_brokers_and_bad_options_are_one_line_errors(tmp_path):
    with pytest.raises(CommandError, match="No brokers given"):
        call_command("brokerpoll2")
    with pytest.raises(CommandError, match="Pub/Sub"):
        call_command("brokerpoll2", "--do-pitt")
    with pytest.raises(CommandError, match="--batch-size must be positive"):
        call_command("brokerpoll2", "--do-test", "--batch-size", "0")
    bad = tmp_path / "b.toml"
    bad.write_text('[[brokers]]\nname = "x"\ntopics = ["t"]\ncolour = "red"\n')
    with pytest.raises(CommandError, match=r"unknown key\(s\) colour"):
        call_command("brokerpoll2", "--config", str(bad))
    bad.write_text('[[brokers]]\nname = "x"\ntopics = ["t"]\n'
                   '[brokers.secrets]\n"sasl.password" = {env = "NOPE_X"}\n')
    with pytest.raises(CommandError, match="NOPE_X .secret for sasl.password. is not set"):
        call_command("brokerpoll2", "--config", str(bad))
