"""Session-wide real services: a throwaway PostgreSQL cluster and a tansu Kafka broker."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from desctom.localstack.procs import free_port
from desctom.testing.cli import DESCTOM
from desctom.testing.services import ThrowawayKafka, ThrowawayPostgres


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for the whole session (the Django test database lives in it)."""
    server = ThrowawayPostgres()
    server.init()
    server.start()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def kafka_server():
    """A real tansu broker for the whole session; yields its bootstrap address."""
    broker = ThrowawayKafka()
    broker.start()
    yield broker
    broker.destroy()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(pg_server, django_db_modify_db_settings_parallel_suffix):
    """Point Django's default database at the session's PostgreSQL before the test DB is made."""
    from django.conf import settings

    settings.DATABASES["default"].update(pg_server.django_settings())


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's Chromium (Playwright's own browser download does not work here)."""
    path = os.environ.get("DESCTOM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium not found: scripts/setup installs Debian's chromium (or set DESCTOM_CHROMIUM)")
    return path


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser(chromium_path):
    """A headless Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def stack_env():
    """Environment for a private installation: its own data dir and free ports."""
    home = Path(tempfile.mkdtemp(prefix="desctom-e2e-"))
    home.chmod(0o755)
    dropped = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "DESCTOM_ADMIN_PASSWORD", "DJANGO_SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(DESCTOM_HOME=str(home), DESCTOM_WEB_PORT=str(free_port()), DESCTOM_PG_PORT=str(free_port()),
               DESCTOM_KAFKA_PORT=str(free_port()), DESCTOM_WEB_WORKERS="1",
               DESCTOM_PG_SHARED_BUFFERS="128MB", DESCTOM_PG_MAX_WAL_SIZE="1GB")  # not sized to the node
    env.pop("DESCTOM_DB_CONN_MAX_AGE", None)
    yield env
    subprocess.run([DESCTOM, "down"], env=env, capture_output=True, timeout=120)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_answer_cache():
    """Each test starts with an empty answer cache: a test's rolled-back rows take their data versions
    back with them (as a rolled-back transaction does), but not the answers kept in this process."""
    from django.core.cache import caches

    caches["answers"].clear()
    yield
