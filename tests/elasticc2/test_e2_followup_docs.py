"""Every Python example of docs/api_followup.md runs, in order, over HTTP against the follow-up sample."""


import pytest
from django.utils import timezone
from test_e2_api_data import PASSWORD, make_user, refill_taxonomy
from test_e2_followup_data import O1, O2, load_followup_sample

from desctom.elasticc2.models import AlertSenderRun, PlannedSpectra, SpectrumInfo, WantedSpectra
from desctom.testing.manual import run_python_examples
from desctom.testing.paths import REPO_ROOT

DOC = REPO_ROOT / "docs" / "api_followup.md"
API_DOC = REPO_ROOT / "docs" / "api.md"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def taxonomy_back_afterwards(django_db_setup, django_db_blocker):
    """The live server's flush empties the taxonomy: put it back for the tests after this module."""
    yield
    with django_db_blocker.unblock():
        refill_taxonomy()


def test_the_manual_examples_run(live_server, capsys):
    load_followup_sample()
    # the sender's clock stands at MJD 60040: the manual reads "now" from /elasticc2/clock
    AlertSenderRun.objects.create(started=timezone.now(), host="h", pid=1, through_day=60040.5, alerts_sent=1,
                                  last_mjd=60040.0, status="done")
    make_user("doctester")
    namespace = run_python_examples(DOC, live_server.url, "doctester", PASSWORD)
    out = capsys.readouterr().out
    assert namespace["objids"] == [O1, O2]
    assert "'num': 2" in out and "Unknown objectid 42" in out and "'n_deleted': 1" in out
    assert [w["oid"] for w in namespace["wanted"]] == [O1, O2]
    assert SpectrumInfo.objects.get().classid == 2222 and not WantedSpectra.objects.filter(diaobject_id=O1)
    assert not PlannedSpectra.objects.exists()
    assert [s["objectid"] for s in namespace["spectra"]["spectra"]] == [O1]


def test_api_md_links_the_manual():
    assert "(api_followup.md)" in API_DOC.read_text()
