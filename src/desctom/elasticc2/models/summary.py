"""Per-object summaries and the TOM-target link (reference §2.2.5)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from tom_targets.models import Target

from desctom.elasticc2.models.brokers import BrokerClassifier
from desctom.elasticc2.models.fields import Float32Field
from desctom.elasticc2.models.photometry import DiaObject


class DiaObjectInfo(models.Model):
    """Per (known object, band): its first and latest detection, and max/latest forced photometry."""

    _id = models.BigAutoField(primary_key=True, db_column="_id")
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE)
    filtername = models.TextField(db_index=True)
    firstsource_id = models.BigIntegerField(null=True, db_index=True)
    firstsourceflux = models.FloatField(null=True)
    firstsourcefluxerr = models.FloatField(null=True)
    firstsourcemjd = models.FloatField(null=True, db_index=True)
    maxforcedsource_id = models.BigIntegerField(null=True, db_index=True)
    maxforcedsourceflux = models.FloatField(null=True)
    maxforcedsourcefluxerr = models.FloatField(null=True)
    maxforcedsourcemjd = models.FloatField(null=True, db_index=True)
    latestsource_id = models.BigIntegerField(null=True, db_index=True)
    latestsourceflux = models.FloatField(null=True)
    latestsourcefluxerr = models.FloatField(null=True)
    latestsourcemjd = models.FloatField(null=True, db_index=True)
    latestforcedsource_id = models.BigIntegerField(null=True, db_index=True)
    latestforcedsourceflux = models.FloatField(null=True)
    latestforcedsourcefluxerr = models.FloatField(null=True)
    latestforcedsourcemjd = models.FloatField(null=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["diaobject", "filtername"],
                                               name="diaobjectinfo_unique")]


class DiaObjectClassification(models.Model):
    """Latest top-4 classes of an object by a classifier (kept for schema compatibility; unused)."""

    _id = models.BigAutoField(primary_key=True, db_column="_id")
    diaobject = models.ForeignKey(DiaObjectInfo, db_column="diaobject_id", on_delete=models.CASCADE)
    classifier = models.ForeignKey(BrokerClassifier, db_column="classifier_id", on_delete=models.CASCADE)
    latestclass1id = models.SmallIntegerField(null=True)
    latestclass1prob = Float32Field(null=True)
    latestclass2id = models.SmallIntegerField(null=True)
    latestclass2prob = Float32Field(null=True)
    latestclass3id = models.SmallIntegerField(null=True)
    latestclass3prob = Float32Field(null=True)
    latestclass4id = models.SmallIntegerField(null=True)
    latestclass4prob = Float32Field(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["diaobject", "classifier"],
                                               name="diaobjectclassification_unique")]


class DiaObjectLatestClassification(models.Model):
    """Per (known object, classifier): the classifier's latest message about the object.

    "Latest" is the message about the object's latest detection (ties: the latest ingested, then
    the highest message id) — the order the consensus class of ``gethottransients`` uses. Kept up
    to date by ``update_elasticc2_sources`` from the messages of the sources it processes, in the
    same transaction that makes those sources known; rebuilt whole by
    :func:`desctom.elasticc2.workers.source_updater.rebuild_latest_classifications`. New in DESC TOM
    (the original
    recomputed nothing of the kind; its unused ``elasticc2_diaobjectclassification`` kept top-4s).
    """

    _id = models.BigAutoField(primary_key=True, db_column="_id")
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE,
                                  db_index=False)
    classifier = models.ForeignKey(BrokerClassifier, db_column="classifier_id", on_delete=models.CASCADE,
                                   db_index=False)
    diasource_id = models.BigIntegerField()
    midpointtai = models.FloatField()
    descingesttimestamp = models.DateTimeField()
    brokermessage_id = models.BigIntegerField()
    classid = ArrayField(models.SmallIntegerField())
    probability = ArrayField(Float32Field())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["diaobject", "classifier"],
                                               name="diaobjectlatestclassification_unique")]


class DiaSourceLatestClassification(models.Model):
    """Per (known source, classifier): the classifier's latest message about that detection.

    A pointer (``brokermessage_id``) with the keys that order an object's messages: ``diaobject_id``,
    the detection's ``midpointtai``, then ``descingesttimestamp`` and ``brokermessage_id``. It answers
    "each classifier's latest message about the object as of ``mjd_now``" with one short index scan
    per object (index ``elasticc2_dsrclatest_asof``) instead of reading all the object's messages,
    for questions about the past (``gethottransients`` with an earlier ``mjd_now``). Kept by
    ``update_elasticc2_sources`` with :class:`DiaObjectLatestClassification`. New in DESC TOM.
    """

    _id = models.BigAutoField(primary_key=True, db_column="_id")
    diasource_id = models.BigIntegerField()
    classifier = models.ForeignKey(BrokerClassifier, db_column="classifier_id", on_delete=models.CASCADE,
                                   db_index=False)
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE,
                                  db_index=False)
    midpointtai = models.FloatField()
    descingesttimestamp = models.DateTimeField()
    brokermessage_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["diasource_id", "classifier"],
                                               name="diasourcelatestclassification_unique")]
        indexes = [models.Index(fields=["diaobject", "classifier", "midpointtai", "descingesttimestamp",
                                        "brokermessage_id"], name="elasticc2_dsrclatest_asof")]


class DiaObjectConsensus(models.Model):
    """Per known object with classifications: the consensus class of its classifiers' latest messages.

    The probability vectors of the object's rows in :class:`DiaObjectLatestClassification` summed
    over classifiers, and the leaf class of the taxonomy with the highest sum (ties: the lower
    class id); ``classid`` is NULL when no classifier gave a leaf class a probability above 0.
    ``midpointtai`` is the latest detection those messages are about: a question about an earlier
    time must recompute the consensus from the messages. Kept with
    :class:`DiaObjectLatestClassification` (:mod:`desctom.elasticc2.queries.consensus`). New in DESC TOM.
    """

    diaobject = models.OneToOneField(DiaObject, primary_key=True, db_column="diaobject_id",
                                     on_delete=models.CASCADE)
    classid = models.SmallIntegerField(null=True)
    midpointtai = models.FloatField()


class DiaObjectConsensusAsOf(models.Model):
    """Per known object and time of one of its classified detections: the consensus class as of then.

    The consensus (as in :class:`DiaObjectConsensus`) of each classifier's latest message about a
    detection at or before ``midpointtai``; it holds for every ``mjd_now`` from ``midpointtai`` up to
    the object's next row. ``gethottransients`` with an earlier ``mjd_now`` reads it with one index
    probe per object. Kept by ``update_elasticc2_sources``: the rows from the earliest detection
    whose latest message changed onwards are recomputed, so late messages about old detections
    count too (:mod:`desctom.elasticc2.queries.consensus`). New in DESC TOM.
    """

    _id = models.BigAutoField(primary_key=True, db_column="_id")
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE,
                                  db_index=False)
    midpointtai = models.FloatField()
    classid = models.SmallIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["diaobject", "midpointtai"],
                                               name="diaobjectconsensusasof_unique")]


class DiaObjectPackedPhotometry(models.Model):
    """Per known object: its whole forced photometry (``elasticc2_diaforcedsource``) packed, in time
    order (``midpointtai``, then ``diaforcedsource_id``), one value per point in each column:
    ``mjd`` (big-endian float8s), ``flux`` and ``fluxerr`` (big-endian float4s) and ``band`` (the
    names joined by U+001F), as :func:`desctom.elasticc2.queries.packed_photometry.points_sql` packs them.

    Kept by statement-level triggers on ``elasticc2_diaforcedsource`` (migration 0010): every
    statement that writes forced photometry repacks the objects it touched, so the row is never
    stale whoever writes. ``gethottransients`` reads one row per object instead of aggregating
    every point per question. New in DESC TOM.
    """

    diaobject = models.OneToOneField(DiaObject, primary_key=True, db_column="diaobject_id",
                                     on_delete=models.CASCADE)
    npoints = models.IntegerField()
    mjd = models.BinaryField()
    band = models.TextField()
    flux = models.BinaryField()
    fluxerr = models.BinaryField()


class DiaObjectOfTarget(models.Model):
    """Links a known object to a TOM Toolkit target."""

    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE)
    tomtarget = models.ForeignKey(Target, db_column="tomtarget_id", on_delete=models.CASCADE)
