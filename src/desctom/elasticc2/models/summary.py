"""Per-object summaries and the TOM-target link (reference §2.2.5)."""

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


class DiaObjectOfTarget(models.Model):
    """Links a known object to a TOM Toolkit target."""

    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE)
    tomtarget = models.ForeignKey(Target, db_column="tomtarget_id", on_delete=models.CASCADE)
