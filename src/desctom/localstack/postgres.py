"""The embedded PostgreSQL: a cluster in the data dir, listening on 127.0.0.1 only."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from desctom.localstack.pgsizing import SMALL, node_settings, server_options, settings_at
from desctom.localstack.procs import StackError, pid_alive, port_in_use

SERVICE_USER = "postgres"  # initdb refuses to run as root: as root, the cluster runs as this user


def find_bindir() -> Path:
    """The directory holding ``initdb``/``pg_ctl``/``postgres`` (``DESCTOM_PG_BINDIR`` wins)."""
    env = os.environ.get("DESCTOM_PG_BINDIR", "").strip()
    candidates = [Path(env)] if env else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name),
                      reverse=True)
    candidates += [Path(p) for p in versions]
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(os.path.realpath(which)).parent)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists() and (cand / "postgres").exists():
            return cand
    raise StackError("PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's postgresql-15 "
                     "(scripts/setup does), set DESCTOM_PG_BINDIR, or point DATABASE_URL at a server")


class LocalPostgres:
    """A PostgreSQL cluster owned by this installation.

    As root the cluster files belong to, and the server runs as, the ``postgres`` system user,
    because PostgreSQL refuses to run as root; as any other user it runs as that user.
    Authentication is by password (scram-sha-256) over TCP on 127.0.0.1; there is no Unix socket.
    """

    def __init__(self, datadir: Path, port: int, user: str, password_file: Path, dbname: str,
                 sizing: str = "node"):
        self.sizing = sizing  # "node": pgsizing.node_settings(); "small": the tests' fixed profile
        self.datadir = Path(datadir)
        self.port = port
        self.user = user
        self.password_file = Path(password_file)
        self.dbname = dbname
        self._bindir: Path | None = None

    # -- helpers ---------------------------------------------------------------------------
    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def logfile(self) -> Path:
        return self.datadir / "server.log"

    def _run(self, args: list[str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd="/",
                              start_new_session=True)  # Ctrl-C on the terminal must not reach it
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit status {proc.returncode}"
            raise StackError(f"{args[0]} failed: {last}")
        return proc

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def conninfo(self, dbname: str | None = None) -> str:
        return (f"host=127.0.0.1 port={self.port} user={self.user} dbname={dbname or self.dbname} "
                f"password={self.password()} connect_timeout=5")

    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password()}@127.0.0.1:{self.port}/{self.dbname}"

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and self.password_file.exists()

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return pid_alive(self.postmaster_pid())

    def _check_service_user_access(self) -> None:
        try:
            pw = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise StackError("running as root needs the 'postgres' system user (Debian's postgresql package "
                             "creates it), or run as a normal user, or set DATABASE_URL") from None
        # Every parent of the cluster must be enterable by that user.
        for parent in self.datadir.parents:
            st = parent.stat()
            if not st.st_mode & 0o001 and st.st_uid != pw.pw_uid:
                mode = oct(st.st_mode & 0o777)
                raise StackError(f"the 'postgres' user cannot enter {parent} (mode {mode}); "
                                 "choose a DESCTOM_HOME outside root's home or make the folder searchable")

    def init(self) -> bool:
        """Create the cluster and its database if they do not exist yet. Returns True if created."""
        if self.initialized:
            return False
        if self.datadir.exists() and any(self.datadir.iterdir()):
            raise StackError(f"{self.datadir} is not empty but holds no complete cluster; move it away")
        self.datadir.mkdir(parents=True, exist_ok=True, mode=0o700)
        password = secrets.token_urlsafe(24)
        owner = None
        if self.as_root:
            self._check_service_user_access()
            pw = pwd.getpwnam(SERVICE_USER)
            owner = (pw.pw_uid, pw.pw_gid)
            os.chown(self.datadir, *owner)
        fd, pwfile = tempfile.mkstemp(prefix="desctom-pw-")
        try:
            os.write(fd, (password + "\n").encode())
            os.close(fd)
            if owner:
                os.chown(pwfile, *owner)
            self._run(["initdb", "-D", str(self.datadir), "-U", self.user, f"--pwfile={pwfile}",
                       "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8",
                       "--locale=C.UTF-8", "--no-instructions"])
        finally:
            os.unlink(pwfile)
        from desctom.core.config import write_private

        write_private(self.password_file, password + "\n")
        self.start()
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        return True

    def start(self, timeout: float = 60) -> None:
        """Start the server unless it already runs; return when it accepts connections."""
        if self.running():
            return
        if port_in_use(self.port):
            raise StackError(f"PostgreSQL port {self.port} (DESCTOM_PG_PORT) on 127.0.0.1 is already in use "
                             "by another program")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
                + server_options(self.server_settings()))
        self._run(["pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", str(int(timeout)),
                   "-o", opts, "start"], timeout=timeout + 10)

    def server_settings(self) -> dict[str, str]:
        """The settings :meth:`start` gives the server (StackError on a bad ``DESCTOM_PG_*`` value)."""
        return dict(SMALL) if self.sizing == "small" else node_settings()

    def running_settings(self) -> dict[str, str] | None:
        """Memory/WAL settings as the running server reports them (``None`` if it does not answer)."""
        return settings_at(self.conninfo())

    def stop(self, timeout: float = 60) -> None:
        if not self.running():
            return
        self._run(["pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"],
                  check=False, timeout=timeout + 10)

    def healthy(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.conninfo()) as conn:
                conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False
