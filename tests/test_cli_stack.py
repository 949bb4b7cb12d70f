"""`desctom up / status / down` as a user runs them: real processes, real ports, a real browser."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from desctom.localstack.procs import free_port, pid_alive

DESCTOM = str(Path(sys.executable).parent / "desctom")


def run(env, *args, timeout=300):
    return subprocess.run([DESCTOM, *args], env=env, capture_output=True, text=True, timeout=timeout)


def processes_of(home: str) -> list[int]:
    """Every live process whose command line or environment mentions the data dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if home.encode() in blob and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def started_pids(home: Path) -> list[int]:
    state = json.loads((home / "run" / "desctom.json").read_text())
    pids = [state["supervisor_pid"], state["kafka_pid"], state.get("kafka_objectstore_pid"),
            state["postgres_pid"], *state["services"].values()]
    return [p for p in pids if p]


def wait_gone(pids, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if pid_alive(p)]


def test_up_detached_browser_login_status_down(stack_env, browser):
    home = Path(stack_env["DESCTOM_HOME"])
    web = f"http://127.0.0.1:{stack_env['DESCTOM_WEB_PORT']}"
    res = run(stack_env, "up", "--detach")
    assert res.returncode == 0, res.stderr + res.stdout
    assert "DESC TOM is running" in res.stdout and web in res.stdout

    # The generated admin password is shown once and kept in a private file.
    pwfile = home / "secrets" / "admin_password"
    password = pwfile.read_text().strip()
    assert password in res.stdout
    assert stat.S_IMODE(pwfile.stat().st_mode) == 0o600
    assert password not in (home / "log" / "desctom.log").read_text()

    status = json.loads(run(stack_env, "status", "--json").stdout)
    assert status["running"] is True
    assert {n: (c["running"], c["healthy"]) for n, c in status["components"].items()} == {
        "postgres": (True, True), "kafka": (True, True), "web": (True, True),
        "brokerpoll": (True, True), "source-updater": (True, True), "long-query-runner": (True, True),
        "long-query-runner-2": (True, True), "metrics": (True, True)}  # DESCTOM_SQL_RUNNERS=2
    # The broker keeps its data in PostgreSQL's database tansu by default; status never shows the password.
    pg_password = (home / "secrets" / "pg_password").read_text().strip()
    assert status["components"]["kafka"]["storage"].startswith(
        f"postgres://desctom:***@127.0.0.1:{stack_env['DESCTOM_PG_PORT']}/tansu")
    text = run(stack_env, "status").stdout
    assert "kafka storage      postgres://desctom:***@" in text and pg_password not in text
    assert pg_password not in (home / "log" / "desctom.log").read_text()

    again = run(stack_env, "up", "--detach")
    assert again.returncode == 1 and "already running" in again.stderr

    # A real browser logs in through the form; the page is styled and nothing left 127.0.0.1.
    page = browser.new_page()
    hosts = set()
    page.on("request", lambda req: hosts.add(urlsplit(req.url).hostname))
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{web}/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{web}/")
    page.wait_for_load_state("networkidle")
    assert "Logged in as" in page.inner_text("main")
    sheets = page.evaluate("""() => Array.from(document.styleSheets)
        .filter(s => s.href && s.href.includes('bootstrap.min.css')).map(s => s.cssRules.length)""")
    assert sheets and sheets[0] > 100  # the local Bootstrap stylesheet loaded and parsed
    navbar = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('#desctom-navbar'));
        return [s.backgroundColor, s.position, s.display]; }""")
    assert navbar == ["rgb(33, 37, 41)", "fixed", "flex"]  # Bootstrap's bg-dark fixed-top navbar
    assert page.evaluate("() => typeof window.Alpine") == "object"  # Alpine.js served locally
    assert page.evaluate("() => typeof window.htmx") == "object"
    for path in ("/targets/", "/observations/list/", "/users/", "/admin/"):
        response = page.goto(web + path)
        assert response.status == 200, path
    page.wait_for_load_state("networkidle")
    assert hosts == {"127.0.0.1"}
    assert errors == []
    page.close()

    pids = started_pids(home)
    assert len(pids) >= 4
    res = run(stack_env, "down")
    assert res.returncode == 0 and "stopped" in res.stdout
    assert wait_gone(pids) == []
    assert wait_gone(processes_of(str(home))) == []
    assert run(stack_env, "status").returncode == 3


def test_up_in_foreground_stops_everything_on_ctrl_c(stack_env):
    stack_env["DESCTOM_ADMIN_PASSWORD"] = "given-by-env-42"
    home = Path(stack_env["DESCTOM_HOME"])
    proc = subprocess.Popen([DESCTOM, "up"], env=stack_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "DESC TOM is running" in line:
            break
    assert any("DESC TOM is running" in line for line in lines), "".join(lines)
    assert not any("given-by-env-42" in line for line in lines)
    pids = started_pids(home)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "stopped" in out
    assert wait_gone(pids) == []
    assert wait_gone(processes_of(str(home))) == []


@pytest.mark.parametrize("variable", ["DESCTOM_WEB_PORT", "DESCTOM_PG_PORT", "DESCTOM_KAFKA_PORT"])
def test_up_with_occupied_port_exits_with_one_line(stack_env, variable):
    port = int(stack_env[variable])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        res = run(stack_env, "up", timeout=120)
    assert res.returncode != 0
    message = res.stderr.strip()
    assert "\n" not in message and "Traceback" not in res.stderr + res.stdout
    assert f"port {port} ({variable})" in message and "already in use" in message


def test_up_with_unwritable_data_dir_exits_with_one_line(stack_env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    stack_env["DESCTOM_HOME"] = str(blocker / "home")
    res = run(stack_env, "up", timeout=60)
    assert res.returncode != 0
    message = res.stderr.strip()
    assert "\n" not in message and "is not writable" in message and str(blocker / "home") in message
    if os.geteuid() != 0:  # root can write anywhere: a read-only folder only stops others
        ro = tmp_path / "read-only"
        ro.mkdir(mode=0o500)
        stack_env["DESCTOM_HOME"] = str(ro)
        res = run(stack_env, "up", timeout=60)
        assert res.returncode != 0 and "is not writable" in res.stderr


def test_up_with_silent_database_url_exits_with_one_line(stack_env):
    stack_env["DATABASE_URL"] = f"postgresql://someone:hunter2@127.0.0.1:{free_port()}/tom"
    res = run(stack_env, "up", timeout=60)
    assert res.returncode != 0
    message = res.stderr.strip()
    assert "\n" not in message and "DATABASE_URL" in message and "does not answer" in message
    assert "hunter2" not in message


def test_bad_port_variable_is_reported(stack_env):
    stack_env["DESCTOM_WEB_PORT"] = "eighty"
    res = run(stack_env, "status", timeout=60)
    assert res.returncode == 2 and "DESCTOM_WEB_PORT" in res.stderr and "\n" not in res.stderr.strip()


def test_down_when_not_running(stack_env):
    res = run(stack_env, "down", timeout=60)
    assert res.returncode == 0 and "not running" in res.stdout


def test_management_commands_pass_through(stack_env):
    res = run(stack_env, "help", timeout=120)
    assert res.returncode == 0
    assert "ensure_accounts" in res.stdout and "migrate" in res.stdout


def test_up_with_sql_replica_runs_users_sql_on_a_standby(stack_env):
    """`up --sql-replica`: a hot standby serves the SQL API; status shows its lag; down stops it."""
    import requests

    stack_env["DESCTOM_PG_REPLICA_PORT"] = str(free_port())
    home = Path(stack_env["DESCTOM_HOME"])
    res = run(stack_env, "up", "--detach", "--sql-replica")
    assert res.returncode == 0, res.stderr + res.stdout
    assert f"sql replica postgresql://desctom@127.0.0.1:{stack_env['DESCTOM_PG_REPLICA_PORT']}/" in res.stdout
    status = json.loads(run(stack_env, "status", "--json", timeout=60).stdout)
    replica = status["components"]["sql-replica"]
    assert replica["running"] and replica["healthy"] and replica["in_recovery"] is True
    assert replica["lag_seconds"] is not None and replica["lag_bytes"] is not None
    assert "sql-replica lag" in run(stack_env, "status", timeout=60).stdout
    auth = ("admin", (home / "secrets" / "admin_password").read_text().strip())
    web = f"http://127.0.0.1:{stack_env['DESCTOM_WEB_PORT']}"
    query = "SELECT pg_is_in_recovery() AS standby, inet_server_port() AS port"
    answer = requests.post(f"{web}/db/runsqlquery/", auth=auth, timeout=60, json={"query": query})
    assert answer.json() == {"status": "ok", "rows": [
        {"standby": True, "port": int(stack_env["DESCTOM_PG_REPLICA_PORT"])}]}
    run(stack_env, "down", timeout=180)
    assert not (home / "pgdata-replica" / "postmaster.pid").exists()


def test_sql_replica_with_an_external_replica_exits_with_one_line(stack_env):
    stack_env["DESCTOM_SQL_DATABASE_URL"] = "postgresql://someone@127.0.0.1:1/tom"
    res = run(stack_env, "up", "--sql-replica", timeout=60)
    assert res.returncode != 0 and "\n" not in res.stderr.strip()
    assert "--sql-replica" in res.stderr and "DESCTOM_SQL_DATABASE_URL" in res.stderr
