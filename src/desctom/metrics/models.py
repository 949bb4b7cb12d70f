"""Stored metric results: one table per metric family, plus when each family was last computed."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class MetricRun(models.Model):
    """The latest computation of one metric family (one row per family)."""

    family = models.CharField(max_length=32, unique=True)
    computed_at = models.DateTimeField()
    seconds = models.FloatField()
    rows = models.BigIntegerField()
    note = models.TextField(default="")


class AlertsPerHour(models.Model):
    """Alerts sent in one UTC hour of one UTC day."""

    id = models.BigAutoField(primary_key=True)  # rows are deleted and re-inserted every run
    day = models.DateField()
    hour = models.SmallIntegerField()
    nalerts = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "hour"], name="metrics_alertsperhour_unique")]


class DelayHistogram(models.Model):
    """Histogram of log10(delay / s) in 0.25 dex bins over [0, 6] (clipped), of one broker or classifier.

    ``classifier_id`` NULL: all classifiers of ``brokername``. ``week`` NULL: cumulative; else the
    Monday (UTC) starting the week of the messages' TOM ingest. ``kind``: ``alert_to_tom``,
    ``broker`` or ``tom``.
    """

    id = models.BigAutoField(primary_key=True)  # rows are deleted and re-inserted every run
    brokername = models.CharField(max_length=100)
    classifier_id = models.BigIntegerField(null=True)
    week = models.DateField(null=True)
    kind = models.CharField(max_length=16)
    nmessages = models.BigIntegerField()
    counts = ArrayField(models.BigIntegerField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brokername", "classifier_id", "week", "kind"],
                                               name="metrics_delayhistogram_unique", nulls_distinct=False)]
        indexes = [models.Index(fields=["classifier_id", "week"])]


class CompletenessDay(models.Model):
    """Of the alerts sent on one UTC day, how many have at least one message from one classifier."""

    id = models.BigAutoField(primary_key=True)  # rows are deleted and re-inserted every run
    classifier_id = models.BigIntegerField()
    day = models.DateField()
    nsent = models.BigIntegerField()
    nclassified = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classifier_id", "day"],
                                               name="metrics_completenessday_unique")]
        indexes = [models.Index(fields=["day"])]


class ConfusionCell(models.Model):
    """Objects of true class ``true_classid`` whose latest classification by a classifier is ``pred_classid``.

    ``pred_classid`` -1: a class id absent from the taxonomy ("other/unknown").
    """

    id = models.BigAutoField(primary_key=True)  # rows are deleted and re-inserted every run
    classifier_id = models.BigIntegerField()
    true_classid = models.IntegerField()
    pred_classid = models.IntegerField()
    nobjects = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classifier_id", "true_classid", "pred_classid"],
                                               name="metrics_confusioncell_unique")]


class ProbVsTime(models.Model):
    """Mean probability a classifier gives class ``classid`` to sources of true class ``true_classid``
    observed ``relday`` days after peak (a class a message does not list counts as probability 0)."""

    id = models.BigAutoField(primary_key=True)  # rows are deleted and re-inserted every run
    classifier_id = models.BigIntegerField()
    true_classid = models.IntegerField()
    relday = models.SmallIntegerField()
    classid = models.IntegerField()
    meanprob = models.FloatField()
    nmessages = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classifier_id", "true_classid", "relday", "classid"],
                                               name="metrics_probvstime_unique")]
