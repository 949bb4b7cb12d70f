"""Run-time configuration read from environment variables, with safe local defaults.

Every process of the system (CLI, web server, workers, tests) reads its configuration
through :func:`load`, so one variable changes one thing everywhere.

=========================  ======================================  ==========================
variable                   meaning                                 default
=========================  ======================================  ==========================
``DESCTOM_HOME``           data directory (database, logs, keys)   ``./var``
``DESCTOM_WEB_PORT``       web server port on 127.0.0.1            ``8080``
``DESCTOM_PG_PORT``        embedded PostgreSQL port                ``5433``
``DESCTOM_KAFKA_PORT``     embedded Kafka-compatible broker port   ``9092``
``DESCTOM_ADMIN_USER``     name of the admin account               ``admin``
``DESCTOM_ADMIN_PASSWORD`` its password on first creation          generated, kept in the data dir
``DATABASE_URL``           use this PostgreSQL, not the embedded   (embedded)
``KAFKA_BOOTSTRAP_SERVERS`` use this Kafka, not the embedded        (embedded)
``DESCTOM_KAFKA_STORAGE``  embedded broker's storage: ``auto``,    ``auto``
                           ``postgres`` (database ``tansu`` of the
                           embedded PostgreSQL), ``memory`` or a
                           full tansu storage URL; ``auto`` is
                           ``postgres`` if the tansu build has that
                           engine, else ``memory``
``DESCTOM_DEBUG``          Django debug pages (``1`` to enable)     off
``DESCTOM_ALLOWED_HOSTS``  comma-separated extra host names        ``127.0.0.1,localhost``
``DESCTOM_WEB_WORKERS``    gunicorn worker processes               ``2``
``DESCTOM_WEB_THREADS``    request threads per worker (gthread;    ``4``
                           ``1``: gunicorn's sync worker)
``DESCTOM_BROKER_CONFIG``  broker streams file for the poller       (none: only the own Kafka)
``DESCTOM_CLASSIFICATION_TOPIC`` topic of the system's own Kafka    ``classifications``
                           the poller always reads (fake broker)
``DESCTOM_SOURCE_UPDATE_SECONDS`` seconds between known-table       ``60``
                           updates (``update_elasticc2_sources``)
``DESCTOM_METRICS_SECONDS`` seconds between metric updates       ``600``
                           (``update_metrics``)
``DESCTOM_SQL_ROLE``       PostgreSQL login role of the SQL API    ``desctom_ro``
``DESCTOM_SQL_PASSWORD``   that role's password                    generated, kept in the data dir
``DESCTOM_SQL_TIMEOUT``    seconds a ``db/runsqlquery/`` may run   ``60``
``DESCTOM_SQL_MAX_ROWS``   rows ``db/runsqlquery/`` may return     ``100000``
``DESCTOM_SQL_QUEUE_TIMEOUT`` seconds a queued query may run       ``14400``
``DESCTOM_SQL_RESULTS_DIR`` folder of queued queries' results      ``<DESCTOM_HOME>/query_results``
``DESCTOM_SQL_TEMP_FILE_LIMIT`` temporary disk space per SQL query ``20GB``
``DESCTOM_POLL_STALL_SECONDS`` seconds a stream may have lag and   ``120``
                           no progress before it is stalled
``DESCTOM_POLL_PROCESSES`` poller processes per broker stream      ``1``
                           (one consumer group; 1..64) where the
                           stream's ``processes`` is not set
``DESCTOM_MAX_BODY_BYTES`` largest request body (most endpoints) ``4000000``
``DESCTOM_MAX_BROKERMESSAGE_BODY_BYTES`` largest broker-message    ``64000000``
                           PUT body
``DESCTOM_MAX_UPLOAD_BODY_BYTES`` largest file-upload form body    ``100000000``
``DESCTOM_LOGIN_FAILURE_LIMIT`` failed logins before a lock-out    ``10``
``DESCTOM_LOGIN_COOLOFF_MINUTES`` minutes a lock-out lasts         ``15``
``DESCTOM_SQL_DATABASE_URL`` a read replica (hot standby) the SQL   (none: users' SQL runs on
                           API and the long-query runner run       the primary)
                           users' queries on
``DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS`` replication lag beyond      ``30``
                           which the replica is not used
``DESCTOM_SQL_REPLICA_FALLBACK`` ``primary``: the fast SQL API runs (empty: no fallback,
                           on the primary when the replica is      HTTP 503)
                           down or behind
``DESCTOM_PG_REPLICA_PORT`` port of the embedded standby of         ``DESCTOM_PG_PORT`` + 1
                           ``desctom up --sql-replica``
``DESCTOM_CLOCK``          "now" of defaults that count back from  ``auto``
                           it: ``simulation`` (MJD of the latest
                           sent alert), ``wall``, or ``auto`` (the
                           simulation clock once there is one)
=========================  ======================================  ==========================
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

LOOPBACK = "127.0.0.1"
EMBEDDED_DB_NAME = "desctom"
EMBEDDED_DB_USER = "desctom"


class ConfigError(Exception):
    """A configuration value is unusable; the message names the variable."""


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise ConfigError(f"{name}={value} is outside 1-65535")
    return value


@dataclass(frozen=True)
class Config:
    """Resolved configuration of one DESC TOM installation."""

    home: Path
    web_port: int
    pg_port: int
    kafka_port: int
    admin_user: str
    database_url: str | None
    kafka_servers: str | None
    debug: bool
    allowed_hosts: tuple[str, ...]
    web_workers: int
    broker_config: Path | None = None
    web_threads: int = 4
    web_keepalive: int = 75  # gunicorn --keep-alive, seconds (DESCTOM_WEB_KEEPALIVE)
    classification_topic: str = "classifications"
    source_update_seconds: int = 60
    metrics_seconds: int = 600
    # issue 17: a classification change waiting longer than this for update_metrics is unhealthy
    metrics_stale_seconds: int = 1800
    sql_role: str = "desctom_ro"
    sql_timeout: int = 60
    sql_max_rows: int = 100_000
    sql_queue_timeout: int = 14_400
    sql_results: Path | None = None
    sql_temp_file_limit: str = "20GB"
    # issue 15 (users' SQL): runners, concurrency slots, answer/result/temp-table caps (bytes)
    sql_runners: int = 2
    sql_fast_total: int = 4
    sql_fast_per_user: int = 2
    sql_max_bytes: int = 50_000_000
    sql_result_max_bytes: int = 2_000_000_000
    sql_temp_max_bytes: int = 1_000_000_000
    # issue 15 (poller health): a stream with lag and no progress for this long is stalled
    poll_stall_seconds: int = 120
    # issue 18 (pollers in consumer groups): processes per stream unless the stream says otherwise
    poll_processes: int = 1
    # issue 15 (identity & limits): request body caps (bytes) and login throttling
    max_body_bytes: int = 4_000_000
    max_brokermessage_body_bytes: int = 64_000_000
    max_upload_body_bytes: int = 100_000_000
    login_failure_limit: int = 10
    login_cooloff_minutes: int = 15
    kafka_storage: str = "auto"  # DESCTOM_KAFKA_STORAGE: auto | postgres | memory | a tansu storage URL
    # issue 18 (SQL read replica): users' SQL on a hot standby, if one is configured
    sql_database_url: str | None = None
    sql_replica_max_lag: int = 30
    sql_replica_fallback: str = ""  # "primary" or "" (no fallback: 503)
    pg_replica_port: int = 0  # 0: pg_port + 1
    # issue 19: what "now" means for defaults that count back from it (DESCTOM_CLOCK)
    clock: str = "auto"  # auto | simulation | wall

    @property
    def embedded_db(self) -> bool:
        return not self.database_url

    @property
    def embedded_kafka(self) -> bool:
        return not self.kafka_servers

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_servers or f"{LOOPBACK}:{self.kafka_port}"

    @property
    def pg_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def pg_password_file(self) -> Path:
        return self.home / "secrets" / "pg_password"

    @property
    def admin_password_file(self) -> Path:
        return self.home / "secrets" / "admin_password"

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secrets" / "django_secret_key"

    @property
    def sql_password_file(self) -> Path:
        return self.home / "secrets" / "sql_ro_password"

    @property
    def sql_results_dir(self) -> Path:
        return self.sql_results or self.home / "query_results"

    @property
    def pg_replica_dir(self) -> Path:
        return self.home / "pgdata-replica"

    @property
    def replica_port(self) -> int:
        """Port of the embedded standby (``DESCTOM_PG_REPLICA_PORT``, else the primary's + 1)."""
        return self.pg_replica_port or self.pg_port + 1

    @property
    def web_url(self) -> str:
        return f"http://{LOOPBACK}:{self.web_port}"

    def database_settings(self) -> dict:
        """The Django ``DATABASES['default']`` entry for this configuration."""
        if self.database_url:
            return parse_database_url(self.database_url)
        password = ""
        if self.pg_password_file.exists():
            password = self.pg_password_file.read_text().strip()
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": EMBEDDED_DB_NAME,
            "USER": EMBEDDED_DB_USER,
            "PASSWORD": password,
            "HOST": LOOPBACK,
            "PORT": str(self.pg_port),
        }

    def replica_database_settings(self) -> dict | None:
        """The Django ``DATABASES['sqlreplica']`` entry (``None`` without ``DESCTOM_SQL_DATABASE_URL``).

        With no password in the URL, the embedded cluster's user gets the embedded password (a
        physical standby has the primary's roles and passwords).
        """
        if not self.sql_database_url:
            return None
        entry = parse_database_url(self.sql_database_url, "DESCTOM_SQL_DATABASE_URL")
        if not entry["PASSWORD"] and entry["USER"] == EMBEDDED_DB_USER and self.pg_password_file.exists():
            entry["PASSWORD"] = self.pg_password_file.read_text().strip()
        return entry


def parse_database_url(url: str, variable: str = "DATABASE_URL") -> dict:
    """Turn ``postgresql://user:pass@host:port/dbname`` into a Django database entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigError(f"{variable} must start with postgresql://, got {parts.scheme or 'no'} scheme")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError(f"{variable} names no database (postgresql://user:pass@host:port/DBNAME)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{variable} has an invalid port") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
    }


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


KAFKA_STORAGE_WORDS = ("auto", "postgres", "memory")
KAFKA_STORAGE_SCHEMES = ("postgres", "postgresql", "memory", "s3", "null")


def _kafka_storage() -> str:
    """``DESCTOM_KAFKA_STORAGE``: one of :data:`KAFKA_STORAGE_WORDS` or a tansu storage URL."""
    raw = os.environ.get("DESCTOM_KAFKA_STORAGE", "").strip() or "auto"
    if raw.lower() in KAFKA_STORAGE_WORDS:
        return raw.lower()
    scheme = urlsplit(raw).scheme.lower() if "://" in raw else ""
    if scheme not in KAFKA_STORAGE_SCHEMES:
        raise ConfigError(f"DESCTOM_KAFKA_STORAGE={redact_url(raw)!r} must be auto, postgres, memory or a "
                          "tansu storage URL (postgres://user:password@host:port/db, memory://tansu/, s3://bucket/)")
    return raw


CLOCK_WORDS = ("auto", "simulation", "wall")


def _clock() -> str:
    """``DESCTOM_CLOCK``: ``auto`` (the simulation clock once a campaign has one, else the wall clock),
    ``simulation`` or ``wall``."""
    raw = os.environ.get("DESCTOM_CLOCK", "").strip().lower() or "auto"
    if raw not in CLOCK_WORDS:
        raise ConfigError(f"DESCTOM_CLOCK={raw!r} must be one of {', '.join(CLOCK_WORDS)}")
    return raw


def load() -> Config:
    """Read the configuration from the environment."""
    home = Path(os.environ.get("DESCTOM_HOME", "").strip() or "var").expanduser().absolute()
    hosts = [h.strip() for h in os.environ.get("DESCTOM_ALLOWED_HOSTS", "").split(",") if h.strip()]
    workers_raw = os.environ.get("DESCTOM_WEB_WORKERS", "2").strip() or "2"
    if not workers_raw.isdigit() or int(workers_raw) < 1:
        raise ConfigError(f"DESCTOM_WEB_WORKERS={workers_raw!r} must be a positive integer")
    metrics_seconds = _positive_int("DESCTOM_METRICS_SECONDS", 600)
    return Config(
        home=home,
        web_port=_port("DESCTOM_WEB_PORT", 8080),
        pg_port=_port("DESCTOM_PG_PORT", 5433),
        kafka_port=_port("DESCTOM_KAFKA_PORT", 9092),
        admin_user=os.environ.get("DESCTOM_ADMIN_USER", "").strip() or "admin",
        database_url=os.environ.get("DATABASE_URL", "").strip() or None,
        kafka_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip() or None,
        debug=os.environ.get("DESCTOM_DEBUG", "").strip().lower() in ("1", "true", "yes", "on"),
        allowed_hosts=tuple(["127.0.0.1", "localhost", "[::1]", *hosts]),
        web_workers=int(workers_raw),
        web_threads=_positive_int("DESCTOM_WEB_THREADS", 4),
        web_keepalive=_positive_int("DESCTOM_WEB_KEEPALIVE", 75),
        broker_config=_existing_file("DESCTOM_BROKER_CONFIG"),
        classification_topic=os.environ.get("DESCTOM_CLASSIFICATION_TOPIC", "").strip() or "classifications",
        source_update_seconds=_positive_int("DESCTOM_SOURCE_UPDATE_SECONDS", 60),
        metrics_seconds=metrics_seconds,
        metrics_stale_seconds=_positive_int("DESCTOM_METRICS_STALE_SECONDS", max(1800, 3 * metrics_seconds)),
        sql_role=_sql_role(),
        sql_timeout=_positive_int("DESCTOM_SQL_TIMEOUT", 60),
        sql_max_rows=_positive_int("DESCTOM_SQL_MAX_ROWS", 100_000),
        sql_queue_timeout=_positive_int("DESCTOM_SQL_QUEUE_TIMEOUT", 14_400),
        sql_results=_optional_dir("DESCTOM_SQL_RESULTS_DIR"),
        sql_temp_file_limit=_temp_file_limit(),
        sql_runners=_positive_int("DESCTOM_SQL_RUNNERS", 2),
        sql_fast_total=_positive_int("DESCTOM_SQL_FAST_TOTAL", 4),
        sql_fast_per_user=_positive_int("DESCTOM_SQL_FAST_PER_USER", 2),
        sql_max_bytes=_positive_int("DESCTOM_SQL_MAX_BYTES", 50_000_000),
        sql_result_max_bytes=_positive_int("DESCTOM_SQL_RESULT_MAX_BYTES", 2_000_000_000),
        sql_temp_max_bytes=_positive_int("DESCTOM_SQL_TEMP_MAX_BYTES", 1_000_000_000),
        poll_stall_seconds=_positive_int("DESCTOM_POLL_STALL_SECONDS", 120),
        poll_processes=_poll_processes(),
        max_body_bytes=_positive_int("DESCTOM_MAX_BODY_BYTES", 4_000_000),
        max_brokermessage_body_bytes=_positive_int("DESCTOM_MAX_BROKERMESSAGE_BODY_BYTES", 64_000_000),
        max_upload_body_bytes=_positive_int("DESCTOM_MAX_UPLOAD_BODY_BYTES", 100_000_000),
        login_failure_limit=_positive_int("DESCTOM_LOGIN_FAILURE_LIMIT", 10),
        login_cooloff_minutes=_positive_int("DESCTOM_LOGIN_COOLOFF_MINUTES", 15),
        kafka_storage=_kafka_storage(),
        sql_database_url=_sql_database_url(),
        sql_replica_max_lag=_positive_int("DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS", 30),
        sql_replica_fallback=_replica_fallback(),
        pg_replica_port=_port("DESCTOM_PG_REPLICA_PORT", 0),  # 0: DESCTOM_PG_PORT + 1
        clock=_clock(),
    )


def _sql_database_url() -> str | None:
    raw = os.environ.get("DESCTOM_SQL_DATABASE_URL", "").strip()
    if raw:
        parse_database_url(raw, "DESCTOM_SQL_DATABASE_URL")  # a bad URL is a ConfigError at start
    return raw or None


def _replica_fallback() -> str:
    raw = os.environ.get("DESCTOM_SQL_REPLICA_FALLBACK", "").strip().lower()
    if raw in ("", "none"):
        return ""
    if raw != "primary":
        raise ConfigError(f"DESCTOM_SQL_REPLICA_FALLBACK={raw!r} must be 'primary' or empty (no fallback: "
                          "the SQL API answers 503 while the replica is unusable)")
    return raw


def _sql_role() -> str:
    raw = os.environ.get("DESCTOM_SQL_ROLE", "").strip() or "desctom_ro"
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", raw):
        raise ConfigError(f"DESCTOM_SQL_ROLE={raw!r} must be a lower-case PostgreSQL identifier")
    return raw


def _optional_dir(name: str) -> Path | None:
    raw = os.environ.get(name, "").strip()
    return Path(raw).expanduser().absolute() if raw else None


def _temp_file_limit() -> str:
    raw = os.environ.get("DESCTOM_SQL_TEMP_FILE_LIMIT", "").strip() or "20GB"
    if not re.fullmatch(r"-1|\d+\s*(kB|MB|GB|TB)?", raw):
        raise ConfigError(f"DESCTOM_SQL_TEMP_FILE_LIMIT={raw!r} must be a size such as 20GB (-1: none)")
    return raw


def sql_password(cfg: Config) -> str:
    """``DESCTOM_SQL_PASSWORD`` if set, else a password generated once and kept in the data dir."""
    env = os.environ.get("DESCTOM_SQL_PASSWORD", "").strip()
    if env:
        return env
    path = cfg.sql_password_file
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(24)
    write_private(path, password + "\n")
    return password


def _existing_file(name: str) -> Path | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().absolute()
    if not path.is_file():
        raise ConfigError(f"{name}={raw!r}: no such file")
    return path


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r} must be a positive integer")
    return int(raw)


#: Most poller processes one broker stream may run (Kafka gives each at least one partition).
MAX_POLL_PROCESSES = 64


def _poll_processes() -> int:
    value = _positive_int("DESCTOM_POLL_PROCESSES", 1)
    if value > MAX_POLL_PROCESSES:
        raise ConfigError(f"DESCTOM_POLL_PROCESSES={value} must be 1..{MAX_POLL_PROCESSES}")
    return value


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def secret_key(cfg: Config) -> str:
    """``DJANGO_SECRET_KEY`` if set, else a key generated once and kept in the data dir."""
    env = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if env:
        return env
    path = cfg.secret_key_file
    try:
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(50)
        write_private(path, key)
        return key
    except OSError:
        # Unwritable data dir (e.g. a read-only check such as `desctom status`): a per-process
        # key is safe, sessions just do not survive a restart. `desctom up` reports the dir itself.
        return secrets.token_urlsafe(50)
