"""Confusion matrices and probability vs days from peak kept incrementally equal a full recompute and an
independent computation, on a campaign advanced night by night with late and out-of-order messages."""

from __future__ import annotations

import datetime as dt
import math
import random
from io import StringIO

import metrics_data
import pytest
from django.core.management import call_command
from django.db import connection

from desctom.elasticc2.models import (
    BrokerClassifier,
    BrokerMessage,
    BrokerSourceIds,
    DiaObjectTruth,
    PPDBDiaObject,
    PPDBDiaSource,
)
from desctom.elasticc2.workers.source_updater import rebuild_latest_classifications, update_known_tables
from desctom.metrics.models import ConfusionCell, MetricRun, ProbVsTime
from desctom.metrics.queries.probvstime import RELDAY_MAX, RELDAY_MIN

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
GENTYPES = (10, 20, 50, 999)  # Ia, Ib/c, KN, and one not in the taxonomy
CLASSES = (2222, 2223, 2232, 2242, 111)  # 111 is not in the taxonomy: "other/unknown"
NIGHTS, OBJECTS, PEAK = 8, 24, 60010.0


def campaign(rng: random.Random):
    """PPDB objects with truth, one detection per object and night (some nights skipped)."""
    sources = {}  # night -> [(source id, object id, mjd)]
    for obj in range(1, OBJECTS + 1):
        PPDBDiaObject.objects.create(diaobject_id=obj, ra=1.0, decl=2.0)
        DiaObjectTruth.objects.bulk_create([truth(obj, GENTYPES[obj % len(GENTYPES)])])
        for night in range(NIGHTS):
            if rng.random() < 0.2:
                continue
            sid = obj * 1000 + night
            mjd = PEAK - 25 + 15 * night + rng.random()  # some detections fall outside [-20, 90]
            PPDBDiaSource.objects.create(diasource_id=sid, diaobject_id=obj, midpointtai=mjd, filtername="r",
                                         ra=1.0, decl=2.0, psflux=100, psfluxerr=1, snr=100)
            sources.setdefault(night, []).append((sid, obj, mjd))
    return sources


def truth(obj: int, gentype: int) -> DiaObjectTruth:
    return metrics_data.truth(obj, gentype, PEAK)


def classification(rng: random.Random) -> tuple[list[int], list[float]]:
    k = rng.choice((0, 1, 2, 3))  # 0: a message that lists no class
    ids = rng.sample(CLASSES, k)
    weights = [rng.choice((0.25, 0.5, 0.5, 1.0)) for _ in ids]  # ties happen
    total = sum(weights) or 1.0
    return ids, [w / total for w in weights]


def night_messages(rng, classifiers, sources, night, clock) -> list[BrokerMessage]:
    """This night's messages about this night's detections, plus late ones about earlier nights (some
    replacing an earlier answer, some about a detection no classifier had answered), in random order."""
    todo = [(c, s) for s in sources.get(night, []) for c in classifiers if rng.random() < 0.8]
    for past in range(night):
        todo += [(c, s) for s in sources.get(past, []) for c in classifiers if rng.random() < 0.15]
    rng.shuffle(todo)
    out = []
    for i, (c, (sid, _obj, _mjd)) in enumerate(todo):
        ids, probs = classification(rng)
        out.append(BrokerMessage(streammessage_id=-1, topicname="REST_push", alert_id=sid, diasource_id=sid,
                                 descingesttimestamp=clock + dt.timedelta(seconds=i),
                                 brokeringesttimestamp=clock + dt.timedelta(seconds=i),
                                 classifier_id=c, classid=ids, probability=probs))
    return out


def expected() -> tuple[dict, dict]:
    """The two metrics computed in Python from every message of a known source (their definitions)."""
    known = {sid: (obj, mjd) for sid, obj, mjd in PPDBDiaSource.objects.filter(
        diasource_id__in=list(BrokerMessage.objects.values_list("diasource_id", flat=True))
    ).values_list("diasource_id", "diaobject_id", "midpointtai")}
    with connection.cursor() as cur:
        cur.execute("SELECT gentype, classid FROM elasticc2_classidofgentype WHERE exactmatch")
        true_class = {}
        for gentype, classid in cur.fetchall():
            true_class.setdefault(gentype, []).append(classid)
        cur.execute("SELECT DISTINCT classid FROM elasticc2_gentypeofclassid")
        taxonomy = {r[0] for r in cur.fetchall()}
    gentype = dict(DiaObjectTruth.objects.values_list("diaobject_id", "gentype"))
    per_object, per_source = {}, {}
    for m in BrokerMessage.objects.filter(diasource_id__in=list(known)):
        obj, mjd = known[m.diasource_id]
        key = (mjd, m.descingesttimestamp, m.brokermessage_id)
        if (m.classifier_id, obj) not in per_object or key > per_object[(m.classifier_id, obj)][0]:
            per_object[(m.classifier_id, obj)] = (key, m)
        skey = (m.descingesttimestamp, m.brokermessage_id)
        if (m.classifier_id, m.diasource_id) not in per_source or skey > per_source[(m.classifier_id,
                                                                                     m.diasource_id)][0]:
            per_source[(m.classifier_id, m.diasource_id)] = (skey, m)
    confusion = {}
    for (cid, obj), (_k, m) in per_object.items():
        pairs = list(zip(m.classid, m.probability, strict=True))
        pred = max(pairs, key=lambda p: p[1])[0] if pairs else -1  # max keeps the first of equals
        for t in true_class.get(gentype[obj], []):
            cell = (cid, t, pred if pred in taxonomy else -1)
            confusion[cell] = confusion.get(cell, 0) + 1
    sums, counts = {}, {}
    for (cid, sid), (_k, m) in per_source.items():
        obj, mjd = known[sid]
        if not RELDAY_MIN <= mjd - PEAK < RELDAY_MAX + 1:
            continue
        for t in true_class.get(gentype[obj], []):
            cell = (cid, t, math.floor(mjd - PEAK))
            counts[cell] = counts.get(cell, 0) + 1
            for c, p in zip(m.classid, m.probability, strict=True):
                sums[(*cell, c)] = sums.get((*cell, c), 0.0) + p
    means = {key: (pytest.approx(s / counts[key[:3]], abs=1e-6), counts[key[:3]]) for key, s in sums.items()}
    return {k: v for k, v in confusion.items() if v}, means


def stored() -> tuple[dict, dict, dict]:
    confusion = {(c, t, p): n for c, t, p, n in ConfusionCell.objects.values_list(
        "classifier_id", "true_classid", "pred_classid", "nobjects")}
    rows = ProbVsTime.objects.values_list("classifier_id", "true_classid", "relday", "classid", "meanprob",
                                          "nmessages", "probsum", "nlisted")
    exact = {r[:4]: r[4:] for r in rows}
    return confusion, {k: (v[0], v[1]) for k, v in exact.items()}, exact


def metrics(*args: str) -> None:
    call_command("update_metrics", "--only", "confusion", "probvstime", *args, stdout=StringIO())


def test_incremental_equals_full_and_the_definition_night_by_night():
    rng = random.Random(20261206)
    sources = campaign(rng)
    classifiers = [BrokerClassifier.objects.create(brokername="B", brokerversion="1", classifiername=n,
                                                   classifierparams="p").classifier_id
                   for n in ("x", "y", "z")]
    metrics()  # the first run of an empty campaign
    changes_seen = 0
    for night in range(NIGHTS):
        msgs = night_messages(rng, classifiers, sources, night, T0 + dt.timedelta(days=night))
        BrokerMessage.objects.bulk_create(msgs)
        BrokerSourceIds.objects.bulk_create([BrokerSourceIds(diasource_id=m.diasource_id) for m in msgs],
                                            ignore_conflicts=True)
        if night == 3:
            metrics()  # a run while the updater has not yet seen the night: nothing of it counts yet
        update_known_tables()
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM metrics_objectclasschange")
            changes_seen += cur.fetchone()[0]
        metrics()
        confusion, means, _ = stored()
        want_confusion, want_means = expected()
        assert confusion == want_confusion, f"night {night}"
        assert means == want_means, f"night {night}"
    assert changes_seen > 0
    assert {r.family: r.note for r in MetricRun.objects.all()} == dict.fromkeys(
        ("confusion", "probvstime"), "changes since the last run")
    incremental = stored()
    metrics("--full")
    assert stored()[0] == incremental[0]
    assert stored()[2] == incremental[2]  # bit for bit: exact sums, the same means
    metrics()  # nothing new: nothing changes
    assert stored()[2] == incremental[2]


def test_rows_leaving_the_latest_tables_leave_the_metrics():
    rng = random.Random(7)
    sources = campaign(rng)
    cid = BrokerClassifier.objects.create(brokername="B", brokerversion="1", classifiername="x",
                                          classifierparams="p").classifier_id
    msgs = night_messages(rng, [cid], sources, 2, T0)
    BrokerMessage.objects.bulk_create(msgs)
    update_known_tables(doall=True)
    metrics()
    assert ConfusionCell.objects.exists() and ProbVsTime.objects.exists()
    gone = sorted({m.diasource_id for m in msgs})[:5]
    with connection.cursor() as cur:  # a curator deletes some messages, then rebuilds the latest tables
        cur.execute("DELETE FROM elasticc2_brokermessage WHERE diasource_id = ANY(%s)", [gone])
    rebuild_latest_classifications()  # deletes every latest row and inserts them again
    metrics()
    incremental = stored()
    assert incremental[:2] == expected()
    metrics("--full")
    assert stored()[2] == incremental[2]
    with connection.cursor() as cur:  # emptied by TRUNCATE: the metrics empty too
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred checks
        cur.execute("TRUNCATE elasticc2_diaobjectlatestclassification, "
                    "elasticc2_diasourcelatestclassification")
    metrics()
    assert not ConfusionCell.objects.exists() and not ProbVsTime.objects.exists()
