"""Unknown paths (issue 19): programs get a JSON 404 naming the path; endpoints answer with or
without their trailing slash; browsers still get the HTML page."""

import pytest
import requests
from django.contrib.auth.models import User

from desctom.client import TomClient

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "not-found test password"


@pytest.fixture
def tom(live_server):
    User.objects.create_user("lost", password=PASSWORD)
    return TomClient(live_server.url, username="lost", password=PASSWORD)


@pytest.mark.parametrize("path", ["elasticc2/gethottransiets", "elasticc2/nosuch/thing/", "db/runsql/",
                                  "elasticc/nosuch", "api/nosuch/", "metrics/nosuch"])
def test_a_misspelt_endpoint_is_a_json_404_naming_it(tom, path):
    for method in ("get", "post"):
        res = getattr(tom, method)(path, json={})
        assert res.status_code == 404
        assert res.headers["Content-Type"] == "application/json"
        assert res.json()["error"] == f"no such endpoint: {method.upper()} /{path}"
        assert res.json()["path"] == f"/{path}"


def test_an_endpoint_answers_with_the_slash_it_lacks(tom):
    """``gethottransients`` has no trailing slash in the original; the slashed spelling works too."""
    plain = tom.post("elasticc2/gethottransients", json={"mjd_now": 60800, "detected_since_mjd": 60790})
    slashed = tom.post("elasticc2/gethottransients/", json={"mjd_now": 60800, "detected_since_mjd": 60790})
    assert plain.status_code == slashed.status_code == 200
    assert plain.json() == slashed.json() == {"status": "ok", "diaobject": []}
    assert tom.get("elasticc2/classids/").json() == tom.get("elasticc2/classids").json()


def test_a_browser_still_gets_the_html_page(live_server, tom):
    res = requests.get(f"{live_server.url}/elasticc2/nosuch", timeout=30,
                       headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert res.status_code == 404 and res.headers["Content-Type"].startswith("text/html")
    outside = requests.get(f"{live_server.url}/nosuch-page", timeout=30)
    assert outside.status_code == 404 and outside.headers["Content-Type"].startswith("text/html")

