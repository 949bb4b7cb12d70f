"""The whole alert cycle on a real PostgreSQL and a real tansu broker, checked against independent SQL.

Load the ELAsTiCC2 test data into the PPDB, send alerts through an MJD, let the fake broker
classify them, poll the classifications, update the known tables; assert every count against
SQL over the PPDB. Advance the clock with ``-a`` and assert again. Then push classifications
for the same alerts over HTTP as a push broker would.
"""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection

from desctom.accounts.models import BrokerBinding

pytestmark = pytest.mark.django_db(transaction=True)


def query(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def one(sql, params=None):
    return query(sql, params)[0][0]


@pytest.fixture
def ppdb(elasticc2_test_dirs):
    call_command("load_snana_fits", "-d", *map(str, elasticc2_test_dirs), "--ppdb", "--do", stdout=StringIO())
    query("UPDATE elasticc2_ppdbdiaobject SET isddf = (diaobject_id %% %s = 0)", [5])  # some DDF objects
    return one("SELECT count(*) FROM elasticc2_ppdbalert")


class Cycle:
    """One campaign's topics on the session's tansu, and the commands run against them."""

    def __init__(self, kafka):
        tag = uuid.uuid4().hex[:8]
        self.servers = kafka.bootstrap
        self.wfd, self.full, self.limited = f"wfd-{tag}", f"ddf-full-{tag}", f"ddf-limited-{tag}"
        self.classifications = f"classifications-{tag}"
        self.group = f"fakebroker-{tag}"

    def send(self, *args):
        call_command("send_elasticc2_alerts", *args, "--do", "-k", self.servers, "--wfd-topic", self.wfd,
                     "--ddf-full-topic", self.full, "--ddf-limited-topic", self.limited, stdout=StringIO())

    def classify_poll_update(self):
        call_command("fakebroker", "--source", self.servers, "--dest", self.servers, "--alert-topics",
                     self.wfd, self.full, "--dest-topic", self.classifications, "--group", self.group,
                     "--seed", "7", "--idle-exit", "3", stdout=StringIO())
        call_command("brokerpoll2", "--do-test", "--test-topic", self.classifications, "--test-server",
                     self.servers, "--idle-exit", "3", "--batch-timeout", "0.5", stdout=StringIO())
        call_command("update_elasticc2_sources", stdout=StringIO())


def assert_cycle_state():
    """Messages, classifiers and known tables agree with independent SQL over the PPDB."""
    sent = one("SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
    assert sent > 0
    assert one("SELECT count(*) FROM elasticc2_brokermessage WHERE topicname <> 'REST_push'") == 2 * sent
    assert one("SELECT count(DISTINCT (alert_id, classifier_id)) FROM elasticc2_brokermessage") == 2 * sent
    assert query("SELECT brokername, brokerversion, classifiername, classifierparams "
                 "FROM elasticc2_brokerclassifier ORDER BY classifiername") == [
        ("FakeBroker", "v1.0", "NugentClassifier", "100%"), ("FakeBroker", "v1.0", "RandomSNType", "Perfect")]
    # every message's alert was sent, with the alert's own source
    assert one("SELECT count(*) FROM elasticc2_brokermessage m JOIN elasticc2_ppdbalert a "
               "ON a.alert_id = m.alert_id AND a.diasource_id = m.diasource_id "
               "WHERE a.alertsenttimestamp IS NOT NULL") == 2 * sent
    assert one("SELECT count(*) FROM elasticc2_diasource") == one(
        "SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
    assert one("SELECT count(*) FROM elasticc2_diaobject") == one(
        "SELECT count(DISTINCT diaobject_id) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
    expected_forced = one("""
        SELECT count(*) FROM elasticc2_ppdbdiaforcedsource f
        JOIN (SELECT s.diaobject_id, max(s.midpointtai) AS latest FROM elasticc2_ppdbalert a
              JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id
              WHERE a.alertsenttimestamp IS NOT NULL GROUP BY s.diaobject_id) k
          ON k.diaobject_id = f.diaobject_id AND f.midpointtai <= k.latest""")
    assert expected_forced > 0
    assert one("SELECT count(*) FROM elasticc2_diaforcedsource") == expected_forced
    assert one("SELECT count(*) FROM elasticc2_brokersourceids") == 0
    return sent


def test_alert_cycle_end_to_end(ppdb, kafka_server, client):
    cycle = Cycle(kafka_server)
    first_mjd = one("SELECT min(s.midpointtai) FROM elasticc2_ppdbalert a "
                    "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id")
    cycle.send("-d", str(first_mjd + 40))
    cycle.classify_poll_update()
    sent_first = assert_cycle_state()
    assert sent_first == one("SELECT count(*) FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                             "ON s.diasource_id = a.diasource_id WHERE s.midpointtai <= %s", [first_mjd + 40])

    cycle.send("-a", "30")
    cycle.classify_poll_update()
    sent_second = assert_cycle_state()
    assert sent_first < sent_second < ppdb
    known_objects = one("SELECT count(*) FROM elasticc2_diaobject")

    # a push broker classifies the same alerts over HTTP
    broker = User.objects.create_user("pushbroker", password="pw")
    broker.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    BrokerBinding.objects.create(user=broker, broker_name="PushBroker")
    client.force_login(broker)
    alerts = query("SELECT alert_id, diasource_id FROM elasticc2_ppdbalert "
                   "WHERE alertsenttimestamp IS NOT NULL ORDER BY alert_id LIMIT 50")
    body = [{"alertId": a, "diaSourceId": s, "elasticcPublishTimestamp": 1_760_000_000_000,
             "brokerIngestTimestamp": 1_760_000_001_000, "brokerName": "PushBroker", "brokerVersion": "1",
             "classifierName": "Pusher", "classifierParams": "x",
             "classifications": [{"classId": 2222, "probability": 0.75},
                                 {"classId": 2232, "probability": 0.25}]}
            for a, s in alerts]
    for _ in range(2):  # the same PUT twice is stored once
        response = client.put("/elasticc2/brokermessage/", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content
    assert one("SELECT count(*) FROM elasticc2_brokermessage WHERE topicname = 'REST_push'") == len(alerts)
    assert query("SELECT DISTINCT classid, probability FROM elasticc2_brokermessage "
                 "WHERE topicname = 'REST_push'") == [([2222, 2232], [0.75, 0.25])]
    call_command("update_elasticc2_sources", stdout=StringIO())
    assert one("SELECT count(*) FROM elasticc2_diaobject") == known_objects  # already known sources
    assert one("SELECT count(*) FROM elasticc2_brokerclassifier") == 3
