"""Stored metric results: one table per metric family, plus when each family was last computed."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now


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


class DelayHistogramDay(models.Model):
    """One UTC day of one classifier's delay histogram (as :class:`DelayHistogram`): what the weekly rows
    are summed from, so that a run recounts the messages of one day, not of the whole current week."""

    id = models.BigAutoField(primary_key=True)  # rows are deleted and re-inserted every run
    brokername = models.CharField(max_length=100)
    classifier_id = models.BigIntegerField()
    day = models.DateField()
    kind = models.CharField(max_length=16)
    nmessages = models.BigIntegerField()
    counts = ArrayField(models.BigIntegerField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classifier_id", "day", "kind"],
                                               name="metrics_delayhistogramday_unique")]
        indexes = [models.Index(fields=["day"])]


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


class CompletenessSentDay(models.Model):
    """Alerts sent on one UTC day: kept apart from :class:`CompletenessDay` so that a classifier that
    appears later gets every earlier day with its ``nsent``."""

    day = models.DateField(unique=True)
    nsent = models.BigIntegerField()


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
    observed ``relday`` days after peak (a class a message does not list counts as probability 0).

    ``probsum`` (the exact sum of the probabilities, each float4 as PostgreSQL converts it to numeric)
    and ``nlisted`` (the messages listing the class) let runs add and remove single messages exactly.
    """

    id = models.BigAutoField(primary_key=True)  # rows are deleted and re-inserted every run
    classifier_id = models.BigIntegerField()
    true_classid = models.IntegerField()
    relday = models.SmallIntegerField()
    classid = models.IntegerField()
    meanprob = models.FloatField()
    nmessages = models.BigIntegerField()
    probsum = models.DecimalField(max_digits=80, decimal_places=60, default=0)
    nlisted = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classifier_id", "true_classid", "relday", "classid"],
                                               name="metrics_probvstime_unique")]


class ProbVsTimeCell(models.Model):
    """The number of messages in one (classifier, true class, day from peak) of :class:`ProbVsTime`."""

    id = models.BigAutoField(primary_key=True)
    classifier_id = models.BigIntegerField()
    true_classid = models.IntegerField()
    relday = models.SmallIntegerField()
    nmessages = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classifier_id", "true_classid", "relday"],
                                               name="metrics_probvstimecell_unique")]


class ObjectClassChange(models.Model):
    """Change log of ``elasticc2_diaobjectlatestclassification`` for the confusion matrices.

    Written by statement triggers (migration 0002) of every insert, update and delete of that table:
    ``delta`` +1 for a row that appeared, -1 for one that went, with the class it predicts (highest
    probability, ties: first listed; -1 for none). ``update_metrics`` consumes it; ``logged_at`` of
    the oldest row says how long a change has waited (``/healthz``'s ``metrics`` component).
    """

    id = models.BigAutoField(primary_key=True)
    classifier_id = models.BigIntegerField()
    diaobject_id = models.BigIntegerField()
    pred_classid = models.IntegerField()
    delta = models.IntegerField()
    logged_at = models.DateTimeField(db_default=Now())


class SourceClassChange(models.Model):
    """Change log of ``elasticc2_diasourcelatestclassification`` for probability vs days from peak.

    Written by statement triggers (migration 0002): ``delta`` +1 for a (source, classifier) row that
    appeared with message ``brokermessage_id``, -1 for one that went. ``update_metrics`` consumes it.
    """

    id = models.BigAutoField(primary_key=True)
    classifier_id = models.BigIntegerField()
    diasource_id = models.BigIntegerField()
    diaobject_id = models.BigIntegerField()
    midpointtai = models.FloatField()
    brokermessage_id = models.BigIntegerField()
    delta = models.IntegerField()
    logged_at = models.DateTimeField(db_default=Now())


class NewMessage(models.Model):
    """Log of broker messages stored since the ``delays`` and ``completeness`` families last ran.

    Written by a statement trigger on ``elasticc2_brokermessage`` inserts (migration 0005): one row per
    message and family. The family's run takes its rows (in the same snapshot as the messages it reads),
    so each message is counted exactly once whatever the timestamps say.
    """

    id = models.BigAutoField(primary_key=True)
    family = models.CharField(max_length=32)
    brokermessage_id = models.BigIntegerField()
    classifier_id = models.BigIntegerField()
    alert_id = models.BigIntegerField()
    logged_at = models.DateTimeField(db_default=Now())


class SentChange(models.Model):
    """Log of ``elasticc2_ppdbalert.alertsenttimestamp`` changes (an alert sent, re-sent or un-sent) for
    the ``delays`` and ``completeness`` families: ``old_sent`` is the value before the change (NULL:
    not sent before). Written by triggers on ``elasticc2_ppdbalert`` (migration 0005)."""

    id = models.BigAutoField(primary_key=True)
    family = models.CharField(max_length=32)
    alert_id = models.BigIntegerField()
    old_sent = models.DateTimeField(null=True)
    logged_at = models.DateTimeField(db_default=Now())
