"""Delay histograms kept per day: runs after every batch of a campaign spanning two week boundaries
equal a full recompute and an independent computation of the definition (docs/metrics.md)."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import call_command

from desctom.elasticc2.models import BrokerClassifier, BrokerMessage, PPDBAlert, PPDBDiaObject, PPDBDiaSource
from desctom.metrics.models import DelayHistogram, DelayHistogramDay, MetricRun
from desctom.metrics.queries.delays import NBINS

pytestmark = pytest.mark.django_db
START = dt.datetime(2025, 3, 6, 9, tzinfo=dt.UTC)  # a Thursday: the batches cross two Mondays
DAYS, ALERTS_PER_DAY = 13, 6


def make_alerts(rng: random.Random) -> dict[int, dt.datetime]:
    """Alerts sent each day (one object per alert), some never sent; returns alert id -> sent time."""
    sent = {}
    for day in range(DAYS):
        for k in range(ALERTS_PER_DAY):
            aid = 1000 * (day + 1) + k
            PPDBDiaObject.objects.create(diaobject_id=aid, ra=1.0, decl=2.0)
            PPDBDiaSource.objects.create(diasource_id=aid, diaobject_id=aid, midpointtai=60000.0 + day,
                                         filtername="g", ra=1.0, decl=2.0, psflux=1, psfluxerr=1, snr=1)
            when = START + dt.timedelta(days=day, minutes=rng.uniform(0, 600))
            unsent = rng.random() < 0.1
            PPDBAlert.objects.create(alert_id=aid, diaobject_id=aid, diasource_id=aid,
                                     alertsenttimestamp=None if unsent else when)
            if not unsent:
                sent[aid] = when
    return sent


def batch(rng, classifiers, sent, day) -> list[BrokerMessage]:
    """Messages ingested on ``day`` (UTC): about the day's alerts and late ones about earlier days,
    some about an alert never sent or unknown; delays from under a second to over 10^6 s."""
    ingest_day = START.replace(hour=0) + dt.timedelta(days=day)
    out = []
    for aid, when in sent.items():
        if when.date() > ingest_day.date() or rng.random() < 0.5:
            continue
        cid = rng.choice(classifiers)
        ingest = max(when, ingest_day) + dt.timedelta(seconds=rng.choice((0.3, 5, 700, 9e4, 2e6)) *
                                                      rng.uniform(0.5, 1.5))
        if ingest.date() != ingest_day.date():
            ingest = ingest_day + dt.timedelta(hours=rng.uniform(0, 23.9))
        hdr = None if rng.random() < 0.1 else ingest - dt.timedelta(seconds=rng.uniform(0, 30))
        out.append(message(cid, aid, ingest, hdr))
    out.append(message(rng.choice(classifiers), 999999, ingest_day + dt.timedelta(hours=3),
                       ingest_day + dt.timedelta(hours=2)))  # an alert the TOM never sent
    rng.shuffle(out)
    return out


def message(cid, aid, ingest, hdr) -> BrokerMessage:
    return BrokerMessage(streammessage_id=-1, topicname="REST_push", alert_id=aid, diasource_id=aid,
                         descingesttimestamp=ingest, brokeringesttimestamp=ingest, msghdrtimestamp=hdr,
                         classifier_id=cid, classid=[2222], probability=[1.0])


def bin_of(seconds: float) -> int:
    return min(NBINS, math.floor(math.log10(max(seconds, 1.0)) / (6.0 / NBINS)) + 1)


def definition(sent, brokers) -> dict:
    """Every weekly and cumulative histogram, computed in Python from every stored message."""
    hists = defaultdict(lambda: [0] * NBINS)
    for m in BrokerMessage.objects.all():
        alert = sent.get(m.alert_id)
        week = (m.descingesttimestamp - dt.timedelta(days=m.descingesttimestamp.weekday())).date()
        delays = {"alert_to_tom": alert and (m.descingesttimestamp - alert).total_seconds(),
                  "broker": alert and m.msghdrtimestamp and (m.msghdrtimestamp - alert).total_seconds(),
                  "tom": m.msghdrtimestamp and (m.descingesttimestamp - m.msghdrtimestamp).total_seconds()}
        for kind, seconds in delays.items():
            if seconds is None:
                continue
            for key in ((brokers[m.classifier_id], m.classifier_id, week, kind),
                        (brokers[m.classifier_id], None, week, kind),
                        (brokers[m.classifier_id], m.classifier_id, None, kind),
                        (brokers[m.classifier_id], None, None, kind)):
                hists[key][bin_of(seconds) - 1] += 1
    return {key: (sum(counts), counts) for key, counts in hists.items()}


def stored() -> dict:
    return {(h.brokername, h.classifier_id, h.week, h.kind): (h.nmessages, h.counts)
            for h in DelayHistogram.objects.all()}


def delays(*args: str) -> None:
    call_command("update_metrics", "--only", "delays", *args, stdout=StringIO())


def test_daily_runs_equal_full_recompute_and_the_definition():
    rng = random.Random(20261207)
    sent = make_alerts(rng)
    classifiers = {}
    for broker, name in (("A", "x"), ("A", "y"), ("B", "z")):
        c = BrokerClassifier.objects.create(brokername=broker, brokerversion="1", classifiername=name,
                                            classifierparams="p")
        classifiers[c.classifier_id] = broker
    delays()  # an empty campaign
    assert not DelayHistogram.objects.exists()
    for day in range(DAYS):
        msgs = batch(rng, list(classifiers), sent, day)
        half = len(msgs) // 2
        BrokerMessage.objects.bulk_create(msgs[:half])
        delays()  # a run in the middle of the day: the day is recounted by the next run
        BrokerMessage.objects.bulk_create(msgs[half:])
        delays()
        assert stored() == definition(sent, classifiers), f"day {day}"
    assert re.fullmatch(r"\d+ new messages, 0 alerts re-dated", MetricRun.objects.get(family="delays").note)
    # the weeks are the sums of the stored days
    for (_broker, cid, week, kind), (n, counts) in stored().items():
        if cid is None or week is None:
            continue
        days = DelayHistogramDay.objects.filter(classifier_id=cid, kind=kind, day__gte=week,
                                                day__lt=week + dt.timedelta(days=7))
        assert sum(d.nmessages for d in days) == n
        assert [sum(col) for col in zip(*(d.counts for d in days), strict=True)] == counts
    incremental = stored()
    delays("--full")
    assert stored() == incremental
    assert MetricRun.objects.get(family="delays").note == "all days"
    delays()  # nothing new: nothing changes
    assert stored() == incremental


def test_alerts_sent_late_resent_or_unsent_move_their_messages_delays():
    """A message may arrive before the TOM records its alert as sent; the demo re-sends nights (new
    sent time) and un-sends them (NULL); an alert may be stored already sent. Each run follows."""
    rng = random.Random(5)
    sent = make_alerts(rng)
    c = BrokerClassifier.objects.create(brokername="A", brokerversion="1", classifiername="x",
                                        classifierparams="p")
    BrokerMessage.objects.bulk_create(batch(rng, [c.classifier_id], sent, 4))
    unsent = PPDBAlert.objects.filter(alertsenttimestamp=None).order_by("alert_id")[0].alert_id
    BrokerMessage.objects.bulk_create([message(c.classifier_id, unsent, START + dt.timedelta(days=3),
                                               START + dt.timedelta(days=3))])  # before the TOM sent it
    delays()
    PPDBAlert.objects.filter(alert_id=unsent).update(alertsenttimestamp=START + dt.timedelta(days=2))
    first = sorted(sent)[:5]
    BrokerMessage.objects.bulk_create([message(c.classifier_id, 1001, START + dt.timedelta(days=1), None),
                                       message(c.classifier_id, 2002, START + dt.timedelta(days=2), None)])
    PPDBAlert.objects.filter(alert_id__in=first[:3]).update(alertsenttimestamp=START + dt.timedelta(days=9))
    PPDBAlert.objects.filter(alert_id__in=first[3:]).update(alertsenttimestamp=None)
    PPDBAlert.objects.filter(alert_id=first[0]).update(alertsenttimestamp=START + dt.timedelta(days=10))
    PPDBDiaSource.objects.create(diasource_id=77, diaobject_id=1001, midpointtai=60001.0, filtername="g",
                                 ra=1.0, decl=2.0, psflux=1, psfluxerr=1, snr=1)
    PPDBAlert.objects.create(alert_id=77, diaobject_id=1001, diasource_id=77, alertsenttimestamp=START)
    BrokerMessage.objects.bulk_create([message(c.classifier_id, 77, START + dt.timedelta(hours=2), None)])
    delays()
    now = dict(PPDBAlert.objects.exclude(alertsenttimestamp=None)
               .values_list("alert_id", "alertsenttimestamp"))
    assert MetricRun.objects.get(family="delays").note == "3 new messages, 7 alerts re-dated"
    assert stored() == definition(now, {c.classifier_id: "A"})
    incremental = stored()
    delays("--full")
    assert stored() == incremental


def test_deleting_messages_makes_the_next_run_a_full_one():
    rng = random.Random(3)
    sent = make_alerts(rng)
    c = BrokerClassifier.objects.create(brokername="A", brokerversion="1", classifiername="x",
                                        classifierparams="p")
    BrokerMessage.objects.bulk_create(batch(rng, [c.classifier_id], sent, 2))
    delays()
    BrokerMessage.objects.filter(alert_id__in=sorted(sent)[:4]).delete()  # by hand: no log can follow
    assert not MetricRun.objects.filter(family="delays").exists()
    delays()
    assert MetricRun.objects.get(family="delays").note == "all days"
    assert stored() == definition(sent, {c.classifier_id: "A"})
