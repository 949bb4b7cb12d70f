"""Fixtures for the ELAsTiCC2 tests: the real ELAsTiCC2 SNANA test data, unpacked once."""

import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest

from desctom.testing.paths import SHARED_DATA

TEST_DATA_TAR = SHARED_DATA / "elasticc2_alert_test_data.tar.bz2"


@pytest.fixture(scope="session")
def elasticc2_test_data() -> Path:
    """The folder holding the three SNANA directories (KN_K17, Mdwarf-flare, SNIb-Templates)."""
    if not TEST_DATA_TAR.exists():
        pytest.fail(f"{TEST_DATA_TAR} is missing: the shared data must sit beside the checkout")
    base = Path(tempfile.mkdtemp(prefix="desctom-e2data-"))
    with tarfile.open(TEST_DATA_TAR) as tar:
        tar.extractall(base, filter="data")
    yield base / "elasticc2_alert_test_data"
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def elasticc2_test_dirs(elasticc2_test_data) -> list[Path]:
    """The three SNANA directories, sorted by name."""
    return sorted(p for p in elasticc2_test_data.iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def _taxonomy_rows(request):
    """Keep the taxonomy rows the migration wrote for tests with database access.

    Tests with ``transactional_db`` or a live server end by emptying every table, migration data
    included; tests after them would otherwise find no taxonomy.
    """
    if request.node.get_closest_marker("django_db") is None and not (
            {"db", "transactional_db", "live_server"} & set(request.fixturenames)):
        return
    request.getfixturevalue("db" if "transactional_db" not in request.fixturenames else "transactional_db")
    from desctom.elasticc2.models import ClassIdOfGentype, GentypeOfClassId
    from desctom.survey import taxonomy

    taxonomy.fill_tables(GentypeOfClassId, ClassIdOfGentype)


@pytest.fixture
def sample(db):
    """The small sample of PPDB and local rows the API tests read (``test_e2_api_data``)."""
    from test_e2_api_data import load_sample

    return load_sample()


@pytest.fixture
def api(client):
    """Django's test client, logged in as a new ordinary user."""
    from test_e2_api_data import logged_in

    return logged_in(client)
