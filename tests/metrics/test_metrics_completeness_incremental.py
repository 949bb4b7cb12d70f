"""Completeness kept from the change logs equals its definition and a full recount, run after run, on a
campaign where alerts are sent, re-sent and un-sent, messages arrive late, early (before the TOM records
the send) or twice, and a classifier appears half-way."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from desctom.elasticc2.models import BrokerClassifier, BrokerMessage, PPDBAlert, PPDBDiaObject, PPDBDiaSource
from desctom.metrics.models import CompletenessDay, CompletenessSentDay, MetricRun, NewMessage, SentChange

pytestmark = pytest.mark.django_db
START = dt.datetime(2025, 5, 1, 20, tzinfo=dt.UTC)
ALERTS, DAYS = 60, 10


def alerts() -> list[int]:
    ids = list(range(500, 500 + ALERTS))
    for aid in ids:
        PPDBDiaObject.objects.create(diaobject_id=aid, ra=1.0, decl=2.0)
        PPDBDiaSource.objects.create(diasource_id=aid, diaobject_id=aid, midpointtai=60000.0, filtername="g",
                                     ra=1.0, decl=2.0, psflux=1, psfluxerr=1, snr=1)
        PPDBAlert.objects.create(alert_id=aid, diaobject_id=aid, diasource_id=aid)
    return ids


def classifier(name: str) -> int:
    return BrokerClassifier.objects.create(brokername="B", brokerversion="1", classifiername=name,
                                           classifierparams="p").classifier_id


def message(cid: int, aid: int, when: dt.datetime) -> BrokerMessage:
    return BrokerMessage(streammessage_id=-1, topicname="REST_push", alert_id=aid, diasource_id=aid,
                         descingesttimestamp=when, brokeringesttimestamp=when, msghdrtimestamp=when,
                         classifier_id=cid, classid=[2222], probability=[1.0])


def definition() -> dict:
    """Every (classifier, UTC day with alerts sent) -> (alerts sent, of them with a message of it)."""
    sent = {a: t.astimezone(dt.UTC).date() for a, t in
            PPDBAlert.objects.exclude(alertsenttimestamp=None).values_list("alert_id", "alertsenttimestamp")}
    per_day = Counter(sent.values())
    have = set(BrokerMessage.objects.values_list("classifier_id", "alert_id"))
    out = {}
    for cid in BrokerClassifier.objects.values_list("classifier_id", flat=True):
        for day, n in per_day.items():
            out[(cid, day)] = (n, sum(1 for a, d in sent.items() if d == day and (cid, a) in have))
    return out


def stored() -> dict:
    rows = CompletenessDay.objects.values_list("classifier_id", "day", "nsent", "nclassified")
    return {(c, d): (s, n) for c, d, s, n in rows}


def completeness(*args: str) -> None:
    call_command("update_metrics", "--only", "completeness", *args, stdout=StringIO())


def test_runs_follow_sends_resends_and_messages_and_equal_a_full_recount():
    rng = random.Random(42)
    ids = alerts()
    cids = [classifier("x"), classifier("y")]
    completeness()
    assert stored() == {}
    for day in range(DAYS):
        today = START + dt.timedelta(days=day)
        if day == DAYS // 2:
            cids.append(classifier("late"))  # its earlier days appear with nothing classified
        unsent = list(PPDBAlert.objects.filter(alertsenttimestamp=None).order_by("alert_id")
                      .values_list("alert_id", flat=True))
        for aid in rng.sample(unsent, min(len(unsent), 8)):
            # a message may come in before the send is recorded
            when = today + dt.timedelta(hours=rng.uniform(0, 8))  # sends cross UTC midnight
            PPDBAlert.objects.filter(alert_id=aid).update(alertsenttimestamp=when)
        sent = list(PPDBAlert.objects.exclude(alertsenttimestamp=None).order_by("alert_id")
                    .values_list("alert_id", flat=True))
        msgs = [message(rng.choice(cids), aid, today + dt.timedelta(hours=9))
                for aid in rng.sample(sent, min(len(sent), 10))]
        # about an alert not sent; maybe a second message of the same (classifier, alert) pair
        msgs += [message(rng.choice(cids), rng.choice(unsent or ids), today + dt.timedelta(minutes=1))]
        msgs += [message(cids[0], rng.choice(sent), today + dt.timedelta(minutes=2))]
        BrokerMessage.objects.bulk_create(msgs[:6])
        completeness()
        assert stored() == definition(), f"day {day}, first half"
        BrokerMessage.objects.bulk_create(msgs[6:])
        if day % 3 == 2:  # the demo re-sends a night (a new sent time) or un-sends it
            moved = rng.sample(sent, 3)
            later = today + dt.timedelta(hours=30)
            PPDBAlert.objects.filter(alert_id__in=moved[:2]).update(alertsenttimestamp=later)
            PPDBAlert.objects.filter(alert_id=moved[2]).update(alertsenttimestamp=None)
        completeness()
        assert stored() == definition(), f"day {day}"
        assert not NewMessage.objects.filter(family="completeness").exists()
        assert not SentChange.objects.filter(family="completeness").exists()
    assert re.fullmatch(r"\d+ new messages, \d+ alerts re-dated",
                        MetricRun.objects.get(family="completeness").note)
    incremental = stored()
    assert sum(CompletenessSentDay.objects.values_list("nsent", flat=True)) == PPDBAlert.objects.exclude(
        alertsenttimestamp=None).count()
    completeness("--full")
    assert MetricRun.objects.get(family="completeness").note == "all days"
    assert stored() == incremental
    completeness()  # nothing new: nothing changes
    assert stored() == incremental
    assert MetricRun.objects.get(family="completeness").note == "0 new messages, 0 alerts re-dated"


def test_an_alert_stored_already_sent_and_deleted_alerts():
    ids = alerts()
    cid = classifier("x")
    PPDBAlert.objects.filter(alert_id__in=ids[:5]).update(alertsenttimestamp=START)
    BrokerMessage.objects.bulk_create([message(cid, a, START) for a in ids[:3]])
    completeness()
    PPDBDiaSource.objects.create(diasource_id=9, diaobject_id=ids[0], midpointtai=60000.0, filtername="g",
                                 ra=1.0, decl=2.0, psflux=1, psfluxerr=1, snr=1)
    PPDBAlert.objects.create(alert_id=9, diaobject_id=ids[0], diasource_id=9, alertsenttimestamp=START)
    BrokerMessage.objects.bulk_create([message(cid, 9, START)])
    completeness()
    assert stored() == definition() == {(cid, START.date()): (6, 4)}
    PPDBAlert.objects.filter(alert_id__in=ids[:2]).delete()  # by hand: the next run recounts in full
    assert not MetricRun.objects.filter(family="completeness").exists()
    completeness()
    assert MetricRun.objects.get(family="completeness").note == "all days"
    assert stored() == definition() == {(cid, START.date()): (4, 2)}


@pytest.mark.django_db(transaction=True)
def test_in_its_own_transaction_a_run_reads_one_snapshot_and_releases_its_lock():
    from django.db import connection

    ids = alerts()
    cid = classifier("x")
    PPDBAlert.objects.filter(alert_id__in=ids[:4]).update(alertsenttimestamp=START)
    BrokerMessage.objects.bulk_create([message(cid, a, START) for a in ids[:2]])
    completeness()
    call_command("update_metrics", "--only", "delays", stdout=StringIO())
    BrokerMessage.objects.bulk_create([message(cid, ids[3], START)])
    completeness()
    assert stored() == definition() == {(cid, START.date()): (4, 3)}
    with connection.cursor() as cur:
        cur.execute("SHOW transaction_isolation")
        assert cur.fetchone()[0] == "read committed"  # the run's level ended with its transaction
        cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cur.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_message_committed_during_a_run_counts_once(monkeypatch):
    """The run reads its logs and the messages in one snapshot: a message committed meanwhile (about an
    alert the run re-dates) is not half-seen by this run, and the next run counts it exactly once."""
    import psycopg
    from django.db import connection

    from desctom.metrics.queries import completeness as module

    ids = alerts()
    x, y = classifier("x"), classifier("y")
    completeness()
    PPDBAlert.objects.filter(alert_id=ids[0]).update(alertsenttimestamp=START)  # logged: NULL -> START
    BrokerMessage.objects.bulk_create([message(x, ids[0], START)])
    taken = module.take_change_logs
    s = connection.settings_dict

    def take_then_commit_another(cur, family):
        out = taken(cur, family)
        with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], password=s["PASSWORD"],
                             dbname=s["NAME"], autocommit=True) as other:
            other.execute("INSERT INTO elasticc2_brokermessage (streammessage_id, topicname, alert_id, "
                          "diasource_id, descingesttimestamp, classifier_id, classid, probability) "
                          "VALUES (-1, 'REST_push', %s, %s, %s, %s, '{2222}', '{1}')",
                          [ids[0], ids[0], START, y])
        return out

    monkeypatch.setattr(module, "take_change_logs", take_then_commit_another)
    completeness()
    monkeypatch.setattr(module, "take_change_logs", taken)
    assert stored() == {(x, START.date()): (1, 1), (y, START.date()): (1, 0)}  # y's message: not yet
    assert NewMessage.objects.filter(family="completeness").count() == 1  # it waits for the next run
    completeness()
    assert stored() == definition() == {(x, START.date()): (1, 1), (y, START.date()): (1, 1)}
