"""``/elasticc2/brokermessage/``: brokers PUT classifications (checked strictly, stored once); users read."""

import datetime
import json
import re

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.db import connection
from test_e2_api_data import (
    OBJ_A,
    OBJ_B,
    PASSWORD,
    assert_error,
    load_sample,
    logged_in,
    make_user,
    refill_taxonomy,
    strict_json,
    token_header,
)

from desctom.accounts.queries.brokers import bind
from desctom.client import TomClient
from desctom.elasticc2.http.api.brokermessage_validation import MAX_MESSAGES
from desctom.testing.paths import REPO_ROOT

URL = "/elasticc2/brokermessage/"
T0 = 1_700_000_000_000  # ms: 2023-11-14T22:13:20Z
DOC = REPO_ROOT / "docs" / "api_elasticc2.md"


def message(alert_id=101, **changes) -> dict:
    msg = {"alertId": alert_id, "diaSourceId": alert_id, "elasticcPublishTimestamp": T0,
           "brokerIngestTimestamp": T0 + 1500, "brokerName": "TestBroker", "brokerVersion": "1.0",
           "classifierName": "RandomSNType", "classifierParams": "seed=1",
           "classifications": [{"classId": 2222, "probability": 0.75},
                               {"classId": 2223, "probability": 0.25}]}
    msg.update(changes)
    return msg


def iso(ms: int) -> str:
    """How the API writes a time: ISO 8601 UTC, milliseconds only when not zero (Django's encoder)."""
    text = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(timespec="milliseconds")
    return text.replace(".000+00:00", "Z").replace("+00:00", "Z")


def broker(client, name="ampel"):
    """``client`` logged in as a member of ``elasticc_broker``."""
    user = make_user(name)
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, ["TestBroker"])
    client.force_login(user)
    return client


def put(client, data, url=URL, **headers):
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.put(url, body, content_type="application/json", **headers)


def stored() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM elasticc2_brokermessage")
        return cur.fetchone()[0]


def stored_anything() -> tuple[int, int, int]:
    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM elasticc2_brokermessage), "
                    "(SELECT count(*) FROM elasticc2_brokerclassifier), "
                    "(SELECT count(*) FROM elasticc2_brokersourceids)")
        return cur.fetchone()


@pytest.fixture(scope="module", autouse=True)
def taxonomy_back_afterwards(django_db_setup, django_db_blocker):
    """The live-server tests end by emptying every table: put the migration's taxonomy back."""
    yield
    with django_db_blocker.unblock():
        refill_taxonomy()


@pytest.fixture
def pusher(client, db):
    return broker(client)


# -- PUT -------------------------------------------------------------------------------------------

def test_put_one_message_then_read_it_back(pusher):
    res = put(pusher, message(brokerPublishTimestamp=T0 + 2000))
    assert res.status_code == 201, res.content
    body = strict_json(res)
    first = body["brokerMessageId"]
    assert body == {"brokerMessageId": first, "num_loaded": 1, "num_duplicates": 0} and first > 0
    assert res["Location"] == f"http://testserver{URL}{first}"
    got = pusher.get(res["Location"], follow=True)
    assert got.status_code == 200
    msg = strict_json(got)
    desc = msg.pop("descIngestTimestamp")
    age = datetime.datetime.now(datetime.UTC) - datetime.datetime.fromisoformat(desc)
    assert abs(age.total_seconds()) < 60
    assert msg == {"brokerMessageId": first, "streamMessageId": -1, "topicName": "REST_push",
                   "kafkaPartition": None, "alertId": 101, "diaSourceId": 101,
                   "msgHdrTimestamp": iso(T0 + 2000), "elasticcPublishTimestamp": iso(T0),
                   "brokerIngestTimestamp": iso(T0 + 1500), "classifierId": msg["classifierId"],
                   "brokerName": "TestBroker", "brokerVersion": "1.0", "classifierName": "RandomSNType",
                   "classifierParams": "seed=1",
                   "classifications": [{"classId": 2222, "probability": 0.75},
                                       {"classId": 2223, "probability": 0.25}]}
    classifiers = pusher.get("/elasticc2/classifiers_json").json()
    assert classifiers[str(msg["classifierId"])]["classifiername"] == "RandomSNType"
    with connection.cursor() as cur:
        cur.execute("SELECT diasource_id FROM elasticc2_brokersourceids")
        assert cur.fetchall() == [(101,)]


def test_put_a_list_float_times_null_ingest_and_duplicates(pusher):
    msgs = [message(201, brokerIngestTimestamp=None, classifications=[]),
            message(202, elasticcPublishTimestamp=T0 + 0.6,
                    classifications=[{"classId": 1, "probability": 0.1}]),
            message(203, classifierName="Other", brokerPublishTimestamp=None),
            message(202, classifications=[{"classId": 1, "probability": 0.1}])]  # a duplicate of the 2nd
    res = put(pusher, msgs)
    assert res.status_code == 201, res.content
    first = res.json()["brokerMessageId"]
    assert res.json() == {"brokerMessageId": first, "num_loaded": 3, "num_duplicates": 1}
    again = put(pusher, msgs)  # the same PUT twice: stored once
    assert again.status_code == 201
    assert again.json() == {"brokerMessageId": -1, "num_loaded": 0, "num_duplicates": 4}
    assert again["Location"] == f"http://testserver{URL}-1"
    assert stored() == 3
    page = pusher.get(URL, {"alertid": "201,202,203"}).json()["brokermessages"]
    assert [m["alertId"] for m in page] == [201, 202, 203]
    assert page[0]["brokerIngestTimestamp"] is None and page[0]["classifications"] == []
    assert page[1]["elasticcPublishTimestamp"] == iso(T0 + 1)  # rounded to the millisecond
    assert page[1]["classifications"] == [{"classId": 1, "probability": 0.1}]
    assert page[2]["msgHdrTimestamp"] is None and page[2]["classifierName"] == "Other"
    # A new brokerIngestTimestamp makes a new message.
    res = put(pusher, message(201, brokerIngestTimestamp=T0 + 9000))
    assert res.json()["num_loaded"] == 1 and stored() == 4


def test_put_location_for_the_other_url_forms(pusher):
    res = put(pusher, message(301), url=f"{URL}?x=1")
    first = res.json()["brokerMessageId"]
    assert res.status_code == 201 and res["Location"] == f"http://testserver{URL}{first}"
    res = put(pusher, message(302), url=f"{URL}17/")
    assert res.status_code == 201 and res["Location"] == f"http://testserver{URL}17/{first + 1}"
    res = put(pusher, message(303), url=f"{URL}some/path/")
    assert res.status_code == 201 and res["Location"].endswith(f"{URL}some/path/{first + 2}")


BAD = [
    ({"alertId": "1"}, 'message 0: alertId must be a 64-bit integer, not "1"'),
    ({"alertId": True}, "message 0: alertId must be a 64-bit integer, not true"),
    ({"alertId": 1.0}, "message 0: alertId must be a 64-bit integer, not 1.0"),
    ({"diaSourceId": 2**63}, f"message 0: diaSourceId must be a 64-bit integer, not {2**63}"),
    ({"elasticcPublishTimestamp": None}, "message 0: elasticcPublishTimestamp must be milliseconds since "
     "1970-01-01 UTC (a number from 0 to 32503680000000, before the year 3000), not null"),
    ({"brokerIngestTimestamp": -5}, "message 0: brokerIngestTimestamp must be milliseconds since "
     "1970-01-01 UTC (a number from 0 to 32503680000000, before the year 3000) or null, not -5"),
    ({"brokerIngestTimestamp": "2023-01-01"}, "message 0: brokerIngestTimestamp must be milliseconds since "
     "1970-01-01 UTC (a number from 0 to 32503680000000, before the year 3000) or null, not \"2023-01-01\""),
    ({"brokerPublishTimestamp": 1e300}, "message 0: brokerPublishTimestamp must be milliseconds since "
     "1970-01-01 UTC (a number from 0 to 32503680000000, before the year 3000) or null, not 1e+300"),
    ({"brokerName": 5}, "message 0: brokerName must be a string, not a number (5)"),
    ({"brokerVersion": None}, "message 0: brokerVersion must be a string, not null (null)"),
    ({"classifierName": "  "}, "message 0: classifierName must not be empty"),
    ({"brokerName": "x" * 101}, "message 0: brokerName must be at most 100 characters long, not 101"),
    ({"classifierParams": "a\x00b"}, "message 0: classifierParams must not contain NUL characters"),
    ({"classifierParams": "\ud800"},
     "message 0: classifierParams is not valid Unicode (surrogates not allowed)"),
    ({"classifierParams": "\U0001F600" * 500, "brokerVersion": "\U0001F600" * 200},
     "message 0: brokerName, brokerVersion, classifierName, classifierParams together must be at most "
     "2000 bytes of UTF-8, not 2822"),
    ({"classifications": {"classId": 1}}, "message 0: classifications must be a list, not an object"),
    ({"classifications": [[1, 0.5]]},
     'message 0: classifications[0] must be an object {"classId": ..., "probability": ...}, not a list'),
    ({"classifications": [{"classId": 1}]}, "message 0: missing classifications[0].probability"),
    ({"classifications": [{"classId": 1, "probability": 1, "p": 2}]},
     'message 0: unknown key "p" in classifications[0] (known: classId, probability)'),
    ({"classifications": [{"classId": 40000, "probability": 0.5}]},
     "message 0: classifications[0].classId must be an integer from -32768 to 32767, not 40000"),
    ({"classifications": [{"classId": 1, "probability": 0.5}, {"classId": 1, "probability": 0.5}]},
     "message 0: classifications[1].classId 1 appears more than once"),
    ({"classifications": [{"classId": 1, "probability": 0.5}, {"classId": 2, "probability": "0.5"}]},
     'message 0: classifications[1].probability must be a number from 0 to 1, not "0.5"'),
    ({"classifications": [{"classId": 1, "probability": 1.5}]},
     "message 0: classifications[0].probability must be a number from 0 to 1, not 1.5"),
    ({"classifications": [{"classId": 1, "probability": False}]},
     "message 0: classifications[0].probability must be a number from 0 to 1, not false"),
    ({"classifications": [{"classId": 1, "probability": 0}] * 1001},
     "message 0: classifications has 1001 entries, at most 1000 allowed"),
    ({"foo": 1, "bar": 2}, 'message 0: unknown keys "bar", "foo" (known: alertId, diaSourceId, '
     "elasticcPublishTimestamp, brokerIngestTimestamp, brokerName, brokerVersion, classifierName, "
     "classifierParams, classifications, brokerPublishTimestamp)"),
]


@pytest.mark.parametrize(("changes", "text"), BAD, ids=[t[:60] for _, t in BAD])
def test_put_rejects_bad_values_and_stores_nothing(pusher, changes, text):
    assert_error(put(pusher, message(**changes)), 400, text)
    # The same problem in the 4th message of a list: named with its index, and nothing is stored.
    msgs = [message(i) for i in range(3)] + [message(**changes)]
    assert_error(put(pusher, msgs), 400, text.replace("message 0", "message 3"))
    assert stored_anything() == (0, 0, 0)


def test_put_rejects_missing_keys_nan_and_bad_bodies(pusher):
    msg = message()
    del msg["brokerIngestTimestamp"], msg["alertId"]
    assert_error(put(pusher, [message(), msg]), 400, "message 1: missing alertId, brokerIngestTimestamp")
    assert_error(put(pusher, '{"alertId": NaN}'), 400, "message 0: missing diaSourceId, "
                 "elasticcPublishTimestamp, brokerIngestTimestamp, brokerName, brokerVersion, "
                 "classifierName, classifierParams, classifications")
    nan = json.dumps(message()).replace('"probability": 0.75', '"probability": NaN')
    assert_error(put(pusher, nan), 400,
                 "message 0: classifications[0].probability must be a number from 0 to 1, not NaN")
    assert_error(put(pusher, [message(), 5]), 400, "message 1 must be a JSON object, not a number")
    assert_error(put(pusher, []), 400, "no messages: the body is an empty list")
    assert_error(put(pusher, ""), 400, "no messages: the request body is empty")
    assert_error(put(pusher, "not json"), 400,
                 "request body is not valid JSON (Expecting value: line 1 column 1 (char 0))")
    assert_error(put(pusher, '"text"'), 400,
                 "the body must be a message (a JSON object) or a list of them, not a string")
    assert_error(put(pusher, [message()] * (MAX_MESSAGES + 1)), 413,
                 f"too many messages: {MAX_MESSAGES + 1} in one request, at most {MAX_MESSAGES}; "
                 "send them in several requests")
    assert stored_anything() == (0, 0, 0)


def test_put_the_largest_request(pusher):
    msgs = [message(i, classifications=[{"classId": 1, "probability": 1}]) for i in range(MAX_MESSAGES)]
    res = put(pusher, msgs)
    assert res.status_code == 201 and res.json()["num_loaded"] == MAX_MESSAGES


# -- who may PUT -----------------------------------------------------------------------------------

def test_put_permissions(client, db):
    res = put(client, message())
    assert_error(res, 401, "Authentication credentials were not provided.")
    logged_in(client, "plainuser")
    res = put(client, message())
    assert res.status_code == 403
    assert res.json()["error"] == ("User 'plainuser' may not PUT broker messages: only members of the group "
                                   "'elasticc_broker' and superusers may. Ask a TOM administrator to add the "
                                   "broker's account to that group.")
    logged_in(client, "apibroker")  # the original let this name in; here only the group counts
    assert put(client, message()).status_code == 403
    assert stored_anything() == (0, 0, 0)
    broker(client, "realbroker")
    assert put(client, message(1)).status_code == 201
    client.force_login(User.objects.create_superuser("boss", password=PASSWORD))
    assert put(client, message(2)).status_code == 201
    assert stored() == 2


def test_put_with_a_token_and_csrf_for_sessions(client, db):
    user = make_user("tokenbroker")
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, ["TestBroker"])
    res = put(client, message(), **token_header(user))
    assert res.status_code == 201 and res.json()["num_loaded"] == 1
    assert put(client, message(), HTTP_AUTHORIZATION="Token nonsense").status_code == 401
    client.handler.enforce_csrf_checks = True
    client.force_login(user)
    res = put(client, message(2))
    assert res.status_code == 403 and res.json()["error"].startswith("CSRF check failed")


# -- GET -------------------------------------------------------------------------------------------

@pytest.fixture
def pushed(sample, pusher):
    """Messages for every detection of the sample (two classifiers each), plus one for an unknown source."""
    msgs = []
    for sources in sample["sources"].values():
        for s in sources:
            for name in ("A", "B"):
                msgs.append(message(s["diasource_id"], classifierName=name))
    msgs.append(message(42))
    res = put(pusher, msgs)
    assert res.status_code == 201 and res.json()["num_loaded"] == len(msgs)
    return sample


def walk(client, query: str, num: int) -> list[dict]:
    """Every message a query form selects, page by page."""
    got, offset = [], 0
    while True:
        sep = "&" if "?" in query else "?"
        page = client.get(f"{query}{sep}offset={offset}&num={num}")
        assert page.status_code == 200, page.content
        body = strict_json(page)
        assert (body["offset"], body["num"], body["count"]) == (offset, num, len(body["brokermessages"]))
        got.extend(body["brokermessages"])
        offset += num
        if offset >= body["totalcount"]:
            assert len(got) == body["totalcount"]
            return got


def test_get_by_each_query_form_with_paging(pushed, api):
    a_sources = [s["diasource_id"] for s in pushed["sources"][OBJ_A]]
    b_sources = [s["diasource_id"] for s in pushed["sources"][OBJ_B]]
    by_object = walk(api, f"{URL}?objectid={OBJ_A}", 3)
    assert len(by_object) == 2 * len(a_sources)
    assert sorted({m["diaSourceId"] for m in by_object}) == a_sources
    ids = [m["brokerMessageId"] for m in by_object]
    assert ids == sorted(ids)
    assert walk(api, f"{URL}diaobjectid={OBJ_A}/", 5) == by_object
    both = walk(api, f"{URL}?objectid={OBJ_A},{OBJ_B}", 4)
    assert len(both) == 2 * (len(a_sources) + len(b_sources))
    assert walk(api, f"{URL}?objectid={OBJ_A}&objectid={OBJ_B}", 100) == both
    pair = f"{a_sources[0]},{b_sources[0]}"
    for form in (f"{URL}?alertid={pair}", f"{URL}alertid={pair}/", f"{URL}?sourceid={pair}",
                 f"{URL}diasourceid={pair}/", f"{URL}?alertid={pair.replace(',', '%2C')}"):
        got = walk(api, form, 1)
        assert [(m["alertId"], m["classifierName"]) for m in got] == [
            (a_sources[0], "A"), (a_sources[0], "B"), (b_sources[0], "A"), (b_sources[0], "B")]
    one = api.get(f"{URL}{got[2]['brokerMessageId']}/").json()
    assert one == got[2]
    assert walk(api, f"{URL}?sourceid=42", 10)[0]["alertId"] == 42  # a source the PPDB lacks


def test_get_defaults_caps_and_empty_answers(pushed, api):
    body = api.get(URL, {"objectid": OBJ_A}).json()
    assert (body["offset"], body["num"], body["count"]) == (0, 100, body["totalcount"])
    body = api.get(URL, {"objectid": OBJ_A, "num": 5000, "offset": 2}).json()
    assert (body["offset"], body["num"], body["count"]) == (2, 1000, body["totalcount"] - 2)
    body = api.get(URL, {"objectid": OBJ_A, "num": 0}).json()
    assert body["count"] == 0 and body["brokermessages"] == [] and body["totalcount"] > 0
    body = api.get(URL, {"objectid": OBJ_A, "offset": 10**6}).json()
    assert body["count"] == 0 and body["totalcount"] > 0
    assert api.get(URL, {"alertid": 666}).json() == {"offset": 0, "num": 100, "totalcount": 0, "count": 0,
                                                     "brokermessages": []}


def test_get_errors(pushed, api):
    assert_error(api.get(f"{URL}999999999/"), 404, "No broker message with id 999999999")
    assert_error(api.get(f"{URL}-1/"), 404, "No broker message with id -1")
    assert_error(api.get(f"{URL}{2**70}/"), 404, f"No broker message with id {2**70}")
    hint = (". Give one of alertid, sourceid, diasourceid, objectid, diaobjectid (comma-separated integers), "
            "and optionally offset and num.")
    assert_error(api.get(f"{URL}foo/"), 400, 'Can\'t parse argument string "foo"' + hint)
    assert_error(api.get(f"{URL}abc=1/"), 400, 'Can\'t parse argument string "abc=1"' + hint)
    assert_error(api.get(URL), 400, 'Can\'t parse argument string ""' + hint)
    assert_error(api.get(f"{URL}?offset=3"), 400, 'Can\'t parse argument string "offset=3"' + hint)
    assert_error(api.get(f"{URL}?alertid=1&color=red"), 400,
                 'Can\'t parse argument string "alertid=1&color=red"' + hint)
    assert_error(api.get(f"{URL}?alertid=1,x"), 400, 'every alertid must be an integer, not "x"')
    assert_error(api.get(f"{URL}?alertid="), 400, 'every alertid must be an integer, not ""')
    assert_error(api.get(f"{URL}?alertid=1&sourceid=2"), 400,
                 "Give only one of alertid, sourceid, diasourceid, objectid, diaobjectid, "
                 "not alertid and sourceid")
    assert_error(api.get(f"{URL}?alertid=1&offset=-1"), 400,
                 'offset must be a non-negative integer, not "-1"')
    assert_error(api.get(f"{URL}?alertid=1&num=ten"), 400, 'num must be a non-negative integer, not "ten"')
    assert_error(api.get(f"{URL}?alertid=1&num=1.5"), 400, 'num must be a non-negative integer, not "1.5"')
    assert_error(api.get(f"{URL}?alertid=1&num=1&num=2"), 400, "num given 2 times")
    ids = ",".join(["1"] * 10001)
    assert_error(api.get(f"{URL}?alertid={ids}"), 400, "At most 10000 ids in one query, not 10001")


def test_get_needs_login_and_other_methods_are_405(pushed, client, api):
    assert_error(client.logout() or client.get(URL, {"alertid": 1}), 401,
                 "Authentication credentials were not provided.")
    assert client.get(f"{URL}1/").status_code == 401
    logged_in(client, "reader")
    for method in ("post", "delete", "patch"):
        res = getattr(client, method)(URL, "{}", content_type="application/json")
        assert res.status_code == 405
        assert res.json()["error"].startswith(f"Method {method.upper()} not allowed")
        assert "PUT" in res["Allow"] and "GET" in res["Allow"]


# -- over real HTTP --------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_push_and_read_back_through_tom_client(live_server):
    load_sample()
    user = make_user("livebroker")
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, ["TestBroker"])
    make_user("livereader")
    tom = TomClient(live_server.url, username="livebroker", password=PASSWORD)
    res = tom.put("elasticc2/brokermessage/", json=[message(OBJ_A * 100000 + 6), message(43)])
    assert res.status_code == 201 and res.json()["num_loaded"] == 2
    first = res.json()["brokerMessageId"]
    assert res.headers["Location"] == f"{live_server.url}/elasticc2/brokermessage/{first}"
    assert tom.put("elasticc2/brokermessage/", json=message(43)).json()["num_loaded"] == 0
    reader = TomClient(live_server.url, username="livereader", password=PASSWORD)
    assert reader.get(f"elasticc2/brokermessage/{first}/").json()["alertId"] == OBJ_A * 100000 + 6
    page = reader.get("elasticc2/brokermessage/", params={"objectid": OBJ_A}).json()
    assert page["totalcount"] == 1 and page["brokermessages"][0]["brokerMessageId"] == first
    res = reader.put("elasticc2/brokermessage/", json=message(44))
    assert res.status_code == 403
    anonymous = requests.put(f"{live_server.url}/elasticc2/brokermessage/", json=message(45), timeout=30)
    assert anonymous.status_code == 401
    token = requests.post(f"{live_server.url}/api/token-auth/", timeout=30,
                          data={"username": "livebroker", "password": PASSWORD}).json()["token"]
    by_token = TomClient(live_server.url, token=token)
    assert by_token.put("elasticc2/brokermessage/", json=message(46)).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_the_manual_examples_run(live_server, capsys):
    """The broker-message examples of docs/api_elasticc2.md (fenced ``python broker``), as a broker."""
    load_sample()
    user = make_user("docbroker")
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, ["MyBroker"])
    text = DOC.read_text()
    setup = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    blocks = re.findall(r"```python broker\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3
    setup = setup.replace('TomClient("http://127.0.0.1:8080", username="admin", '
                          'passwordfile="var/secrets/admin_password")',
                          f"TomClient({live_server.url!r}, username='docbroker', password={PASSWORD!r})")
    namespace = {}
    for block in [setup, *blocks]:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own manual
    out = capsys.readouterr().out
    assert 'message 1: classifications[0].probability must be a number from 0 to 1, not "high"' in out
    assert 'Can\'t parse argument string "colour=red".' in out and "1 messages about object 1001" in out



@pytest.mark.django_db(transaction=True)
def test_a_put_without_the_trailing_slash_keeps_its_body(live_server):
    """Issue 19: a 301 to the slashed URL made `requests` drop the body ("the request body is empty")."""
    load_sample()
    user = make_user("slashbroker")
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, ["TestBroker"])
    tom = TomClient(live_server.url, username="slashbroker", password=PASSWORD)
    res = tom.put("elasticc2/brokermessage", json=[message(OBJ_A * 100000 + 6)])
    assert res.status_code == 201, res.text
    assert res.json()["num_loaded"] == 1 and not res.history  # served where it was sent, no redirect
    assert tom.get("elasticc2/brokermessage", params={"objectid": OBJ_A}).json()["totalcount"] == 1
