"""Run each broker stream's consumer processes; restart dead or silent ones; stop them cleanly.

A stream runs ``stream.processes`` members (0..N-1, logged as ``name#member`` when N > 1), all in
the stream's one Kafka consumer group, so Kafka splits its partitions among them. At start the
status rows of members N and above (left by an earlier, larger group) are deleted.

Each child reports a heartbeat over a pipe at least every second while it works, with its lag and
the seconds since its last progress. A child that dies, stays silent for ``heartbeat_timeout``
seconds, or is stalled (:func:`stalled`: lag and no progress for ``stall_seconds``,
``DESCTOM_POLL_STALL_SECONDS``) is killed and restarted (with back-off).
SIGTERM, SIGINT or SIGUSR1 to the supervisor asks every child to finish its current batch and
exit; children still running after ``grace`` seconds are killed (no data is lost either way: an
unfinished batch was not committed and is read again). Children watch their parent and stop if
it disappears.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass, field

from desctom.elasticc2.workers.brokerpoll.streams import BrokerStream

log = logging.getLogger("desctom.brokerpoll")


def stalled(info: dict, stall_seconds: float) -> str | None:
    """Why a child's heartbeat ``info`` shows a stalled consumer, or None.

    Stalled: it has lag (unread messages) and stored or quarantined nothing for ``stall_seconds``.
    A child waiting for the database is not stalled (a restart would not help it).
    """
    lag, age = info.get("lag"), info.get("progress_age")
    if info.get("message") != "ok" or not lag or lag <= 0 or age is None or age <= stall_seconds:
        return None
    return f"stalled: lag {lag:,} and no progress for {age:.0f} s (limit {stall_seconds:g} s)"


def _child_main(stream: BrokerStream, options: dict, pipe, stop_event, parent_pid: int) -> None:
    """Entry point of a consumer process (spawned: sets Django up itself)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desctom.settings")
    import django

    django.setup()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)  # the supervisor decides when to stop
    label = stream.name if (stream.processes or 1) == 1 else f"{stream.name}#{options.get('member', 0)}"
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s %(levelname)s [{label}] %(message)s")
    last = [0.0]

    def beat(info: dict) -> None:
        if time.monotonic() - last[0] >= 1.0:
            last[0] = time.monotonic()
            pipe.send(info)

    def should_stop() -> bool:
        return stop_event.is_set() or os.getppid() != parent_pid

    consumer = stream.consumer_class()(stream, heartbeat=beat, should_stop=should_stop, **options)
    # ``options`` carries ``member``: which of the stream's processes this is
    counts = consumer.run()
    pipe.send({"message": "done", "nconsumed": counts.consumed, "stored": counts.stored,
               "skipped": counts.skipped})


@dataclass
class _Child:
    stream: BrokerStream
    member: int = 0
    process: multiprocessing.Process | None = None
    pipe: object = None
    last_beat: float = 0.0
    info: dict = field(default_factory=dict)
    done: bool = False
    restarts: int = 0
    next_start: float = 0.0

    @property
    def label(self) -> str:
        """``name``, or ``name#member`` when the stream runs several processes."""
        return self.stream.name if (self.stream.processes or 1) == 1 else f"{self.stream.name}#{self.member}"


class BrokerPollSupervisor:
    """Keeps ``stream.processes`` :class:`BrokerStreamConsumer` processes running per stream."""

    def __init__(self, streams: list[BrokerStream], consumer_options: dict | None = None, *,
                 heartbeat_timeout: float = 300.0, grace: float = 20.0, report_every: float = 10.0,
                 out=None, stall_seconds: float | None = None):
        self.streams = streams
        self.children = [_Child(s, member) for s in streams for member in range(s.processes or 1)]
        self.options = consumer_options or {}
        self.heartbeat_timeout = heartbeat_timeout
        if stall_seconds is None:
            from desctom.core import config

            stall_seconds = config.load().poll_stall_seconds
        self.stall_seconds = stall_seconds
        self.grace = grace
        self.report_every = report_every
        self.out = out or sys.stdout
        self.ctx = multiprocessing.get_context("spawn")
        self.stop_event = self.ctx.Event()
        self._stopping = False

    def _say(self, text: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} brokerpoll2: {text}", file=self.out, flush=True)

    def _start(self, child: _Child) -> None:
        parent_end, child_end = self.ctx.Pipe(duplex=False)
        child.process = self.ctx.Process(
            target=_child_main, name=f"brokerpoll-{child.label}",
            args=(child.stream, {**self.options, "member": child.member}, child_end, self.stop_event,
                  os.getpid()), daemon=False)
        child.process.start()
        child_end.close()
        child.pipe = parent_end
        child.last_beat = time.monotonic()
        self._say(f"started {child.label} (pid {child.process.pid})")

    def _kill(self, child: _Child) -> None:
        if child.process is not None and child.process.is_alive():
            child.process.kill()
            child.process.join(5)

    def _request_stop(self, signum, frame) -> None:
        self._stopping = True
        self.stop_event.set()

    def run(self) -> int:
        """Supervise until a stop signal (or until every child finished on its own). Exit status."""
        previous = {sig: signal.signal(sig, self._request_stop)
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)}
        try:
            return self._supervise()
        finally:  # a caller in the same process (tests, call_command) keeps its own handlers
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _forget_old_members(self) -> None:
        """Delete status rows of members a stream no longer runs (only with a ``database`` option)."""
        if "database" not in self.options:
            return
        from desctom.core.bulkcopy import connect
        from desctom.elasticc2.workers.brokerpoll.records import forget_members

        try:
            with connect(self.options["database"]) as conn:
                for stream in self.streams:
                    gone = forget_members(conn, stream.name, stream.processes or 1)
                    if gone:
                        self._say(f"{stream.name}: removed the status of {gone} former member(s)")
        except Exception as exc:  # the database may be down at start; the members wait for it anyway
            self._say(f"cannot remove former members' status rows ({exc})")

    def _supervise(self) -> int:
        self._forget_old_members()
        for child in self.children:
            self._start(child)
        last_report = time.monotonic()
        while not self._stopping:
            now = time.monotonic()
            for child in self.children:
                self._check(child, now)
            if all(c.done for c in self.children):
                break
            if now - last_report >= self.report_every:
                last_report = now
                for c in self.children:
                    self._say(f"{c.label}: consumed {c.info.get('nconsumed', 0):,}, "
                              f"stored {c.info.get('stored', 0):,}, restarts {c.restarts}")
            time.sleep(0.5)
        return self._shutdown()

    def _drain(self, child: _Child) -> None:
        try:
            while child.pipe is not None and child.pipe.poll():
                info = child.pipe.recv()
                child.last_beat = time.monotonic()
                child.info = info
                if info.get("message") == "done":
                    child.done = True
        except (EOFError, OSError):
            pass

    def _check(self, child: _Child, now: float) -> None:
        if child.done:
            return
        if child.process is None:
            if now >= child.next_start:
                self._start(child)
            return
        self._drain(child)
        if child.done:
            child.process.join(10)
            self._say(f"{child.label} finished: consumed {child.info.get('nconsumed', 0):,}, "
                      f"stored {child.info.get('stored', 0):,}")
            return
        silent = now - child.last_beat
        stall = stalled(child.info, self.stall_seconds)
        if child.process.is_alive() and silent <= self.heartbeat_timeout and not stall:
            return
        if not child.process.is_alive():
            why = f"exited with status {child.process.exitcode}"
        else:
            why = stall if silent <= self.heartbeat_timeout else f"silent for {silent:.0f} s"
        child.info = {**child.info, "progress_age": None}
        self._kill(child)
        child.restarts += 1
        delay = min(2 ** min(child.restarts, 5), 60)
        child.process = None
        child.next_start = now + delay
        self._say(f"{child.label} {why}; restarting in {delay} s")

    def _shutdown(self) -> int:
        self.stop_event.set()
        deadline = time.monotonic() + self.grace
        for child in self.children:
            if child.process is not None:
                child.process.join(max(0.0, deadline - time.monotonic()))
                self._drain(child)
                if child.process.is_alive():
                    self._say(f"{child.label} did not stop within {self.grace:.0f} s; killing it")
                    self._kill(child)
        total = sum(c.info.get("stored", 0) for c in self.children)
        self._say(f"stopped; stored {total:,} messages in this run")
        return 0
