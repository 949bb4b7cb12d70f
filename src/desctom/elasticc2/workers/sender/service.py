"""The ELAsTiCC2 alert sender: stream the PPDB's alerts to Kafka in simulated-time order (reference §3.2).

Non-DDF alerts go to the WFD topic with 365 days of history; DDF alerts to the DDF-full topic
(365 days) and the DDF-limited topic (30 days). Messages are schemaless Avro
(``elasticc.v0_9_1.alert``), no key; the record timestamp is the produce time.

Delivery is at-least-once: an alert is marked sent (``alertsenttimestamp``) only after Kafka
acknowledged its message(s) -- a DDF alert only once both are -- and every acknowledged alert
is marked, every ``flush_every`` alerts, at the end, on errors and on SIGINT/SIGTERM. A process
killed outright (SIGKILL, power loss) leaves its acknowledged but not yet marked alerts (at most
about ``flush_every``) unsent in the database: the next run sends them again.

One sender at a time: a run holds a PostgreSQL session advisory lock, which the server releases
when the process dies, and records itself in ``AlertSenderRun``; rows a dead run left
``running`` are marked ``failed`` by the next run.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from desctom.elasticc2.models import AlertSenderRun
from desctom.elasticc2.workers.sender import clock as sender_clock
from desctom.elasticc2.workers.sender.build import Builder

#: Key of the PostgreSQL advisory lock held by the running sender ("DESCsend").
LOCK_KEY = 0x4445_5343_7365_6E64
#: Alerts fetched and reconstructed per batch (at most ``flush_every``).
CHUNK = 1000
#: Seconds the final flush of an interrupted or failing run waits for Kafka.
FINAL_FLUSH_TIMEOUT = 30.0


class SenderError(Exception):
    """The run could not start or failed; ``returncode`` is the exit code to use."""

    def __init__(self, message: str, returncode: int = 1):
        super().__init__(message)
        self.returncode = returncode


@dataclass
class SenderOptions:
    """Everything a run needs besides the clock options."""

    servers: str | None = None
    wfd_topic: str = "alerts-wfd"
    ddf_full_topic: str = "alerts-ddf-full"
    ddf_limited_topic: str = "alerts-ddf-limited"
    flush_every: int = 1000
    log_every: int = 10000
    nprocs: int = 3
    do: bool = False


class AlertSender:
    """One run of the sender; :meth:`run` returns the final summary line or raises :class:`SenderError`."""

    def __init__(self, through_day: float | None, added_days: int | None, start_day: float | None,
                 options: SenderOptions, out=print):
        sender_clock.check_options(through_day, added_days, start_day)
        self.clock = (through_day, added_days, start_day)
        self.opts = options
        self.out = out
        self.window: sender_clock.Window | None = None
        self.run_row: AlertSenderRun | None = None
        self.producer = None
        self.total = self.produced = self.sent = self.ddf = 0
        self.last_mjd: float | None = None
        self._pending: dict[int, list] = {}  # alert_id -> [messages not yet acknowledged, mjd]
        self._acked: list[tuple[int, float]] = []
        self._failed: list[str] = []
        self._stop: int | None = None
        self._lock_conn = None
        self._started = time.monotonic()
        self._logged = 0
        #: Where the run's time went (seconds): see :meth:`timings`.
        self.seconds = dict.fromkeys(("selecting", "waiting for builds", "fetching", "encoding", "producing",
                                      "waiting for Kafka", "marking"), 0.0)

    # -- the run ------------------------------------------------------------------------------------
    def run(self) -> str:
        old_handlers = self._install_signals()
        try:
            if self.opts.do:
                self._acquire_lock()
            self.window = sender_clock.window_from_db(*self.clock)
            self._start_row()
            if self.opts.do:
                self._connect_kafka()
            self.total = sender_clock.count_unsent(self.window)
            self.out(self._describe_window())
            self._started = time.monotonic()
            self._loop()
            self._checkpoint()
        except BaseException as exc:
            self._abort(exc)
            raise self._as_error(exc) from None
        finally:
            self._restore_signals(old_handlers)
            self._release_lock()
        if self._stop is not None:
            message = self._interrupted_message()
            self._finish_row("failed", message)
            raise SenderError(message, 128 + self._stop)
        self._finish_row("finished" if self.opts.do else "dryrun", None)
        return self._summary()

    def _loop(self) -> None:
        flush_every = self.opts.flush_every
        chunks = self._timed_chunks(sender_clock.unsent_chunks(self.window, min(CHUNK, flush_every)))
        with Builder(self.opts.nprocs) as builder:
            built_chunks = builder.built(chunks)
            while True:
                t0, selecting = time.perf_counter(), self.seconds["selecting"]
                built = next(built_chunks, None)
                # the chunk queries run inside the builder's loop: count them as selecting only
                self.seconds["waiting for builds"] += (time.perf_counter() - t0
                                                       - (self.seconds["selecting"] - selecting))
                if built is None:
                    return
                self.seconds["fetching"] += built.fetch_seconds
                self.seconds["encoding"] += built.encode_seconds
                for alert_id, mjd, full, limited in built:
                    if self._stop is not None:
                        return
                    if self.opts.do:
                        t0 = time.perf_counter()
                        self._produce(alert_id, mjd, full, limited)
                        self.seconds["producing"] += time.perf_counter() - t0
                    else:
                        self._acked.append((alert_id, mjd))
                    self.produced += 1
                    self.ddf += limited is not None
                    if self.produced % flush_every == 0:
                        self._checkpoint()

    def _timed_chunks(self, chunks):
        """The chunks of unsent alerts, adding the time of their queries to ``seconds["selecting"]``."""
        while True:
            t0 = time.perf_counter()
            rows = next(chunks, None)
            self.seconds["selecting"] += time.perf_counter() - t0
            if rows is None:
                return
            yield rows

    # -- Kafka --------------------------------------------------------------------------------------
    def _connect_kafka(self) -> None:
        from confluent_kafka import KafkaException

        from desctom.survey import kafka

        servers = self.opts.servers or kafka.default_servers()
        topics = [self.opts.wfd_topic, self.opts.ddf_full_topic, self.opts.ddf_limited_topic]
        try:
            created = kafka.ensure_topics(servers, topics, timeout=15.0)
        except KafkaException as exc:
            raise SenderError(f"cannot reach Kafka at {servers}: {exc.args[0].str()}") from None
        if created:
            self.out(f"created topics {', '.join(created)} on {servers}")
        self.producer = kafka.make_producer(servers, **{"message.timeout.ms": 120_000})

    def _produce(self, alert_id: int, mjd: float, full: bytes, limited: bytes | None) -> None:
        done = partial(self._delivered, alert_id)
        if limited is None:
            self._pending[alert_id] = [1, mjd]
            self._send(self.opts.wfd_topic, full, done)
        else:
            self._pending[alert_id] = [2, mjd]
            self._send(self.opts.ddf_full_topic, full, done)
            self._send(self.opts.ddf_limited_topic, limited, done)

    def _send(self, topic: str, value: bytes, done) -> None:
        while True:
            try:
                self.producer.produce(topic, value, on_delivery=done)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                self.producer.poll(0.1)
        self.producer.poll(0)

    def _delivered(self, alert_id: int, err, msg) -> None:
        entry = self._pending.get(alert_id)
        if entry is None:  # the other message of this DDF alert already failed
            return
        if err is not None:
            del self._pending[alert_id]
            self._failed.append(f"alert {alert_id} to {msg.topic()}: {err.str()}")
            return
        entry[0] -= 1
        if entry[0] == 0:
            del self._pending[alert_id]
            self._acked.append((alert_id, entry[1]))

    # -- marking ------------------------------------------------------------------------------------
    def _checkpoint(self, timeout: float | None = None) -> None:
        """Wait for Kafka's acknowledgements, mark the acknowledged alerts sent, report progress."""
        t0 = time.perf_counter()
        if self.producer is not None:
            if timeout is None:
                while self.producer.flush(1.0) > 0:
                    pass
            else:
                self.producer.flush(timeout)
        t1 = time.perf_counter()
        acked, self._acked = self._acked, []
        if acked:
            self._mark(acked)
        self.seconds["waiting for Kafka"] += t1 - t0
        self.seconds["marking"] += time.perf_counter() - t1
        self._progress()
        if self._failed:
            raise SenderError(f"Kafka did not accept {len(self._failed)} messages "
                              f"(first: {self._failed[0]}); those alerts stay unsent")

    def _mark(self, acked: list[tuple[int, float]]) -> None:
        last = max(mjd for _, mjd in acked)
        self.last_mjd = last if self.last_mjd is None else max(self.last_mjd, last)
        self.sent += len(acked)
        if not self.opts.do:
            return
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("UPDATE elasticc2_ppdbalert SET alertsenttimestamp = now() "
                            "WHERE alert_id = ANY(%s)", [[a for a, _ in acked]])
            AlertSenderRun.objects.filter(pk=self.run_row.pk).update(alerts_sent=self.sent,
                                                                      last_mjd=self.last_mjd)

    def _abort(self, exc: BaseException) -> None:
        """After an error: flush what can be flushed, mark what Kafka acknowledged, record the failure."""
        note = ""
        try:
            if self.producer is not None:
                self.producer.flush(FINAL_FLUSH_TIMEOUT)
            acked, self._acked = self._acked, []
            if acked:
                self._mark(acked)
        except Exception as exc2:  # the database may be what failed: say so, keep the first error
            note = f"; marking the acknowledged alerts failed too ({_one_line(exc2)}): they will be resent"
        if self.run_row is not None:
            self._finish_row("failed", _one_line(exc) + note)

    def _as_error(self, exc: BaseException) -> SenderError:
        if isinstance(exc, SenderError):
            return exc
        if isinstance(exc, sender_clock.ClockError):
            return SenderError(str(exc))
        if isinstance(exc, KeyboardInterrupt):
            return SenderError(f"interrupted: {self.sent:,} alerts sent and marked; rerun to continue", 130)
        return SenderError(f"{type(exc).__name__}: {_one_line(exc)} ({self.sent:,} alerts sent and marked "
                           "before the error; rerun to continue)")

    # -- lock and run rows --------------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        conn = connection.get_new_connection(connection.get_connection_params())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            locked = cur.fetchone()[0]
        if not locked:
            conn.close()
            raise SenderError(self._busy_message())
        self._lock_conn = conn

    def _release_lock(self) -> None:
        if self._lock_conn is not None:
            self._lock_conn.close()  # ends the session: the server drops the advisory lock
            self._lock_conn = None

    @staticmethod
    def _busy_message() -> str:
        row = AlertSenderRun.objects.filter(status="running").order_by("-started").first()
        if row is None:
            return "another alert sender holds the lock (it has not recorded its run yet); try again later"
        return (f"another alert sender is running: pid {row.pid} on host {row.host}, since "
                f"{row.started.isoformat(timespec='seconds')} (run {row.id}, through MJD {row.through_day})")

    def _start_row(self) -> None:
        self.run_row = AlertSenderRun.objects.create(
            started=timezone.now(), host=socket.gethostname(), pid=os.getpid(),
            start_day=self.window.start_day, through_day=self.window.through_day,
            status="running" if self.opts.do else "dryrun")
        if not self.opts.do:
            return
        # We hold the lock, so a run still marked running is one whose process died.
        for stale in AlertSenderRun.objects.filter(status="running").exclude(pk=self.run_row.pk):
            stale.status, stale.finished = "failed", timezone.now()
            stale.error = (f"stale: pid {stale.pid} on host {stale.host} ended without finishing "
                           f"(found by run {self.run_row.id})")
            stale.save(update_fields=["status", "finished", "error"])
            self.out(f"cleared a stale run: {stale.id} (pid {stale.pid} on host {stale.host}, since "
                     f"{stale.started.isoformat(timespec='seconds')}, {stale.alerts_sent:,} alerts sent)")

    def _finish_row(self, status: str, error: str | None) -> None:
        AlertSenderRun.objects.filter(pk=self.run_row.pk).update(
            status=status, finished=timezone.now(), error=error, alerts_sent=self.sent,
            last_mjd=self.last_mjd)

    # -- signals ------------------------------------------------------------------------------------
    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    def _on_signal(self, signum, frame) -> None:
        if self._stop is not None:  # a second signal: give up waiting for Kafka
            raise KeyboardInterrupt
        self._stop = signum

    @staticmethod
    def _restore_signals(old: dict) -> None:
        for signum, handler in old.items():
            signal.signal(signum, handler)

    # -- output -------------------------------------------------------------------------------------
    def _describe_window(self) -> str:
        w = self.window
        span = f"from MJD {w.start_day} " if w.start_day is not None else ""
        clock = f" (clock at MJD {w.start_t:.4f})" if w.start_t is not None else ""
        mode = "sending" if self.opts.do else "dry run: reconstructing"
        return f"{mode} {self.total:,} unsent alerts {span}through MJD {w.through_day}{clock}"

    def _progress(self) -> None:
        every = self.opts.log_every
        if self.sent // every == self._logged // every or not self.sent:
            return
        self._logged = self.sent
        rate = self.sent / max(time.monotonic() - self._started, 1e-9)
        eta = (self.total - self.sent) / rate if rate else 0.0
        verb = "sent" if self.opts.do else "reconstructed"
        self.out(f"{verb} {self.sent:,}/{self.total:,} alerts  {rate:,.0f} alerts/s  "
                 f"MJD {self.last_mjd:.4f}  ETA {_hms(eta)}")

    def _summary(self) -> str:
        seconds = time.monotonic() - self._started
        rate = self.sent / seconds if seconds > 0 else 0.0
        split = f"({self.sent - self.ddf:,} WFD, {self.ddf:,} DDF)"
        last = f"; last alert MJD {self.last_mjd:.4f}" if self.last_mjd is not None else ""
        if not self.opts.do:
            return (f"dry run: would send {self.sent:,} alerts {split} through MJD "
                    f"{self.window.through_day}; reconstructed in {seconds:.1f} s ({rate:,.0f} alerts/s); "
                    "nothing produced or marked (add --do to send)")
        return (f"done: sent {self.sent:,} alerts {split} through MJD {self.window.through_day} in "
                f"{seconds:.1f} s ({rate:,.0f} alerts/s){last}")

    def timings(self) -> str:
        """Where the run's time went. Selecting, waiting for builds, producing, waiting for Kafka and
        marking add up to about the run's time; fetching and encoding happen in the worker processes
        (while the others go on, with ``-n`` > 0) and add up over them."""
        where = self.opts.nprocs and f"in {self.opts.nprocs} worker processes" or "in this process"
        parts = [f"{name} {self.seconds[name]:.2f} s" for name in
                 ("selecting", "waiting for builds", "producing", "waiting for Kafka", "marking")]
        return (f"time: {', '.join(parts)}; building {where}: fetching {self.seconds['fetching']:.2f} s, "
                f"encoding {self.seconds['encoding']:.2f} s")

    def _interrupted_message(self) -> str:
        name = signal.Signals(self._stop).name
        return (f"interrupted by {name}: {self.sent:,} of {self.total:,} alerts sent and marked"
                + (f" (through MJD {self.last_mjd:.4f})" if self.last_mjd is not None else "")
                + "; rerun the same command to continue")


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
