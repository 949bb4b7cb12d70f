"""The supervisor's stall watchdog: a consumer with lag and no progress is killed and restarted."""

import io
import multiprocessing
import time

from desctom.elasticc2.workers.brokerpoll import supervisor
from desctom.elasticc2.workers.brokerpoll.streams import BrokerStream
from desctom.elasticc2.workers.brokerpoll.supervisor import BrokerPollSupervisor, stalled


def test_the_stall_judgement():
    ok = {"message": "ok", "lag": 10, "progress_age": 121.0}
    assert stalled(ok, 120) == "stalled: lag 10 and no progress for 121 s (limit 120 s)"
    assert stalled({**ok, "progress_age": 119.0}, 120) is None  # not long enough
    assert stalled({**ok, "lag": 0}, 120) is None  # nothing waits: idle, not stalled
    assert stalled({**ok, "lag": None}, 120) is None  # lag unknown
    assert stalled({**ok, "message": "waiting for the database"}, 120) is None  # a restart would not help
    assert stalled({}, 120) is None


def _stuck_child(stream, options, pipe, stop_event, parent_pid):
    """A consumer that heartbeats but never progresses while messages wait (what issue 15 saw)."""
    started = time.monotonic()
    while not stop_event.is_set():
        pipe.send({"message": "ok", "nconsumed": 0, "stored": 0, "lag": 5000,
                   "progress_age": time.monotonic() - started})
        time.sleep(0.2)


def test_a_stalled_child_is_killed_and_restarted(monkeypatch):
    monkeypatch.setattr(supervisor, "_child_main", _stuck_child)
    out = io.StringIO()
    sup = BrokerPollSupervisor([BrokerStream(name="stuck", topics=["t"])], out=out, stall_seconds=1.0,
                               report_every=60)
    sup.ctx = multiprocessing.get_context("fork")  # the replacement child cannot be pickled for spawn
    child = sup.children[0]
    deadline = time.monotonic() + 30
    sup._start(child)
    first = child.process.pid
    while child.restarts < 1 and time.monotonic() < deadline:
        sup._check(child, time.monotonic())
        time.sleep(0.1)
    assert child.restarts == 1 and "stuck stalled: lag 5,000 and no progress for" in out.getvalue()
    while (child.process is None or child.process.pid == first) and time.monotonic() < deadline:
        sup._check(child, time.monotonic())
        time.sleep(0.1)
    assert child.process.pid != first and child.process.is_alive()
    sup._shutdown()
    assert not child.process.is_alive()
