"""Fixtures for the ELAsTiCC 1 tests: the shared SNANA test data (unpacked once), users, clients."""

import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest
from e1_helpers import JsonClient, make_user

from desctom.testing.paths import SHARED_DATA

TEST_DATA_TAR = SHARED_DATA / "elasticc2_alert_test_data.tar.bz2"


@pytest.fixture(scope="session")
def snana_dirs() -> list[Path]:
    """The three SNANA directories of the shared test data (KN_K17, Mdwarf-flare, SNIb-Templates)."""
    if not TEST_DATA_TAR.exists():
        pytest.fail(f"{TEST_DATA_TAR} is missing: the shared data must sit beside the checkout")
    base = Path(tempfile.mkdtemp(prefix="desctom-e1data-"))
    with tarfile.open(TEST_DATA_TAR) as tar:
        tar.extractall(base, filter="data")
    yield sorted(p for p in (base / "elasticc2_alert_test_data").iterdir() if p.is_dir())
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def _taxonomy_rows(request):
    """Put back the taxonomy rows of the migration (transactional tests empty every table)."""
    if request.node.get_closest_marker("django_db") is None and not (
            {"db", "transactional_db", "live_server"} & set(request.fixturenames)):
        return
    request.getfixturevalue("db" if "transactional_db" not in request.fixturenames else "transactional_db")
    from desctom.elasticc.models import ClassIdOfGentype, GentypeOfClassId
    from desctom.elasticc.models import taxonomy_tree as taxonomy

    taxonomy.fill_tables(GentypeOfClassId, ClassIdOfGentype)


@pytest.fixture
def user_client(client, db):
    """A logged-in ordinary user."""
    client.force_login(make_user("reader"))
    return JsonClient(client)


@pytest.fixture
def admin_client(db):
    """A logged-in member of group elasticc_admin (not a superuser)."""
    from django.test import Client

    c = Client()
    c.force_login(make_user("e1admin", group="elasticc_admin"))
    return JsonClient(c)


@pytest.fixture
def anon_client(db):
    from django.test import Client

    return JsonClient(Client())


@pytest.fixture
def loaded(db, snana_dirs):
    """The shared test data loaded into the ELAsTiCC 1 tables (inside the test's transaction)."""
    from desctom.elasticc.loaders.snana import load_directories
    from desctom.loaders.snana.rows import LoadOptions

    counts = load_directories(snana_dirs, LoadOptions(simversion="test-v0.9"))
    assert counts.errors == []
    return counts
