"""``desctom up / down / status``: start, supervise, stop and inspect the whole system."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from desctom.core.config import EMBEDDED_DB_NAME, EMBEDDED_DB_USER, Config, redact_url
from desctom.core.demo import DemoOptions
from desctom.elasticc2.queries.pollerhealth import jsonable, kafka_reachable
from desctom.localstack.campaign import (
    campaign_status,
    format_campaign,
    format_streams,
    metrics_health,
    stream_health,
)
from desctom.localstack.kafka import LocalKafka, check_storage_setting, configure_storage
from desctom.localstack.pgsizing import settings_at
from desctom.localstack.postgres import LocalPostgres
from desctom.localstack.procs import StackError, StateFile, pid_alive, port_in_use, tcp_answers, terminate
from desctom.localstack.replica import embedded_standby, replica_status
from desctom.localstack.services import Service, background_workers, desctom_command, http_ok, web_service

START_TIMEOUT = 300  # seconds a detached start may take (first start migrates the database)
#: Services holding Kafka consumer groups: restarted after the embedded broker was.
KAFKA_CLIENTS = ("brokerpoll", "fakebroker")
#: Topics the demo campaign reads, recreated (one partition, as the sender makes them) after a broker restart.
KAFKA_DEMO_TOPICS = ("alerts-wfd", "alerts-ddf-full", "alerts-ddf-limited")


class AlreadyRunning(StackError):
    """``up`` found a running system."""


def check_writable(home: Path) -> None:
    """Raise :class:`StackError` unless the data dir can be created and written."""
    probe = home / f".write-test-{uuid.uuid4().hex}"
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or exc
        raise StackError(f"data directory {home} (DESCTOM_HOME) is not writable: {reason}") from None


def check_database_url(url: str) -> None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure is reported as one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        where = redact_url(url)
        raise StackError(f"the database at DATABASE_URL ({where}) does not answer: {first}") from None


def check_kafka_servers(servers: str) -> None:
    for server in servers.split(","):
        host, _, port = server.strip().rpartition(":")
        if host and port.isdigit() and tcp_answers(host.strip("[]"), int(port), timeout=3):
            return
    raise StackError(f"no Kafka broker of KAFKA_BOOTSTRAP_SERVERS ({servers}) answers")


class SystemStack:
    """Everything one installation runs: PostgreSQL, Kafka, the web server and the workers."""

    def __init__(self, cfg: Config, demo: DemoOptions | None = None, sql_replica: bool = False):
        self.cfg = cfg
        self.demo = demo
        self.sql_replica = sql_replica  # run the embedded SQL read replica (issue 18)
        self.state = StateFile(cfg.run_dir / "desctom.json")
        self.error_file = cfg.run_dir / "last_error"
        self.postgres = LocalPostgres(cfg.pg_dir, cfg.pg_port, EMBEDDED_DB_USER, cfg.pg_password_file,
                                      EMBEDDED_DB_NAME)
        self.standby = embedded_standby(cfg, self.postgres)
        self.kafka = LocalKafka(cfg.kafka_port, cfg.log_dir / "kafka.log")
        self.services: list[Service] = []
        self._stopping = False
        self._kafka_deaths: list[float] = []

    # -- checks ----------------------------------------------------------------------------
    def supervisor_pid(self) -> int | None:
        pid = self.state.read().get("supervisor_pid")
        return pid if pid_alive(pid) else None

    def preflight(self) -> None:
        """Every reason not to start, as one-line :class:`StackError` messages."""
        cfg = self.cfg
        check_writable(cfg.home)
        pid = self.supervisor_pid()
        if pid:
            raise AlreadyRunning(f"DESC TOM is already running (supervisor pid {pid}, web at {cfg.web_url}); "
                                 "`desctom status` shows it, `desctom down` stops it")
        if port_in_use(cfg.web_port):
            raise StackError(f"web port {cfg.web_port} (DESCTOM_WEB_PORT) on 127.0.0.1 is already in use "
                             "by another program")
        if cfg.embedded_db:
            if not self.postgres.running() and port_in_use(cfg.pg_port):
                raise StackError(f"PostgreSQL port {cfg.pg_port} (DESCTOM_PG_PORT) on 127.0.0.1 is "
                                 "already in use by another program")
            self.postgres.bindir  # noqa: B018 - raises if the server programs are missing
            self.postgres.server_settings()  # raises on a bad DESCTOM_PG_* value
            if self.sql_replica and not self.standby.running() and port_in_use(cfg.replica_port):
                raise StackError(f"SQL replica port {cfg.replica_port} (DESCTOM_PG_REPLICA_PORT) on "
                                 "127.0.0.1 is already in use by another program")
        else:
            check_database_url(cfg.database_url)
        if self.sql_replica and (not cfg.embedded_db or cfg.sql_database_url):
            raise StackError("--sql-replica runs a standby of the embedded PostgreSQL: it cannot be used "
                             "with DATABASE_URL or DESCTOM_SQL_DATABASE_URL (point DESCTOM_SQL_DATABASE_URL "
                             "at your own replica instead)")
        if cfg.embedded_kafka:
            if port_in_use(cfg.kafka_port):
                raise StackError(f"Kafka port {cfg.kafka_port} (DESCTOM_KAFKA_PORT) on 127.0.0.1 is "
                                 "already in use by another program")
            check_storage_setting(cfg.kafka_storage, cfg.embedded_db)
        else:
            check_kafka_servers(cfg.kafka_servers)

    def child_env(self) -> dict:
        """Environment of every child: the resolved configuration, absolute paths."""
        cfg = self.cfg
        env = dict(os.environ)
        env.update(DESCTOM_HOME=str(cfg.home), DESCTOM_WEB_PORT=str(cfg.web_port),
                   DESCTOM_PG_PORT=str(cfg.pg_port), DESCTOM_KAFKA_PORT=str(cfg.kafka_port),
                   DJANGO_SETTINGS_MODULE="desctom.settings",
                   PYTHONUNBUFFERED="1")
        if self.sql_replica:
            env["DESCTOM_SQL_DATABASE_URL"] = self.standby.url()
        return env

    # -- up --------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        print(text, flush=True)

    def _manage(self, *args: str, quiet: bool = False) -> subprocess.CompletedProcess:
        proc = subprocess.run(desctom_command(*args), env=self.child_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            raise StackError(f"`desctom {' '.join(args)}` failed: {lines[-1] if lines else proc.returncode}")
        if not quiet and proc.stdout.strip():
            self._say(proc.stdout.rstrip())
        return proc

    def _on_signal(self, signum, frame):
        self._stopping = True

    def run(self) -> int:
        """Start everything, supervise until SIGINT/SIGTERM, stop everything. Returns an exit code."""
        cfg = self.cfg
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        self.preflight()
        cfg.run_dir.mkdir(parents=True, exist_ok=True)
        self.error_file.unlink(missing_ok=True)
        self.state.write({"supervisor_pid": os.getpid(), "status": "starting", "home": str(cfg.home),
                          "started": time.time(), "demo": self.demo.argv() if self.demo else None})
        try:
            self._start_all()
        except StackError as exc:
            self.error_file.write_text(str(exc))
            self._stop_all()
            raise
        if self._stopping:
            self._stop_all()
            return 0
        self.state.update(status="running")
        self._say(self.summary())
        try:
            while not self._stopping:
                self._watch()
                time.sleep(0.5)
        finally:
            self._say("stopping DESC TOM ...")
            self._stop_all()
            self._say("stopped")
        return 0

    def _start_all(self) -> None:
        cfg = self.cfg
        if cfg.embedded_db:
            created = self.postgres.init()
            self.postgres.start()
            self._say(f"postgres   {'created and ' if created else ''}running on 127.0.0.1:{cfg.pg_port} "
                      f"(data in {cfg.pg_dir})")
            self.state.update(postgres_pid=self.postgres.postmaster_pid())
        if self.sql_replica:
            self._start_standby()
        elif cfg.embedded_db and self.standby.initialized and self.standby.drop_slot():
            self._say("sql-replica not started: dropped its replication slot, so the primary keeps no WAL "
                      "for it (the next `up --sql-replica` makes a new copy)")
        if cfg.embedded_kafka:  # after PostgreSQL: the broker may keep its data there
            configure_storage(self.kafka, cfg.kafka_storage, self.postgres if cfg.embedded_db else None)
            pid = self.kafka.start()
            self._say(f"kafka      tansu running on {self.kafka.bootstrap} (pid {pid}, storage "
                      f"{self.kafka.storage_label})")
            store_pid = self.kafka.gateway.proc.pid if self.kafka.gateway else None
            self.state.update(kafka_pid=pid, kafka_storage=self.kafka.storage_label,
                              kafka_objectstore_pid=store_pid)
        self._say("migrating the database ...")
        self._manage("migrate", "--noinput", quiet=True)
        proc = self._manage("ensure_accounts", "--no-print-password", quiet=True)
        if "created admin account" in proc.stdout:
            self.state.update(admin_created=True)
            # Detached, the shell that started us shows the password; it must not land in the log.
            if os.environ.get("DESCTOM_DETACHED") != "1":
                self._say(admin_notice(cfg))
        if self._stopping:
            return
        self.services = [web_service(cfg), *background_workers(cfg, self.demo)]
        env = self.child_env()
        for service in self.services:
            pid = service.start(env)
            self._say(f"{service.name:<10} running (pid {pid}, log {service.logfile})")
        self.state.update(services={s.name: s.pid for s in self.services})

    def _start_standby(self) -> None:
        created = self.standby.init()
        self.standby.start()
        made = "created and " if created else ""
        self._say(f"sql-replica {made}running on 127.0.0.1:{self.cfg.replica_port} "
                  f"(hot standby, data in {self.cfg.pg_replica_dir})")
        self.state.update(sql_replica=True)

    def _watch(self) -> None:
        """Restart the embedded broker or a service that died, with back-off; give up at 5 deaths in 60 s."""
        if self.cfg.embedded_kafka and self.kafka.proc is not None and self.kafka.proc.poll() is not None:
            self._restart_kafka()
        elif self.cfg.embedded_kafka:
            try:
                if self.kafka.revive_gateway():
                    pid = self.kafka.gateway.proc.pid
                    self._say(f"kafka      its object store died; running again (pid {pid})")
                    self.state.update(kafka_objectstore_pid=pid)
            except StackError as exc:  # tried again on the next round
                self._say(str(exc))
        for service in self.services:
            if not service.exited():
                continue
            now = time.time()
            service.restarts = [t for t in service.restarts if now - t < 60] + [now]
            if len(service.restarts) > 5:
                self._say(f"{service.name} keeps dying (see {service.logfile}); stopping DESC TOM")
                self._stopping = True
                return
            self._say(f"{service.name} exited with status {service.proc.returncode}; restarting")
            time.sleep(min(2 ** len(service.restarts), 10) / 4)
            try:
                service.start(self.child_env())
            except StackError as exc:
                self._say(str(exc))
            self.state.update(services={s.name: s.pid for s in self.services})

    def _restart_kafka(self) -> None:
        """The embedded broker died: start it again on its port and storage, recreate the system's topics
        (kept by a durable storage, lost by memory), restart the services holding Kafka sessions."""
        code = self.kafka.proc.poll()
        now = time.time()
        self._kafka_deaths = [t for t in self._kafka_deaths if now - t < 60] + [now]
        if len(self._kafka_deaths) > 5:
            self._say(f"kafka keeps dying (see {self.kafka.logfile}); stopping DESC TOM")
            self._stopping = True
            return
        self._say(f"kafka exited with status {code}; restarting")
        time.sleep(min(2 ** len(self._kafka_deaths), 10) / 4)
        try:
            pid = self.kafka.start()
        except StackError as exc:  # port still held, say: tried again on the next round
            self._say(str(exc))
            return
        self.state.update(kafka_pid=pid, kafka_objectstore_pid=self.kafka.gateway.proc.pid
                          if self.kafka.gateway else None)
        self._say(f"kafka      tansu running again on {self.kafka.bootstrap} (pid {pid})")
        topics = [self.cfg.classification_topic, *(KAFKA_DEMO_TOPICS if self.demo else ())]
        try:
            from desctom.survey.kafka import ensure_topics

            ensure_topics(self.kafka.bootstrap, topics, timeout=15.0)
        except Exception as exc:  # noqa: BLE001 - the sender and the fake broker create theirs too
            self._say(f"kafka: could not recreate topics {', '.join(topics)}: {exc}")
        env = self.child_env()
        for service in self.services:
            if service.name in KAFKA_CLIENTS and not service.exited():
                self._say(f"{service.name} restarted: its Kafka session was with the broker that died")
                service.stop()
                try:
                    service.start(env)
                except StackError as exc:  # the next round of _watch restarts it
                    self._say(str(exc))
        self.state.update(services={s.name: s.pid for s in self.services})

    def _stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.kafka.stop()  # before PostgreSQL, which may hold the broker's storage
        self.standby.stop()
        if self.cfg.embedded_db:
            self.postgres.stop()
        self.state.clear()

    def summary(self) -> str:
        cfg = self.cfg
        storage = self.state.read().get("kafka_storage") or self.kafka.storage_label
        db = (f"postgresql://{EMBEDDED_DB_USER}@127.0.0.1:{cfg.pg_port}/{EMBEDDED_DB_NAME} "
              f"(password in {cfg.pg_password_file})" if cfg.embedded_db else redact_url(cfg.database_url))
        return "\n".join([
            "",
            "DESC TOM is running" + (" a demo campaign" if self.demo else ""),
            f"  web UI      {cfg.web_url}/   (admin pages {cfg.web_url}/admin/)",
            f"  API         {cfg.web_url}/api/   token: POST {cfg.web_url}/api/token-auth/",
            f"  admin user  {cfg.admin_user}   (password file, if generated: {cfg.admin_password_file})",
            f"  database    {db}",
            f"  kafka       {cfg.kafka_bootstrap}" + (f"   (embedded tansu, storage {storage})"
                                                  if cfg.embedded_kafka else ""),
            *([f"  sql replica {self.standby.url()}   (users' SQL runs here)"] if self.sql_replica else []),
            f"  data dir    {cfg.home}",
            f"  logs        {cfg.log_dir}",
            *([f"  campaign    one simulated night every {self.demo.night_seconds:g} s: "
               f"{cfg.web_url}/elasticc2/ (log {cfg.log_dir / 'demo.log'})"] if self.demo else []),
            "  stop        Ctrl-C here, or `desctom down` from another shell",
            "",
        ])

    # -- detached --------------------------------------------------------------------------
    def start_detached(self) -> int:
        """Run the supervisor in the background; return once the system answers."""
        self.preflight()
        self.cfg.log_dir.mkdir(parents=True, exist_ok=True)
        self.error_file.unlink(missing_ok=True)
        logpath = self.cfg.log_dir / "desctom.log"
        with open(logpath, "ab") as log:
            env = {**self.child_env(), "DESCTOM_DETACHED": "1"}
            if self.sql_replica:  # the supervisor sets it for its own children
                env.pop("DESCTOM_SQL_DATABASE_URL", None)
            argv = desctom_command("up", *(self.demo.argv() if self.demo else []),
                                   *(["--sql-replica"] if self.sql_replica else []))
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                reason = self.error_file.read_text().strip() if self.error_file.exists() else \
                    f"the supervisor exited with status {proc.returncode}; see {logpath}"
                raise StackError(reason)
            state = self.state.read()
            if state.get("status") == "running" and state.get("supervisor_pid") == proc.pid:
                if state.get("admin_created"):
                    self._say(admin_notice(self.cfg))
                self._say(self.summary().replace("Ctrl-C here, or `desctom down` from another shell",
                                                 "`desctom down`"))
                self._say(f"  supervisor  pid {proc.pid}, log {logpath}")
                return 0
            time.sleep(0.3)
        terminate(proc.pid)
        raise StackError(f"DESC TOM did not start within {START_TIMEOUT} s; see {logpath}")

    # -- down ------------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop everything a previous ``up`` started. Returns what was stopped."""
        state = self.state.read()
        stopped = []
        pid = state.get("supervisor_pid")
        if pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 90
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_alive(pid):
                terminate(pid, timeout=5, sig=signal.SIGKILL)
            stopped.append(f"supervisor (pid {pid})")
        # Anything the supervisor could not stop (it was killed, say): stop it here.
        for name, spid in {**state.get("services", {}), "kafka": state.get("kafka_pid"),
                           "kafka-objectstore": state.get("kafka_objectstore_pid")}.items():
            if spid and pid_alive(spid):
                terminate(spid)
                stopped.append(f"{name} (pid {spid})")
        if self.standby.running():
            self.standby.stop()
            stopped.append("sql-replica")
        if self.cfg.embedded_db and self.postgres.running():
            self.postgres.stop()
            stopped.append("postgres")
        self.state.clear()
        return stopped

    # -- status ----------------------------------------------------------------------------
    def status(self) -> dict:
        cfg = self.cfg
        state = self.state.read()
        sup = self.supervisor_pid()
        comps = {}
        if cfg.embedded_db:
            running = self.postgres.running()
            comps["postgres"] = {"running": running, "address": f"127.0.0.1:{cfg.pg_port}",
                                 "pid": self.postgres.postmaster_pid() if running else None,
                                 "healthy": running and self.postgres.password_file.exists()
                                 and self.postgres.healthy(), "embedded": True}
            comps["postgres"]["settings"] = (self.postgres.running_settings()
                                              if comps["postgres"]["healthy"] else None)
        else:
            try:
                check_database_url(cfg.database_url)
                ok = True
            except StackError:
                ok = False
            comps["postgres"] = {"running": ok, "address": redact_url(cfg.database_url), "pid": None,
                                 "healthy": ok, "embedded": False,
                                 "settings": settings_at(cfg.database_url) if ok else None}
        kpid = state.get("kafka_pid") if cfg.embedded_kafka else None
        answers = kafka_reachable(cfg.kafka_bootstrap, timeout=2.0)
        comps["kafka"] = {"running": answers if not cfg.embedded_kafka else bool(pid_alive(kpid) and answers),
                          "address": cfg.kafka_bootstrap, "pid": kpid if pid_alive(kpid) else None,
                          "healthy": answers, "embedded": cfg.embedded_kafka,
                          "storage": (state.get("kafka_storage") or f"{cfg.kafka_storage} (not started)")
                          if cfg.embedded_kafka else None}
        if (sup and state.get("sql_replica")) or cfg.sql_database_url:
            embedded = self.standby if sup and state.get("sql_replica") else None
            comps["sql-replica"] = replica_status(cfg, embedded, comps["postgres"]["healthy"])
        services = state.get("services", {}) if sup else {}
        wpid = services.get("web")
        healthy = http_ok(f"{cfg.web_url}/healthz?scope=web")
        comps["web"] = {"running": bool(pid_alive(wpid)), "address": cfg.web_url,
                        "pid": wpid if pid_alive(wpid) else None, "healthy": healthy}
        for name, spid in services.items():
            if name != "web":
                comps[name] = {"running": pid_alive(spid), "pid": spid, "healthy": pid_alive(spid)}
        judged = metrics_health(cfg) if "metrics" in comps and comps["postgres"]["healthy"] else None
        if judged is not None:  # alive is not enough: it must also consume the classification changes
            comps["metrics"].update(healthy=comps["metrics"]["healthy"] and judged["healthy"],
                                    oldest_change_age=judged["oldest_change_age"],
                                    problems=judged["problems"])
        streams = stream_health(cfg) if comps["postgres"]["healthy"] else None
        unhealthy = [name for name, c in comps.items() if not c["healthy"]]
        unhealthy += [f"stream:{s['broker']}" for s in streams or [] if not s["healthy"]]
        return {"running": bool(sup) and all(c["running"] and c["healthy"] for c in comps.values()),
                "healthy": not unhealthy, "unhealthy": unhealthy,
                "streams": [jsonable(s) for s in streams] if streams is not None else None,
                "supervisor_pid": sup, "home": str(cfg.home), "components": comps,
                "demo": state.get("demo") if sup else None,
                "campaign": campaign_status(cfg) if comps["postgres"]["healthy"] else None}


def admin_notice(cfg: Config) -> str:
    try:
        password = cfg.admin_password_file.read_text().strip()
    except OSError:
        return f"created admin account {cfg.admin_user!r} (password from DESCTOM_ADMIN_PASSWORD)"
    return (f"created admin account {cfg.admin_user!r} with password {password}\n"
            f"  (shown once; kept, readable by you only, in {cfg.admin_password_file})")


def format_status(status: dict) -> str:
    lines = [f"DESC TOM is {'running' if status['running'] else 'NOT running'} (data dir {status['home']})"]
    for name, comp in status["components"].items():
        state = "running" if comp["running"] else "stopped"
        health = "healthy" if comp["healthy"] else "unhealthy"
        pid = f"pid {comp['pid']}" if comp.get("pid") else ""
        lines.append(f"  {name:<18} {state:<8} {health:<10} {comp.get('address', ''):<32} {pid}")
    storage = status["components"].get("kafka", {}).get("storage")
    if storage:
        lines.append(f"  kafka storage      {storage}")
    replica = status["components"].get("sql-replica")
    if replica and replica["healthy"]:
        lines.append(f"  sql-replica lag    {replica['lag_seconds']:.1f} s, "
                     f"{'?' if replica['lag_bytes'] is None else replica['lag_bytes']} bytes not replayed")
    settings = status["components"].get("postgres", {}).get("settings")
    if settings:
        lines.append("  postgres settings  " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    lines += format_streams(status.get("streams"))
    metrics = status["components"].get("metrics", {})
    lines += [f"  metrics            {problem}" for problem in metrics.get("problems", [])]
    if status.get("unhealthy"):
        lines.append(f"  UNHEALTHY          {', '.join(status['unhealthy'])}")
    lines += format_campaign(status.get("campaign"))
    return "\n".join(lines)


def exit_with(message: str, code: int = 1) -> int:
    print(f"desctom: {message}", file=sys.stderr, flush=True)
    return code
