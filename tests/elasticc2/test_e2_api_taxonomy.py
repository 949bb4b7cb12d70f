"""``/elasticc2/classids`` and ``/elasticc2/classifiers_json``."""

import csv

import pytest
from django.db import connection
from test_e2_api_data import make_user, post_json, refill_taxonomy, strict_json, token_header

from desctom.elasticc2.models import BrokerClassifier
from desctom.testing.paths import SHARED_DATA

pytestmark = pytest.mark.django_db
TAXONOMY = SHARED_DATA / "taxonomy"
FLAGS = ("exactmatch", "categorymatch", "generalmatch", "broadmatch")


@pytest.fixture(autouse=True)
def taxonomy_tables(db):
    refill_taxonomy()  # only does something after another module's live-server test emptied them


def expected_classids() -> dict:
    """What the original computes, straight from the published taxonomy tables."""
    with open(TAXONOMY / "elasticc2_classid_of_gentype.csv") as fh:
        matches = list(csv.DictReader(fh))
    with open(TAXONOMY / "elasticc2_gentype_of_classid.csv") as fh:
        nodes = list(csv.DictReader(fh))
    result = {}
    for row in matches:
        entry = result.setdefault(int(row["classid"]), {
            "description": row["description"], "gentype": [],
            **{f: row[f] == "True" for f in FLAGS}})
        entry["gentype"].append(int(row["gentype"]))
    for row in nodes:
        result.setdefault(int(row["classid"]), {"description": row["description"], "gentype": [],
                                                **dict.fromkeys(FLAGS, False)})
    for entry in result.values():
        entry["gentype"].sort()
    return {str(k): result[k] for k in sorted(result)}


def test_classids_is_the_taxonomy(api):
    res = api.post("/elasticc2/classids")  # no body at all, as in the original README
    assert res.status_code == 200 and res["Content-Type"] == "application/json"
    got = strict_json(res)
    assert len(got) == 42
    assert got == expected_classids()
    assert list(got) == sorted(got, key=int)  # sorted by class id
    assert got["2222"] == {"description": "Ia", "gentype": [10], "exactmatch": True, "categorymatch": True,
                           "generalmatch": True, "broadmatch": True}
    assert got["2000"]["gentype"] == [10, 11, 12, 20, 21, 25, 26, 27, 30, 31, 32, 35, 36, 37, 40, 42, 45, 46,
                                      50, 51, 59, 60, 80, 82, 83, 84, 87, 88, 89, 90, 91]
    assert [got["2000"][f] for f in FLAGS] == [False, False, False, True]
    assert [got["2200"][f] for f in FLAGS] == [False, False, True, True]
    assert got["0"] == {"description": "Meta", "gentype": [], "exactmatch": False, "categorymatch": False,
                        "generalmatch": False, "broadmatch": False}
    extras = {k for k, v in got.items() if not v["gentype"]}
    assert extras == {"0", "100", "200", "300", "1000", "1100", "2100", "2210", "2221", "2231", "2241",
                      "2310", "2321", "2326", "2331"}


def test_classids_get_is_post_and_body_is_ignored(api):
    posted = api.post("/elasticc2/classids").json()
    assert api.get("/elasticc2/classids").json() == posted
    assert post_json(api, "/elasticc2/classids", {"anything": 1}).json() == posted


def test_classids_reads_the_tables(api):
    """A class id added to the mapping table shows up: the answer is built from the database."""
    with connection.cursor() as cur:
        cur.execute("INSERT INTO elasticc2_classidofgentype (gentype, classid, exactmatch, categorymatch, "
                    "generalmatch, broadmatch, description) "
                    "VALUES (99, 2999, true, true, true, true, 'Test')")
    got = api.post("/elasticc2/classids").json()
    assert len(got) == 43
    assert got["2999"]["gentype"] == [99] and got["2999"]["description"] == "Test"


def test_classifiers_json_empty_registry(api):
    res = api.post("/elasticc2/classifiers_json")
    assert res.status_code == 200
    assert res.json() == {}


def test_classifiers_json_keyed_by_id(api):
    a = BrokerClassifier.objects.create(brokername="Fink", brokerversion="1.0", classifiername="SNN",
                                        classifierparams="v2")
    b = BrokerClassifier.objects.create(brokername="ALeRCE", brokerversion=None, classifiername="LC",
                                        classifierparams=None)
    want = {str(a.classifier_id): {"brokername": "Fink", "brokerversion": "1.0", "classifiername": "SNN",
                                   "classifierparams": "v2"},
            str(b.classifier_id): {"brokername": "ALeRCE", "brokerversion": None, "classifiername": "LC",
                                   "classifierparams": None}}
    assert api.post("/elasticc2/classifiers_json").json() == want
    assert api.get("/elasticc2/classifiers_json").json() == want
    assert list(api.get("/elasticc2/classifiers_json").json()) == sorted(want, key=int)


def test_token_auth_needs_no_csrf(client):
    headers = token_header(make_user("tokenuser"))
    assert client.post("/elasticc2/classids", **headers).status_code == 200
    assert client.post("/elasticc2/classifiers_json", **headers).json() == {}


@pytest.mark.parametrize("url", ["/elasticc2/classids", "/elasticc2/classifiers_json"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_gets_401_json(client, url, method):
    res = getattr(client, method)(url)
    assert res.status_code == 401
    assert res.json() == {"error": "Authentication credentials were not provided."}


@pytest.mark.parametrize("url", ["/elasticc2/classids", "/elasticc2/classifiers_json"])
def test_other_methods_are_405_json(api, url):
    res = api.put(url)
    assert res.status_code == 405
    assert res.json()["error"].startswith("Method PUT not allowed here")


def test_the_slashed_url_answers_like_the_endpoint(api):
    """Paths are the original's (no trailing slash); the slashed form is served too (issue 19: the
    original answered it with an HTML 404), and a misspelt one is a JSON 404."""
    assert api.post("/elasticc2/classids/").json() == api.post("/elasticc2/classids").json()
    res = api.post("/elasticc2/classid/")
    assert res.status_code == 404 and res.json()["error"] == "no such endpoint: POST /elasticc2/classid/"
