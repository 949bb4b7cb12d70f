"""Small process and network helpers shared by the embedded services."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import time
from pathlib import Path


class StackError(Exception):
    """A problem that stops the system from starting; the message is one line for the user."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if something already listens on (or holds) ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now (for tests and throwaway services)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def tcp_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_tcp(host: str, port: int, timeout: float, what: str, proc=None) -> None:
    """Wait until ``host:port`` accepts connections, or raise :class:`StackError`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{what} exited with status {proc.returncode} before listening on {host}:{port}")
        if tcp_answers(host, port, timeout=0.5):
            return
        time.sleep(0.05)
    raise StackError(f"{what} did not listen on {host}:{port} within {timeout:.0f} s")


def pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def terminate(pid: int, timeout: float = 15.0, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig`` to ``pid`` (and its process group if it leads one); SIGKILL after ``timeout``.

    Returns True once the process is gone.
    """
    if not pid_alive(pid):
        return True
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    time.sleep(0.2)
    return not pid_alive(pid)


class StateFile:
    """The JSON record, in the data dir, of the processes ``desctom up`` started."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def write(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        os.replace(tmp, self.path)

    def update(self, **changes) -> dict:
        state = self.read()
        state.update(changes)
        self.write(state)
        return state

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
