"""Metric pages: every number comes from the ``metrics_*`` tables, every query is bounded."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.views.generic import TemplateView

from desctom.elasticc2.models import BrokerClassifier
from desctom.metrics.models import (
    AlertsPerHour,
    CompletenessDay,
    ConfusionCell,
    DelayHistogram,
    MetricRun,
    ProbVsTime,
)
from desctom.metrics.queries import figures
from desctom.metrics.workers.families import FAMILIES

MAX_CLASSIFIERS = 1000
DAYS_PER_PAGE = 28
COMPLETENESS_DAYS_PER_PAGE = 60


def classifier_labels() -> dict[int, str]:
    """classifier_id -> "broker version classifier params", ordered by those fields."""
    rows = BrokerClassifier.objects.order_by("brokername", "brokerversion", "classifiername",
                                             "classifierparams", "classifier_id")[:MAX_CLASSIFIERS]
    return {c.classifier_id: " ".join(str(v) for v in (c.brokername, c.brokerversion, c.classifiername,
                                                       c.classifierparams) if v)
            for c in rows}


def as_int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_date(value):
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class MetricPage(LoginRequiredMixin, TemplateView):
    """A metric page: says when its family was computed; subclasses add ``figures`` (id -> figure)."""

    family = ""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["run"] = MetricRun.objects.filter(family=self.family).first()
        ctx["family_title"] = FAMILIES[self.family].TITLE if self.family else "Metrics"
        ctx.update(self.metric_context(self.request.GET))
        ctx["figure_ids"] = list(ctx.get("figures", {}))
        return ctx

    def metric_context(self, params) -> dict:
        return {}

    post = TemplateView.get


class IndexView(MetricPage):
    """``/metrics/``: links, and when each family was computed."""

    template_name = "metrics/index.html"

    def metric_context(self, params):
        runs = {r.family: r for r in MetricRun.objects.all()}
        return {"families": [{"name": n, "title": m.TITLE, "url": f"/metrics/{n}/", "run": runs.get(n)}
                             for n, m in FAMILIES.items()]}


class AlertStreamView(MetricPage):
    """``/metrics/alertstream/?page=N&day=YYYY-MM-DD``: alerts sent per UTC hour, 28 days per page."""

    template_name = "metrics/alertstream.html"
    family = "alertstream"

    def metric_context(self, params):
        days_qs = AlertsPerHour.objects.order_by("-day").values_list("day", flat=True).distinct()
        page = Paginator(days_qs, DAYS_PER_PAGE).get_page(params.get("page"))
        days = list(page.object_list)
        if not days:
            return {"page": page, "figures": {}}
        table = {(r.day, r.hour): r.nalerts
                 for r in AlertsPerHour.objects.filter(day__gte=days[-1], day__lte=days[0])}
        day = as_date(params.get("day"))
        if day is None or day not in days:
            day = days[0]
        counts = {h: n for (d, h), n in table.items() if d == day}
        return {"page": page, "days": days, "day": day,
                "figures": {"alertstream-day": figures.hours_bar(day, counts),
                            "alertstream-heatmap": figures.hours_heatmap(days, table)}}


class DelaysView(MetricPage):
    """``/metrics/delays/?who=b:BROKER|c:ID&week=cumulative|YYYY-MM-DD``: three delay histograms."""

    template_name = "metrics/delays.html"
    family = "delays"

    def metric_context(self, params):
        labels = classifier_labels()
        brokers = list(DelayHistogram.objects.filter(classifier_id__isnull=True, week__isnull=True)
                       .order_by("brokername").values_list("brokername", flat=True)
                       .distinct()[:MAX_CLASSIFIERS])
        choices = [(f"b:{b}", f"{b} (all classifiers)") for b in brokers]
        choices += [(f"c:{cid}", label) for cid, label in labels.items()]
        who = params.get("who") or (choices[0][0] if choices else "")
        if who not in dict(choices):
            who = choices[0][0] if choices else ""
        rows = DelayHistogram.objects.none()
        if who.startswith("b:"):
            rows = DelayHistogram.objects.filter(brokername=who[2:], classifier_id__isnull=True)
        elif who.startswith("c:"):
            rows = DelayHistogram.objects.filter(classifier_id=as_int(who[2:]))
        weeks = list(rows.filter(week__isnull=False).order_by("-week")
                     .values_list("week", flat=True).distinct())
        week = as_date(params.get("week"))
        if week not in weeks:
            week = None
        hists = {h.kind: h for h in rows.filter(week=week)}  # week None: the cumulative rows
        what = dict(choices).get(who, "")
        span = f"week of {week.isoformat()}" if week else "cumulative"
        figs = {f"delays-{kind}": figures.delay_hist(kind, hists[kind].nmessages, hists[kind].counts,
                                                     f"{what}, {span}")
                for kind in ("alert_to_tom", "broker", "tom") if kind in hists}
        return {"choices": choices, "who": who, "weeks": weeks, "week": week, "figures": figs}


class CompletenessView(MetricPage):
    """``/metrics/completeness/?classifier=ID&page=N``: classified fraction per day, 60 days per page."""

    template_name = "metrics/completeness.html"
    family = "completeness"

    def metric_context(self, params):
        labels = classifier_labels()
        cid = as_int(params.get("classifier"))
        if cid not in labels:
            cid = None
        days_qs = CompletenessDay.objects.order_by("-day").values_list("day", flat=True).distinct()
        page = Paginator(days_qs, COMPLETENESS_DAYS_PER_PAGE).get_page(params.get("page"))
        days = sorted(page.object_list)
        ctx = {"labels": labels, "classifier": cid, "page": page, "figures": {}, "rows": [],
               "keep": f"classifier={cid}&" if cid is not None else ""}
        if not days:
            return ctx
        rows = CompletenessDay.objects.filter(day__gte=days[0], day__lte=days[-1]).order_by("day")
        if cid is not None:
            rows = rows.filter(classifier_id=cid)
        series: dict[str, dict] = {}
        for r in rows[:COMPLETENESS_DAYS_PER_PAGE * MAX_CLASSIFIERS]:
            if r.classifier_id in labels:
                series.setdefault(labels[r.classifier_id], {})[r.day] = (
                    r.nclassified / r.nsent if r.nsent else None)
                if cid is not None:
                    ctx["rows"].append(r)
        ctx["figures"] = {"completeness": figures.completeness_lines(days, series)}
        return ctx


class ConfusionView(MetricPage):
    """``/metrics/confusion/?classifier=ID&norm=true|pred``: latest classification vs truth."""

    template_name = "metrics/confusion.html"
    family = "confusion"

    def metric_context(self, params):
        labels = classifier_labels()
        cid = as_int(params.get("classifier"))
        if cid not in labels:
            cid = next(iter(labels), None)
        norm = "pred" if params.get("norm") == "pred" else "true"
        cells = {(c.true_classid, c.pred_classid): c.nobjects
                 for c in ConfusionCell.objects.filter(classifier_id=cid)[:100_000]}
        figs = {}
        if cells:
            by = ("true class (rows sum to 100%)" if norm == "true"
                  else "predicted class (columns sum to 100%)")
            figs["confusion"] = figures.confusion_heatmap(cells, norm, f"{labels[cid]}: normalised by {by}")
        return {"labels": labels, "classifier": cid, "norm": norm, "figures": figs,
                "nobjects": sum(cells.values())}


class ProbVsTimeView(MetricPage):
    """``/metrics/probvstime/?classifier=ID&trueclass=CLASSID``: mean probability vs days from peak."""

    template_name = "metrics/probvstime.html"
    family = "probvstime"

    def metric_context(self, params):
        labels = classifier_labels()
        cid = as_int(params.get("classifier"))
        if cid not in labels:
            cid = next(iter(labels), None)
        trues = list(ProbVsTime.objects.filter(classifier_id=cid).order_by("true_classid")
                     .values_list("true_classid", flat=True).distinct())
        true_class = as_int(params.get("trueclass"))
        if true_class not in trues:
            true_class = trues[0] if trues else None
        series: dict[int, dict[int, float]] = {}
        nmessages = 0
        for r in ProbVsTime.objects.filter(classifier_id=cid, true_classid=true_class)[:100_000]:
            series.setdefault(r.classid, {})[r.relday] = r.meanprob
        if series:
            nmessages = sum(ProbVsTime.objects.filter(classifier_id=cid, true_classid=true_class)
                            .order_by("relday").distinct("relday").values_list("nmessages", flat=True))
        figs = {}
        if series:
            title = f"{labels[cid]}: true class {figures.class_label(true_class)}"
            figs["probvstime"] = figures.prob_lines(series, title)
        return {"labels": labels, "classifier": cid, "trues": [(t, figures.class_label(t)) for t in trues],
                "trueclass": true_class, "figures": figs, "nmessages": nmessages}
