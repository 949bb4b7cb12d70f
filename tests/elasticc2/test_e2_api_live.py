"""The ELAsTiCC2 read APIs over real HTTP, with the TomClient scripts use (session login + CSRF)."""


import pytest
import requests
from test_e2_api_data import OBJ_A, OBJ_B, PASSWORD, load_sample, make_user, refill_taxonomy

from desctom.client import TomClient
from desctom.testing.manual import run_python_examples
from desctom.testing.paths import REPO_ROOT

DOC = REPO_ROOT / "docs" / "api_elasticc2.md"

# A live server needs committed data, so every test here ends by emptying all tables.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def taxonomy_present(transactional_db):
    """Each test here starts with the taxonomy (the previous one's flush removed it)."""
    refill_taxonomy()


@pytest.fixture(scope="module", autouse=True)
def taxonomy_back_afterwards(django_db_setup, django_db_blocker):
    """And the tests after this module find it too. (serialized_rollback cannot do this: the TOM
    Toolkit's signals create duplicate profiles when users are deserialized.)"""
    yield
    with django_db_blocker.unblock():
        refill_taxonomy()


def test_every_endpoint_through_tom_client(live_server):
    sample = load_sample()
    make_user("livetester")
    tom = TomClient(live_server.url, username="livetester", password=PASSWORD)

    classids = tom.post("elasticc2/classids")
    assert classids.status_code == 200 and len(classids.json()) == 42
    assert tom.get("elasticc2/classifiers_json").json() == {}

    page = tom.get("elasticc2/ppdbdiaobject/", params={"limit": 2}).json()
    assert page["count"] == 4 and [o["diaobject_id"] for o in page["results"]] == [OBJ_A, OBJ_B]
    assert tom.get(f"elasticc2/ppdbdiaforcedsource/{OBJ_A * 100000 + 3}/").json()["diaobject"] == OBJ_A
    with_sources = tom.get(f"elasticc2/ppdbdiaobjectwithsources/{OBJ_B}/").json()
    assert len(with_sources["diaforcedsources"]) == 3
    res = tom.get("elasticc2/ppdbdiaobjectofsource/")
    assert res.status_code == 400 and res.json() == {"error": "Must give a source id"}

    ltcv = tom.post("elasticc2/ltcv", json={"objectids": [OBJ_A, OBJ_B], "include_hostinfo": True}).json()
    assert [o["objectid"] for o in ltcv["diaobject"]] == [OBJ_A, OBJ_B]
    assert ltcv["diaobject"][1]["hostgal_snsep"] is None and ltcv["diaobject"][0]["zp"] == 31.4
    res = tom.post("elasticc2/ltcv", json={"objectid": OBJ_A, "foo": 1})
    assert res.status_code == 400
    assert res.json() == {"error": "Exception in LtcvsView: Unknown parameters: {'foo'}"}

    features = tom.post("elasticc2/ltcvfeatures", json={"objectid": OBJ_A}).json()
    assert features["duration"] == 38.0 and len(features) == 13

    source_id = sample["sources"][OBJ_A][1]["diasource_id"]
    alert = tom.post("elasticc2/getalert", json={"sourceid": source_id}).json()
    assert alert["alertId"] == source_id and len(alert["prvDiaSources"]) == 1
    res = tom.post("elasticc2/getalert", json={"alertid": 666})
    assert res.status_code == 404
    assert res.json() == {"error": "Exception in GetAlert: PPDBAlert matching query does not exist."}

    cone = tom.post("elasticc2/conesearch", json={"ra": 10.0, "dec": -5.0, "radius_arcsec": 10}).json()
    assert [o["diaobject_id"] for o in cone["objects"]] == [OBJ_A, OBJ_B]


def test_anonymous_and_session_without_csrf(live_server):
    make_user("livetester")
    res = requests.post(f"{live_server.url}/elasticc2/ltcv", json={"objectid": OBJ_A}, timeout=30)
    assert res.status_code == 401 and res.json() == {"error": "Authentication credentials were not provided."}
    res = requests.get(f"{live_server.url}/elasticc2/ppdbdiaobject/", timeout=30)
    assert res.status_code == 401
    assert res.json() == {"detail": "Authentication credentials were not provided."}
    tom = TomClient(live_server.url, username="livetester", password=PASSWORD)
    del tom.session.headers["X-CSRFToken"]  # a session without the CSRF header may not POST
    res = tom.session.post(f"{live_server.url}/elasticc2/classids", timeout=30)
    assert res.status_code == 403 and res.json()["error"].startswith("CSRF check failed")


def test_the_manual_examples_run(live_server, capsys):
    """Every Python example of docs/api_elasticc2.md, in order, against the sample (they assert too)."""
    load_sample()
    make_user("doctester")
    namespace = run_python_examples(DOC, live_server.url, "doctester", PASSWORD)
    out = capsys.readouterr().out
    assert "Exception in LtcvsView: Unknown parameters: {'foo'}" in out
    assert "ra must be between 0 and 360 degrees, not 400.0" in out
    assert namespace["alert"]["diaObject"]["diaObjectId"] == OBJ_A
