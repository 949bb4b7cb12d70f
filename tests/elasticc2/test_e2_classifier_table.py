"""The classifiers page's registry: each classifier's latest message, however long it has been quiet."""

import datetime as dt

import pytest
from django.db import connection

from desctom.core import counting
from desctom.elasticc2.models import BrokerClassifier, BrokerMessage
from desctom.elasticc2.queries.classifiers import classifier_table

pytestmark = pytest.mark.django_db


def test_latest_message_of_a_quiet_classifier_on_a_big_table(monkeypatch):
    now = dt.datetime.now(dt.UTC)
    active, quiet, silent = (BrokerClassifier.objects.create(brokername="B", brokerversion="1",
                                                             classifiername=n, classifierparams="p")
                             for n in ("active", "quiet", "silent"))
    times = {active: [now - dt.timedelta(minutes=m) for m in (1, 5, 9)],
             quiet: [now - dt.timedelta(days=d) for d in (400, 90)]}  # quiet for 90 days
    BrokerMessage.objects.bulk_create(
        BrokerMessage(streammessage_id=-1, topicname="REST_push", alert_id=i, diasource_id=i,
                      descingesttimestamp=t, brokeringesttimestamp=t, classifier_id=c.classifier_id,
                      classid=[2222], probability=[1.0])
        for c, ts in times.items() for i, t in enumerate(ts))
    with connection.cursor() as cur:
        cur.execute("ANALYZE elasticc2_brokermessage")
    for limit in (counting.EXACT_LIMIT, 0):  # exact counts; then the big-table path (estimates)
        monkeypatch.setattr(counting, "EXACT_LIMIT", limit)
        rows, estimated = classifier_table()
        assert estimated is (limit == 0)
        latest = {r["classifiername"]: r["latest"] for r in rows}
        assert latest == {"active": times[active][0], "quiet": times[quiet][1], "silent": None}
        with connection.cursor() as cur:  # one index probe per classifier (as on a big table), not a sort
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_sort = off")
            cur.execute("EXPLAIN SELECT m.descingesttimestamp FROM elasticc2_brokermessage m "
                        "WHERE m.classifier_id = %s ORDER BY m.descingesttimestamp DESC LIMIT 1",
                        [quiet.classifier_id])
            plan = "\n".join(r[0] for r in cur.fetchall())
        assert "Scan Backward using elasticc2_bm_classifier_time" in plan, plan
        assert "Sort" not in plan, plan
