"""Fixtures of the metrics tests: the taxonomy rows, and the ELAsTiCC2 SNANA test data for the alert cycle."""

import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest

from desctom.testing.paths import SHARED_DATA


@pytest.fixture(autouse=True)
def _taxonomy_rows(request):
    """Every database test here starts with the taxonomy (a live-server test's flush removes it)."""
    if not ({"db", "transactional_db", "live_server"} & set(request.fixturenames)):
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    from desctom.elasticc2.models import ClassIdOfGentype, GentypeOfClassId
    from desctom.survey import taxonomy

    taxonomy.fill_tables(GentypeOfClassId, ClassIdOfGentype)


@pytest.fixture(scope="module", autouse=True)
def _taxonomy_back_afterwards(django_db_setup, django_db_blocker):
    """Tests after this folder find the taxonomy too, even after a live-server test emptied the tables."""
    yield
    from desctom.elasticc2.models import ClassIdOfGentype, GentypeOfClassId
    from desctom.survey import taxonomy

    with django_db_blocker.unblock():
        taxonomy.fill_tables(GentypeOfClassId, ClassIdOfGentype)


@pytest.fixture(scope="session")
def snana_dirs():
    """The three SNANA directories of the shared ELAsTiCC2 test data, unpacked once."""
    tar_path = SHARED_DATA / "elasticc2_alert_test_data.tar.bz2"
    if not tar_path.exists():
        pytest.fail(f"{tar_path} is missing: the shared data must sit beside the checkout")
    base = Path(tempfile.mkdtemp(prefix="desctom-metrics-"))
    with tarfile.open(tar_path) as tar:
        tar.extractall(base, filter="data")
    yield sorted(p for p in (base / "elasticc2_alert_test_data").iterdir() if p.is_dir())
    shutil.rmtree(base, ignore_errors=True)
