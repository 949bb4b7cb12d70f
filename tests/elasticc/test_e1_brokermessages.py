"""ELAsTiCC 1 (v0.9) broker messages: loading (one row per message, classifier, class) and the query API."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from desctom.elasticc.loaders.brokermessages import MessageError, load_messages

pytestmark = pytest.mark.django_db
T0 = 1_660_000_000_000  # ms


def message(alert_id: int, source_id: int, classifiers=("RF", "NN"), classes=((111, 0.75), (112, 0.25))):
    """A v0.9 message: several classifiers, each with several classes."""
    return {
        "alertId": alert_id,
        "diaSourceId": source_id,
        "elasticcPublishTimestamp": T0,
        "brokerIngestTimestamp": T0 + 1000,
        "brokerName": "TestBroker",
        "brokerVersion": "1.0",
        "classifications": [
            {"classifierName": c, "classifierParams": "p", "classId": k, "probability": p}
            for c in classifiers
            for k, p in classes
        ],
    }


def rows(query, params=()):
    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_one_row_per_message_classifier_and_class_in_partitions():
    result = load_messages([message(1, 1), message(2, 2, classifiers=("RF", "NN", "XGB"))], topic="t")
    assert (result.messages, result.classifications, result.new_classifiers) == (2, 10, 3)
    assert rows("SELECT count(*) FROM elasticc_brokermessage") == [(2,)]
    per = rows(
        'SELECT c."classifierName", count(*) FROM elasticc_brokerclassification b JOIN '
        'elasticc_brokerclassifier c USING ("classifierId") GROUP BY 1 ORDER BY 1'
    )
    assert per == [("NN", 4), ("RF", 4), ("XGB", 2)]
    # partitioned by classifier: each classifier's rows live in its own partition, none in the default
    assert rows("SELECT relkind FROM pg_class WHERE relname = 'elasticc_brokerclassification'") == [("p",)]
    assert rows("SELECT count(*) FROM elasticc_brokerclassification_default") == [(0,)]
    for (cid,) in rows('SELECT "classifierId" FROM elasticc_brokerclassifier'):
        n = rows(f"SELECT count(*) FROM elasticc_brokerclassification_{int(cid)}")[0][0]  # noqa: S608
        assert (
            n
            == rows('SELECT count(*) FROM elasticc_brokerclassification WHERE "classifierId" = %s', [cid])[0][
                0
            ]
        )
    again = load_messages([message(1, 1)], topic="t")
    assert (again.messages, again.duplicates) == (0, 1)


@pytest.mark.parametrize(
    "bad,text",
    [
        ({"alertId": 1}, "missing keys"),
        ({**message(1, 1), "extra": 1}, "unknown keys"),
        ({**message(1, 1), "alertId": "one"}, "alertId must be an integer"),
        ({**message(1, 1), "classifications": [{"classId": 1}]}, "must have exactly the keys"),
        ({**message(1, 1), "elasticcPublishTimestamp": "noon"}, "milliseconds"),
    ],
)
def test_bad_messages_store_nothing(bad, text):
    with pytest.raises(MessageError, match=text):
        load_messages([message(5, 5), bad], topic="t")
    assert rows("SELECT count(*) FROM elasticc_brokermessage") == [(0,)]


def test_command_loads_json_files(tmp_path):
    path = tmp_path / "msgs.json"
    path.write_text("\n".join(json.dumps(message(i, i)) for i in range(3)))  # JSON lines
    out = StringIO()
    call_command("load_elasticc_brokermessages", str(path), stdout=out)
    assert "3 messages, 12 classifications" in out.getvalue()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([message(9, 9), {"alertId": 1}]))
    with pytest.raises(CommandError, match="message 1: missing keys"):
        call_command("load_elasticc_brokermessages", str(bad), stdout=StringIO())
    assert rows("SELECT count(*) FROM elasticc_brokermessage") == [(3,)]


@pytest.fixture
def messages(db):
    """12 messages: alerts 100..111 of sources 100..111; sources 100..105 belong to object 7."""
    from desctom.elasticc.models import DiaObject, DiaSource

    DiaObject.objects.create(diaObjectId=7, ra=1.0, decl=2.0)
    for sid in range(100, 106):
        DiaSource.objects.create(
            diaSourceId=sid,
            ccdVisitId=sid,
            diaObject_id=7,
            midPointTai=60000.0 + sid,
            filterName="r",
            ra=1.0,
            decl=2.0,
            psFlux=1.0,
            psFluxErr=1.0,
            snr=1.0,
        )
    load_messages([message(a, a) for a in range(100, 112)], topic="t")
    return [r[0] for r in rows('SELECT "brokerMessageId" FROM elasticc_brokermessage ORDER BY 1')]


def test_one_message_by_id(user_client, messages):
    resp = user_client.get(f"/elasticc/brokermessage/{messages[0]}/")
    body = resp.json()
    assert resp.status_code == 200 and body["brokerMessageId"] == messages[0] and body["alertId"] == 100
    assert body["brokerName"] == "TestBroker" and body["elasticcPublishTimestamp"].startswith("2022-08-08T")
    got = sorted((c["classifierName"], c["classId"], c["probability"]) for c in body["classifications"])
    assert got == [("NN", 111, 0.75), ("NN", 112, 0.25), ("RF", 111, 0.75), ("RF", 112, 0.25)]
    assert user_client.get("/elasticc/brokermessage/999999/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/elasticc/brokermessage/?alertid={ids}",
        "/elasticc/brokermessage/sourceid={ids}/",
        "/elasticc/brokermessage/?diasourceid={ids}",
    ],
)
def test_queries_page_with_offset_and_num(user_client, messages, url):
    ids = ",".join(str(a) for a in range(100, 112))
    seen = []
    for offset in range(0, 12, 5):
        sep = "&" if "?" in url else "?"
        body = user_client.get(url.format(ids=ids) + f"{sep}offset={offset}&num=5").json()
        assert (body["offset"], body["num"], body["totalcount"]) == (offset, 5, 12)
        assert body["count"] == len(body["brokermessages"]) == min(5, 12 - offset)
        seen += [m["brokerMessageId"] for m in body["brokermessages"]]
    assert seen == messages


def test_objectid_query(user_client, messages):
    body = user_client.get("/elasticc/brokermessage/?objectid=7&num=4&offset=4").json()
    assert body["totalcount"] == 6 and [m["alertId"] for m in body["brokermessages"]] == [104, 105]
    assert user_client.post("/elasticc/brokermessage/objectid=7/").json()["totalcount"] == 6


@pytest.mark.parametrize(
    "url,text",
    [
        ("/elasticc/brokermessage/", "Can't parse"),
        ("/elasticc/brokermessage/?alertid=x", "must be an integer"),
        ("/elasticc/brokermessage/?alertid=1&num=-1", "num must be"),
        ("/elasticc/brokermessage/?alertid=1&sourceid=2", "only one of"),
    ],
)
def test_bad_queries_are_400(user_client, url, text):
    resp = user_client.get(url)
    assert resp.status_code == 400 and text in resp.json()["error"]


def test_put_is_closed_and_reads_need_a_login(user_client, anon_client, messages):
    for client in (user_client,):
        resp = client.put("/elasticc/brokermessage/", [message(1, 1)])
        assert resp.status_code == 403
        assert resp.json()["error"] == "ELAsTiCC is over, posting classifications is disabled."
    assert rows("SELECT count(*) FROM elasticc_brokermessage") == [(12,)]
    assert anon_client.get(f"/elasticc/brokermessage/{messages[0]}/").status_code == 401
    assert anon_client.put("/elasticc/brokermessage/", []).status_code == 401
