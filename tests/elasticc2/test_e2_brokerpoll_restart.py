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
    from desctom.testing.services import ThrowawayKafka

    broker = ThrowawayKafka()  # a dedicated broker: this test stops it
    broker.start()
    proc = None
    log = tmp_path / "poll.log"
    try:
        topic = "restart-5000"
        before = int(os.environ.get("A_BEFORE", "300"))
        parts = int(os.environ.get("A_PARTS", "1"))
        produce(broker.bootstrap, topic, [classification(i) for i in range(before)], partitions=parts)
        proc = subprocess.Popen([DESCTOM, "brokerpoll2", "--do-test", "--test-topic", topic, "--test-server",
                                 broker.bootstrap, "--batch-timeout", "0.5"], env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=open(log, "w"), start_new_session=True)
        wait_for_count(before, proc, tmp_path)
        broker.stop()  # SIGTERM; tansu keeps topics, offsets and groups in memory only
        time.sleep(float(os.environ.get("A_DOWN", "3")))
        broker.start()
        time.sleep(float(os.environ.get("A_GAP", "0")))
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

