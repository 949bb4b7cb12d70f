"""brokerpoll2 after the Kafka broker restarts on the same port (empty): ingest resumes by itself."""

import os
import signal
import subprocess
import time

import pytest
from django.db import connection
from test_e2_brokerpoll import classification, produce, query, wait_for_count

from desctom.testing.cli import DESCTOM, cli_env


@pytest.mark.skipif(os.environ.get("DESCTOM_SLOW_TESTS") != "1",
                    reason="4 minutes; DESCTOM_SLOW_TESTS=1 runs it")
@pytest.mark.xfail(strict=True, reason="issue 15 item 3 is not fixed: after this restart tansu's group "
                   "coordinator assigns no partitions to the group, even to a fresh consumer process")
@pytest.mark.django_db(transaction=True)
def test_broker_restart_then_5000_messages_all_stored_once(tmp_path):
    """Reproduces issue 15 item 3 (fails on the code before and after issue 15's changes).

    6,000 messages on 3 partitions read, tansu down 40 s, back empty, the topic recreated 20 s later
    and 5,000 messages produced: the group gets no partitions (old code: forever, as in the issue).
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
        time.sleep(float(os.environ.get("A_DOWN", "40")))
        broker.start()
        time.sleep(float(os.environ.get("A_GAP", "20")))
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

