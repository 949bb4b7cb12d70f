"""Each metric on hand-built data (metrics_data) where every number is known exactly."""

import datetime as dt
from io import StringIO

import metrics_data
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from desctom.elasticc2.models import PPDBAlert
from desctom.metrics.models import (
    AlertsPerHour,
    CompletenessDay,
    ConfusionCell,
    DelayHistogram,
    MetricRun,
    ProbVsTime,
)
from desctom.metrics.workers.families import FAMILIES

pytestmark = pytest.mark.django_db
D = dt.date
W1, W2, W4 = D(2025, 3, 3), D(2025, 3, 10), D(2025, 3, 24)


@pytest.fixture
def ids():
    ids = metrics_data.load()
    call_command("update_metrics", stdout=StringIO())
    return ids


def hist(**bins):
    """A 24-bin histogram from {"b<bin>": count} with 1-based bin numbers."""
    counts = [0] * 24
    for key, n in bins.items():
        counts[int(key[1:]) - 1] = n
    return counts


def delay_rows(**filters):
    return {(h.week, h.kind): (h.nmessages, h.counts) for h in DelayHistogram.objects.filter(**filters)}


def test_alerts_per_hour(ids):
    assert sorted(AlertsPerHour.objects.values_list("day", "hour", "nalerts")) == [
        (D(2025, 3, 3), 10, 5), (D(2025, 3, 3), 11, 5), (D(2025, 3, 10), 5, 5)]


def test_delay_histograms_per_classifier_week_and_cumulative(ids):
    assert delay_rows(classifier_id=ids["C1"]) == {
        (W1, "alert_to_tom"): (10, hist(b9=10)), (W1, "broker"): (10, hist(b9=10)),
        (W1, "tom"): (10, hist(b2=10)),
        (W2, "alert_to_tom"): (6, hist(b9=6)), (W2, "broker"): (6, hist(b9=6)),
        (W2, "tom"): (6, hist(b2=5, b3=1)),
        (None, "alert_to_tom"): (16, hist(b9=16)), (None, "broker"): (16, hist(b9=16)),
        (None, "tom"): (16, hist(b2=15, b3=1)),
    }
    assert delay_rows(classifier_id=ids["C2"]) == {
        (W1, "alert_to_tom"): (3, hist(b15=3)), (W1, "broker"): (3, hist(b15=3)),
        (W1, "tom"): (3, hist(b1=3)),
        (W4, "alert_to_tom"): (1, hist(b24=1)),  # 2e6 s: clipped into the last bin; no broker timestamp
        (None, "alert_to_tom"): (4, hist(b15=3, b24=1)), (None, "broker"): (3, hist(b15=3)),
        (None, "tom"): (3, hist(b1=3)),  # 0.5 s: clipped into the first bin
    }
    assert delay_rows(classifier_id=ids["C3"]) == {  # the unknown alert has only a TOM delay
        (W1, "alert_to_tom"): (1, hist(b8=1)), (W1, "broker"): (1, hist(b7=1)),
        (W1, "tom"): (2, hist(b7=2)),
        (None, "alert_to_tom"): (1, hist(b8=1)), (None, "broker"): (1, hist(b7=1)),
        (None, "tom"): (2, hist(b7=2)),
    }
    broker_a = delay_rows(brokername="BrokerA", classifier_id__isnull=True)
    assert broker_a[(None, "alert_to_tom")] == (20, hist(b9=16, b15=3, b24=1))
    assert broker_a[(None, "tom")] == (19, hist(b1=3, b2=15, b3=1))
    assert broker_a[(W4, "alert_to_tom")] == (1, hist(b24=1))
    assert delay_rows(brokername="BrokerB", classifier_id__isnull=True)[(None, "tom")] == (2, hist(b7=2))


def test_completeness_per_classifier_and_day(ids):
    got = {(c.classifier_id, c.day): (c.nsent, c.nclassified) for c in CompletenessDay.objects.all()}
    assert got == {
        (ids["C1"], D(2025, 3, 3)): (10, 10), (ids["C1"], D(2025, 3, 10)): (5, 5),  # a duplicate counts once
        (ids["C2"], D(2025, 3, 3)): (10, 4), (ids["C2"], D(2025, 3, 10)): (5, 0),
        (ids["C3"], D(2025, 3, 3)): (10, 1), (ids["C3"], D(2025, 3, 10)): (5, 0),
    }


def test_confusion_matrices_counts_and_both_normalisations(ids):
    cells = {}
    for c in ConfusionCell.objects.all():
        cells.setdefault(c.classifier_id, {})[(c.true_classid, c.pred_classid)] = c.nobjects
    # C1: object 1 latest source says Ia, object 5 Ib/c, object 2 Ib/c (the later of two messages),
    # object 3 KN (a tie goes to the first listed); object 4's gentype is not in the taxonomy
    assert cells[ids["C1"]] == {(2222, 2222): 1, (2222, 2223): 1, (2223, 2223): 1, (2232, 2232): 1}
    # C2: object 1's latest classified source is k = 1
    assert cells[ids["C2"]] == {(2222, 2222): 1, (2223, 2232): 1, (2232, 2232): 1}
    assert cells[ids["C3"]] == {(2222, -1): 1}  # class 111 is not in the taxonomy: other/unknown

    from desctom.metrics.queries.figures import confusion_heatmap

    by_true = confusion_heatmap(cells[ids["C1"]], "true", "t")["data"][0]
    assert by_true["y"] == ["2222 Ia", "2223 Ib/c", "2232 KN"]
    assert by_true["x"] == ["2222 Ia", "2223 Ib/c", "2232 KN"]
    assert by_true["z"] == [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    by_pred = confusion_heatmap(cells[ids["C1"]], "pred", "t")["data"][0]
    assert by_pred["z"] == [[1.0, 0.5, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]]
    c2_pred = confusion_heatmap(cells[ids["C2"]], "pred", "t")["data"][0]
    assert c2_pred["x"] == ["2222 Ia", "2232 KN"] and c2_pred["z"] == [[1.0, 0.0], [0.0, 0.5], [0.0, 0.5]]
    unknown = confusion_heatmap(cells[ids["C3"]], "true", "t")["data"][0]
    assert unknown["x"] == ["other/unknown"] and unknown["z"] == [[1.0]]


def test_mean_probability_vs_days_from_peak(ids):
    got = {(p.true_classid, p.relday, p.classid): (pytest.approx(p.meanprob, abs=1e-6), p.nmessages)
           for p in ProbVsTime.objects.filter(classifier_id=ids["C1"])}
    assert got == {
        (2222, -10, 2222): (0.8, 2), (2222, -10, 2223): (0.2, 2),  # objects 1 and 5
        (2222, 0, 2222): (0.6, 2), (2222, 0, 2223): (0.4, 2),
        (2222, 10, 2222): (0.6, 2), (2222, 10, 2223): (0.4, 2),
        (2223, -10, 2222): (0.7, 1), (2223, -10, 2223): (0.3, 1),
        (2223, 0, 2222): (0.7, 1), (2223, 0, 2223): (0.3, 1),
        (2223, 10, 2222): (0.1, 1), (2223, 10, 2223): (0.9, 1),  # the later message of the source
        (2232, -10, 2232): (1.0, 1), (2232, 0, 2232): (1.0, 1),
        (2232, 10, 2232): (0.5, 1), (2232, 10, 2222): (0.5, 1),
    }
    c3 = dict(ProbVsTime.objects.filter(classifier_id=ids["C3"]).values_list("classid", "meanprob"))
    assert c3 == {111: pytest.approx(0.9), 2222: pytest.approx(0.1)}


def test_incremental_runs_equal_a_full_recompute(ids):
    # alerts k = 3 are sent a day later; the next run adds that day and the week's new messages
    PPDBAlert.objects.filter(alert_id__in=[metrics_data.sid(o, 3) for o in (1, 2)]).update(
        alertsenttimestamp=dt.datetime(2025, 3, 11, 23, 59, tzinfo=dt.UTC))
    call_command("update_metrics", stdout=StringIO())
    incremental = snapshot()
    assert (D(2025, 3, 11), 23, 2) in incremental["alertstream"]
    assert (ids["C1"], D(2025, 3, 11), 2, 0) in incremental["completeness"]
    call_command("update_metrics", "--full", stdout=StringIO())
    assert snapshot() == incremental


def snapshot():
    return {
        "alertstream": sorted(AlertsPerHour.objects.values_list("day", "hour", "nalerts")),
        "delays": sorted(DelayHistogram.objects.values_list("brokername", "classifier_id", "week", "kind",
                                                            "nmessages", "counts"), key=str),
        "completeness": sorted(CompletenessDay.objects.values_list("classifier_id", "day", "nsent",
                                                                   "nclassified")),
        "confusion": sorted(ConfusionCell.objects.values_list("classifier_id", "true_classid", "pred_classid",
                                                              "nobjects")),
    }


def test_command_progress_only_and_failure_names_the_family(monkeypatch):
    metrics_data.load()
    out = StringIO()
    call_command("update_metrics", "--only", "confusion", "alertstream", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "alertstream: computing ..."
    assert lines[1].startswith("alertstream: 3 rows (all days) in ")
    assert lines[3].startswith("confusion: 8 rows (full) in ")
    assert set(MetricRun.objects.values_list("family", flat=True)) == {"alertstream", "confusion"}

    def broken(cur, full=False):
        cur.execute("DELETE FROM metrics_completenessday")
        cur.execute("SELECT no_such_column FROM elasticc2_brokermessage")

    monkeypatch.setattr(FAMILIES["completeness"], "compute", broken)
    err = StringIO()
    with pytest.raises(CommandError, match="metric families failed: completeness"):
        call_command("update_metrics", stdout=StringIO(), stderr=err)
    assert "metric family completeness failed (rolled back)" in err.getvalue()
    assert "no_such_column" in err.getvalue()
    assert set(MetricRun.objects.values_list("family", flat=True)) == {
        "alertstream", "delays", "confusion", "probvstime"}  # the other families were still computed
    with pytest.raises(CommandError, match="positive"):
        call_command("update_metrics", "--loop", "0", stdout=StringIO())


def test_empty_database():
    call_command("update_metrics", stdout=StringIO())
    assert {r.family: r.rows for r in MetricRun.objects.all()} == dict.fromkeys(FAMILIES, 0)
