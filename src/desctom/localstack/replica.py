"""The embedded SQL read replica: a hot standby of the embedded cluster, on its own port.

``desctom up --sql-replica`` makes it once with ``pg_basebackup -R`` (streaming the WAL it needs,
through a physical replication slot so the primary keeps the WAL the standby has not received
yet), starts it after the primary and stops it before. The standby has the primary's roles and
passwords (a physical copy), so the SQL API's read-only role logs in there as on the primary.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import psycopg

from desctom.core.config import Config, sql_password
from desctom.localstack.postgres import SERVICE_USER, LocalPostgres
from desctom.localstack.procs import StackError, port_in_use

SLOT = "desctom_sql_replica"
#: Replication state per standby, as the primary sees it: bytes not yet replayed.
PRIMARY_LAG_SQL = ("SELECT application_name, state, "
                   "pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), replay_lsn)::bigint, "
                   "extract(epoch FROM replay_lag)::float8 "
                   "FROM pg_catalog.pg_stat_replication ORDER BY application_name")
#: The standby's own view: in recovery, and seconds behind (0 once all it received is replayed).
STANDBY_LAG_SQL = ("SELECT pg_catalog.pg_is_in_recovery(), CASE WHEN pg_catalog.pg_last_wal_receive_lsn() = "
                   "pg_catalog.pg_last_wal_replay_lsn() THEN 0 ELSE extract(epoch FROM now() - "
                   "pg_catalog.pg_last_xact_replay_timestamp())::float8 END")


class LocalStandby(LocalPostgres):
    """A hot standby of ``primary`` in ``datadir``, listening on 127.0.0.1:``port``.

    It runs with ``hot_standby_feedback`` on, so the primary's vacuum does not remove rows a long
    query on the standby still reads (fewer "conflict with recovery" cancellations).
    """

    def __init__(self, primary: LocalPostgres, datadir: Path, port: int, slot: str | None = SLOT):
        super().__init__(datadir, port, primary.user, primary.password_file, primary.dbname, primary.sizing)
        self.primary = primary
        self.slot = slot

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and (self.datadir / "standby.signal").exists()

    def server_settings(self) -> dict[str, str]:
        return {**super().server_settings(), "hot_standby": "on", "hot_standby_feedback": "on"}

    def _slot_exists(self) -> bool:
        with psycopg.connect(self.primary.conninfo(), autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = %s",
                                (self.slot,)).fetchone() is not None

    def drop_slot(self) -> bool:
        """Drop the primary's slot for this standby (it keeps WAL while the standby is away)."""
        if not self.slot or not self.primary.running():
            return False
        with psycopg.connect(self.primary.conninfo(), autocommit=True) as conn:
            row = conn.execute("SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM "
                               "pg_catalog.pg_replication_slots WHERE slot_name = %s AND NOT active",
                               (self.slot,)).fetchone()
        return row is not None

    def init(self) -> bool:
        """Base-backup the running primary unless a usable standby exists. Returns True if made.

        A standby whose slot is gone on the primary may lack WAL the primary no longer has: it is
        made again from scratch.
        """
        if not self.primary.running():
            raise StackError("the SQL read replica needs the embedded PostgreSQL running")
        if self.initialized and (not self.slot or self._slot_exists()):
            return False
        self.stop()
        self.drop_slot()
        if self.datadir.exists():
            shutil.rmtree(self.datadir)
        self.datadir.mkdir(parents=True, mode=0o700)
        if self.as_root:
            pw = pwd.getpwnam(SERVICE_USER)
            os.chown(self.datadir, pw.pw_uid, pw.pw_gid)
        args = [str(self.bindir / "pg_basebackup"), "-D", str(self.datadir), "-R", "-X", "stream",
                "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", self.primary.user, "-w",
                "--checkpoint=fast"]
        if self.slot:
            args += ["-C", "-S", self.slot]
        if self.as_root:
            args = ["runuser", "-u", SERVICE_USER, "--", *args]
        env = {**os.environ, "PGPASSWORD": self.primary.password(), "LC_ALL": "C.UTF-8"}
        proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd="/", timeout=3600,
                              start_new_session=True)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            shutil.rmtree(self.datadir, ignore_errors=True)
            raise StackError(f"pg_basebackup of the embedded PostgreSQL failed: "
                             f"{lines[-1] if lines else proc.returncode}")
        (self.datadir / "postmaster.pid").unlink(missing_ok=True)
        return True

    def start(self, timeout: float = 60) -> None:
        if not self.running() and port_in_use(self.port):
            raise StackError(f"SQL replica port {self.port} (DESCTOM_PG_REPLICA_PORT) on 127.0.0.1 is "
                             "already in use by another program")
        super().start(timeout)

    def url(self, with_password: bool = False) -> str:
        """``postgresql://user@127.0.0.1:port/dbname`` (the password only if asked for)."""
        secret = f":{self.password()}" if with_password else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/{self.dbname}"


def embedded_standby(cfg: Config, primary: LocalPostgres) -> LocalStandby:
    """The standby ``desctom up --sql-replica`` runs for this installation."""
    return LocalStandby(primary, cfg.pg_replica_dir, cfg.replica_port)


def replication_status(primary_conninfo: str | None, standby_conninfo: str | None) -> dict:
    """Lag of the replica: bytes not replayed (primary's ``pg_stat_replication``) and seconds behind
    (the standby's replay timestamp). Values that cannot be read are ``None``."""
    out = {"lag_bytes": None, "lag_seconds": None, "in_recovery": None, "streaming": None}
    if primary_conninfo:
        try:
            with psycopg.connect(primary_conninfo, connect_timeout=5) as conn:
                rows = conn.execute(PRIMARY_LAG_SQL).fetchall()
            out["streaming"] = any(r[1] == "streaming" for r in rows)
            known = [r[2] for r in rows if r[2] is not None]
            out["lag_bytes"] = max(known) if known else None
        except psycopg.Error:
            pass
    if standby_conninfo:
        try:
            with psycopg.connect(standby_conninfo, connect_timeout=5) as conn:
                out["in_recovery"], out["lag_seconds"] = conn.execute(STANDBY_LAG_SQL).fetchone()
        except psycopg.Error:
            pass
    return out


def _conninfo(db: dict) -> str:
    return psycopg.conninfo.make_conninfo(host=db.get("HOST") or None, port=db.get("PORT") or None,
                                          dbname=db["NAME"], user=db.get("USER") or None,
                                          password=db.get("PASSWORD") or None)


def replica_status(cfg: Config, standby: LocalStandby | None, primary_healthy: bool) -> dict:
    """The ``sql-replica`` component of ``desctom status``: the embedded ``standby`` (``None``: the
    external one of ``DESCTOM_SQL_DATABASE_URL``), whether it answers, and its lag."""
    if standby is not None:
        running = standby.running()
        address, pid = f"127.0.0.1:{standby.port}", standby.postmaster_pid() if running else None
        primary_info = standby.primary.conninfo() if primary_healthy else None
        standby_info = standby.conninfo() if running else None
    else:
        db = cfg.replica_database_settings()
        if not db["USER"]:
            db.update(USER=cfg.sql_role, PASSWORD=sql_password(cfg))
        address, pid = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}", None
        primary_info = _conninfo(cfg.database_settings()) if primary_healthy else None
        standby_info = _conninfo(db)
    lag = replication_status(primary_info, standby_info)
    answers = lag["in_recovery"] is not None
    return {"running": answers, "address": address, "pid": pid, "embedded": standby is not None,
            "healthy": answers and lag["lag_seconds"] is not None
            and lag["lag_seconds"] <= cfg.sql_replica_max_lag, **lag}
