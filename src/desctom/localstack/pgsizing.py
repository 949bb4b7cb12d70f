"""PostgreSQL server settings sized to the node: memory from its RAM, parallelism from its CPUs.

:func:`node_settings` is what the embedded cluster of ``desctom up`` and the benchmarks' clusters
run with: :func:`compute` (a pure function of RAM and CPU count) overridden by ``DESCTOM_PG_*``
environment variables. The test suite's throwaway clusters use the small fixed :data:`SMALL`
profile (many of them run at once), untouched by the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from desctom.localstack.procs import StackError

MB = 1024 * 1024
MAX_CONNECTIONS = 200

#: Settings that need no sizing (the same on every node).
FIXED = {"max_connections": str(MAX_CONNECTIONS), "checkpoint_completion_target": "0.9",
         "min_wal_size": "1GB"}

#: The test suite's clusters: small and fast to start, dozens may run at once.
SMALL = {"max_connections": str(MAX_CONNECTIONS), "shared_buffers": "128MB", "work_mem": "4MB",
         "maintenance_work_mem": "128MB", "max_wal_size": "1GB"}

#: setting -> (environment variable, kind of value)
ENV = {
    "shared_buffers": ("DESCTOM_PG_SHARED_BUFFERS", "memory"),
    "effective_cache_size": ("DESCTOM_PG_EFFECTIVE_CACHE_SIZE", "memory"),
    "work_mem": ("DESCTOM_PG_WORK_MEM", "memory"),
    "maintenance_work_mem": ("DESCTOM_PG_MAINTENANCE_WORK_MEM", "memory"),
    "wal_buffers": ("DESCTOM_PG_WAL_BUFFERS", "memory"),
    "max_wal_size": ("DESCTOM_PG_MAX_WAL_SIZE", "memory"),
    "checkpoint_timeout": ("DESCTOM_PG_CHECKPOINT_TIMEOUT", "time"),
    "wal_compression": ("DESCTOM_PG_WAL_COMPRESSION", "choice"),
    "max_worker_processes": ("DESCTOM_PG_MAX_WORKER_PROCESSES", "count"),
    "max_parallel_workers": ("DESCTOM_PG_MAX_PARALLEL_WORKERS", "count"),
    "max_parallel_workers_per_gather": ("DESCTOM_PG_MAX_PARALLEL_WORKERS_PER_GATHER", "count"),
    "max_parallel_maintenance_workers": ("DESCTOM_PG_MAX_PARALLEL_MAINTENANCE_WORKERS", "count"),
}
WAL_COMPRESSION = ("off", "on", "pglz", "lz4", "zstd")
_MEMORY_UNITS = {"kb": 1024, "mb": MB, "gb": 1024 * MB, "tb": 1024 * 1024 * MB}
_TIME_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def node_resources() -> tuple[int, int]:
    """``(total RAM in bytes, CPU count)`` of this machine (cgroup CPU affinity respected)."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return ram, max(1, cpus)


def _mb(nbytes: float) -> str:
    """A size in PostgreSQL's notation: whole GB when exact, else MB."""
    mb = max(1, int(nbytes // MB))
    return f"{mb // 1024}GB" if mb % 1024 == 0 else f"{mb}MB"


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def compute(ram_bytes: int, cpus: int) -> dict[str, str]:
    """The settings for a node with ``ram_bytes`` of RAM and ``cpus`` CPUs (no environment)."""
    shared = _clamp(ram_bytes / 4, 128 * MB, 16384 * MB)
    out = dict(FIXED)
    out.update({
        "shared_buffers": _mb(shared),
        "effective_cache_size": _mb(max(ram_bytes * 3 / 4, shared)),
        # Each of MAX_CONNECTIONS sessions may run a few sorts/hashes at once: a quarter of RAM
        # spread over them, at least PostgreSQL's default.
        "work_mem": _mb(_clamp(ram_bytes / 4 / MAX_CONNECTIONS, 4 * MB, 256 * MB)),
        "maintenance_work_mem": _mb(_clamp(ram_bytes / 16, 64 * MB, 2048 * MB)),
        "wal_buffers": _mb(_clamp(shared / 32, 1 * MB, 64 * MB)),
        # Bulk loads: few checkpoints (each one makes the next writes log full pages), compressed.
        "max_wal_size": _mb(_clamp(ram_bytes / 2, 2048 * MB, 16384 * MB)),
        "checkpoint_timeout": "15min",
        "wal_compression": "lz4",
        "max_worker_processes": str(max(8, cpus)),
        "max_parallel_workers": str(cpus),
        "max_parallel_workers_per_gather": str(_clamp(cpus // 2, 1, 4)),
        "max_parallel_maintenance_workers": str(_clamp(cpus // 2, 1, 4)),
    })
    return out


_MEMORY = re.compile(r"(\d+)\s*([kmgt]b)")
_UNIT_NAMES = {"kb": "kB", "mb": "MB", "gb": "GB", "tb": "TB"}


def _validate(setting: str, kind: str, raw: str, ram_bytes: int) -> str:
    """``raw`` in PostgreSQL's notation, or ValueError with the reason."""
    text = raw.strip()
    if kind == "memory":
        match = _MEMORY.fullmatch(text.lower())
        if not match:
            raise ValueError("not a memory size: give a whole number and a unit (kB, MB, GB or TB), e.g. 4GB")
        nbytes = int(match[1]) * _MEMORY_UNITS[match[2]]
        if nbytes < 64 * 1024:
            raise ValueError("too small (at least 64kB)")
        if setting != "max_wal_size" and nbytes > ram_bytes:
            raise ValueError(f"larger than this machine's RAM ({_mb(ram_bytes)})")
        return f"{int(match[1])}{_UNIT_NAMES[match[2]]}"
    if kind == "time":
        match = re.fullmatch(r"(\d+)\s*(s|min|h|d)", text.lower())
        if not match:
            raise ValueError("not a duration: give a whole number and a unit (s, min, h or d), e.g. 15min")
        seconds = int(match[1]) * _TIME_UNITS[match[2]]
        if not 30 <= seconds <= 86400:
            raise ValueError("must be between 30s and 1d")
        return f"{match[1]}{match[2]}"
    if kind == "choice":
        if text.lower() not in WAL_COMPRESSION:
            raise ValueError(f"must be one of {', '.join(WAL_COMPRESSION)}")
        return text.lower()
    if not text.isdigit() or not 0 <= int(text) <= 1024:
        raise ValueError("must be a whole number from 0 to 1024")
    return str(int(text))


def node_settings(env: Mapping[str, str] | None = None, ram_bytes: int | None = None,
                  cpus: int | None = None) -> dict[str, str]:
    """:func:`compute` for this node, each setting replaced by its ``DESCTOM_PG_*`` variable if set.

    Raises :class:`StackError` naming the variable if a value is not valid.
    """
    env = os.environ if env is None else env
    node_ram, node_cpus = node_resources()
    ram_bytes = node_ram if ram_bytes is None else ram_bytes
    settings = compute(ram_bytes, node_cpus if cpus is None else cpus)
    for setting, (var, kind) in ENV.items():
        raw = env.get(var, "").strip()
        if raw:
            try:
                settings[setting] = _validate(setting, kind, raw, ram_bytes)
            except ValueError as exc:
                raise StackError(f"{var}={raw!r}: {exc}") from None
    workers = int(settings["max_worker_processes"])
    for setting in ("max_parallel_workers", "max_parallel_workers_per_gather",
                    "max_parallel_maintenance_workers"):
        if int(settings[setting]) > workers:
            raise StackError(f"{ENV[setting][0]}={settings[setting]}: more than max_worker_processes "
                             f"({workers}); raise DESCTOM_PG_MAX_WORKER_PROCESSES too")
    return settings


def server_options(settings: Mapping[str, str]) -> str:
    """``-c name=value`` options for ``pg_ctl -o``."""
    return " ".join(f"-c {name}={value}" for name, value in settings.items())


#: What ``desctom status`` shows of the running server.
SHOWN = ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "wal_buffers",
         "max_wal_size", "checkpoint_timeout", "wal_compression", "max_connections", "max_parallel_workers")


def running_settings(conn) -> dict[str, str]:
    """The :data:`SHOWN` settings as the server reports them (``SHOW`` notation)."""
    rows = conn.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                        [list(SHOWN)]).fetchall()
    found = dict(rows)
    return {name: found[name] for name in SHOWN if name in found}


def settings_at(conninfo: str) -> dict[str, str] | None:
    """:func:`running_settings` of the server at ``conninfo`` (``None`` if it cannot be asked)."""
    import psycopg

    try:
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            return running_settings(conn)
    except psycopg.Error:
        return None
