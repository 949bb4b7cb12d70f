"""The long-running processes ``desctom up`` supervises besides PostgreSQL and Kafka.

Each is a :class:`Service`: a name, a command line, and a readiness check. The web server is
always one; campaign apps add their background workers (broker pollers, the long-query
runner, ...) to :func:`background_workers` as they arrive.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from desctom.core.config import Config
from desctom.core.demo import DemoOptions
from desctom.localstack.procs import StackError, pid_alive, terminate


def desctom_command(*args: str) -> list[str]:
    """Command line running ``desctom ARGS`` with this very Python."""
    return [sys.executable, "-m", "desctom.cli", *args]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Service:
    """A supervised child process, restarted with back-off if it dies."""

    name: str
    argv: list[str]
    logfile: Path
    ready_url: str | None = None
    proc: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict, timeout: float = 60) -> int:
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        if self.ready_url:
            deadline = time.monotonic() + timeout
            while not http_ok(self.ready_url):
                if self.proc.poll() is not None:
                    raise StackError(f"{self.name} exited with status {self.proc.returncode} while starting; "
                                     f"see {self.logfile}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise StackError(f"{self.name} did not answer {self.ready_url} within {timeout:.0f} s; "
                                     f"see {self.logfile}")
                time.sleep(0.2)
        return self.proc.pid

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        if pid_alive(self.proc.pid):
            terminate(self.proc.pid, timeout=timeout)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def web_service(cfg: Config) -> Service:
    """gunicorn serving the Django project on 127.0.0.1 (timeout 300 s as the original).

    ``DESCTOM_WEB_WORKERS`` processes with ``DESCTOM_WEB_THREADS`` request threads each (gunicorn's
    gthread worker): a thread waiting on PostgreSQL does not hold up the requests behind it. Each
    thread keeps one database connection open (``CONN_MAX_AGE``, checked before reuse), so the
    connections in use are at most workers x threads.

    Keep-alive: an idle client connection stays open ``DESCTOM_WEB_KEEPALIVE`` s (default 75,
    longer than the idle timeout of common client pools and proxies, 60 s): with gunicorn's 2 s
    default a client reusing a connection about 2 s after its last request met the server closing
    it, a connection reset no server log shows (``benchmarks/keepalive.py``).
    """
    log = cfg.log_dir / "web.log"
    threads = ["--worker-class", "gthread", "--threads", str(cfg.web_threads)] if cfg.web_threads > 1 else []
    argv = [sys.executable, "-m", "gunicorn", "desctom.wsgi:application",
            "--bind", f"127.0.0.1:{cfg.web_port}", "--workers", str(cfg.web_workers), *threads,
            "--timeout", "300", "--graceful-timeout", "10", "--keep-alive", str(cfg.web_keepalive),
            "--access-logfile", "-",
            "--error-logfile", "-", "--capture-output", "--name", "desctom-web"]
    return Service("web", argv, log, ready_url=f"{cfg.web_url}/healthz?scope=web")


#: Topic prefix of the demo's live stream.
LIVE_DEMO_PREFIX = "live-"


def _live_demo_config(cfg: Config) -> Path:
    """Write the broker streams of the demo's live stream (LSST alerts and two fake brokers)."""
    from desctom.live.management.commands.live_demo import live_demo_topics

    path = cfg.home / "live-demo-brokers.toml"
    text = "".join(f'[[brokers]]\nname = "{name}"\nservers = "{cfg.kafka_bootstrap}"\n'
                   f'topics = ["{topic}"]\nformat = "{fmt}"\n\n'
                   for name, topic, fmt in live_demo_topics(LIVE_DEMO_PREFIX))
    path.write_text(text)
    return path


def background_workers(cfg: Config, demo: DemoOptions | None = None) -> list[Service]:
    """Workers started with the system (each restarted with back-off if it dies).

    * ``brokerpoll``: the broker poller, always reading the system Kafka's classification topic
      (where the fake broker writes), plus the streams of ``DESCTOM_BROKER_CONFIG`` if set;
    * ``source-updater``: copies what brokers classified into the known tables every
      ``DESCTOM_SOURCE_UPDATE_SECONDS`` (with ``demo``: every simulated night);
    * ``metrics``: recomputes the metric tables every ``DESCTOM_METRICS_SECONDS`` (with ``demo``: every
      simulated night, so the metrics pages fill from the first nights; a round is incremental);
    * with ``demo``: ``fakebroker`` (classifies the alert topics into the classification topic)
      and ``demo`` (creates the campaign's data if needed, then sends one night per tick).
    """
    poll = ["brokerpoll2", "--do-test", "--test-topic", cfg.classification_topic,
            "--test-server", cfg.kafka_bootstrap]
    if cfg.broker_config is not None:
        poll += ["--config", str(cfg.broker_config)]
    if demo is not None:  # the demo's live Rubin stream (desctom live_demo) is polled too
        poll += ["--config", str(_live_demo_config(cfg))]
    metrics_every = min(demo.night_seconds, cfg.metrics_seconds) if demo else cfg.metrics_seconds
    workers = [
        Service("brokerpoll", desctom_command(*poll), cfg.log_dir / "brokerpoll.log"),
        Service("source-updater",
                desctom_command("update_elasticc2_sources", "--loop",
                                f"{demo.night_seconds if demo else cfg.source_update_seconds:g}"),
                cfg.log_dir / "source-updater.log"),
        # issue 15 (engineer C): DESCTOM_SQL_RUNNERS runners (the first keeps its old name)
        *[Service(name, desctom_command("long_query_runner", "--loop"), cfg.log_dir / f"{name}.log")
          for name in ["long-query-runner"]
          + [f"long-query-runner-{n}" for n in range(2, cfg.sql_runners + 1)]],
        Service("metrics", desctom_command("update_metrics", "--loop", f"{metrics_every:g}"),
                cfg.log_dir / "metrics.log"),
    ]
    if demo is not None:
        workers += [
            Service("fakebroker", desctom_command(
                "fakebroker", "--alert-topics", "alerts-wfd", "alerts-ddf-full", "--dest-topic",
                cfg.classification_topic, "--seed", str(demo.seed)), cfg.log_dir / "fakebroker.log"),
            Service("demo", desctom_command(*demo.service_argv()), cfg.log_dir / "demo.log"),
            Service("live-demo", desctom_command("live_demo", "--night-seconds", f"{demo.night_seconds:g}",
                                                 "--seed", str(demo.seed),
                                                 "--topic-prefix", LIVE_DEMO_PREFIX),
                    cfg.log_dir / "live-demo.log"),
        ]
    return workers
