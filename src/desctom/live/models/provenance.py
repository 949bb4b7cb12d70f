"""Where every live message came from, and what a classifier said in it.

One row per message read (``diasource_brokerinfo``, FASTDB's name): broker stream, topic,
partition, offset, the alert schema version, Kafka's timestamp and when DESC TOM stored it. A
``BrokerMessage`` adds its classifier (registered in ``live_brokerclassifier``, a registry of the
same shape as ``elasticc2_brokerclassifier`` filled by the same race-free code: broker name,
classifier name, classifier version as its parameters; the campaign's pages and metrics keep to the
campaign's classifiers) and its class ids and probabilities. The same alert from three brokers:
one source, three rows.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from desctom.elasticc2.models.fields import Float32Field


class LiveClassifier(models.Model):
    """A classifier of the live stream: (brokername, brokerversion, classifiername, classifierparams)
    unique (NULLs equal), as ``elasticc2_brokerclassifier``; ``classifierparams`` is the version."""

    classifier_id = models.BigAutoField(primary_key=True)
    brokername = models.CharField(max_length=100)
    brokerversion = models.TextField(null=True)
    classifiername = models.CharField(max_length=200)
    classifierparams = models.TextField(null=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "live_brokerclassifier"
        constraints = [models.UniqueConstraint(
            fields=["brokername", "brokerversion", "classifiername", "classifierparams"],
            name="live_brokerclassifier_unique", nulls_distinct=False)]


class BrokerInfo(models.Model):
    """One message of a live stream (an LSST alert, or a broker's ``BrokerMessage``)."""

    id = models.BigAutoField(primary_key=True)
    brokername = models.TextField()
    topic = models.TextField()
    kafkapartition = models.IntegerField()
    kafkaoffset = models.BigIntegerField()
    diasourceid = models.BigIntegerField()
    diaobjectid = models.BigIntegerField(null=True)
    rootid = models.UUIDField(null=True)
    #: ``lsst.v11_1`` etc.; with the Confluent wire format also the registry's schema id.
    schemaversion = models.TextField()
    schemaid = models.IntegerField(null=True)
    msgtime = models.DateTimeField(null=True)
    receivedtime = models.DateTimeField(default=timezone.now)
    classifier = models.ForeignKey(LiveClassifier, null=True, on_delete=models.PROTECT,
                                   db_constraint=False, related_name="+")
    classid = ArrayField(models.SmallIntegerField(), null=True)
    probability = ArrayField(Float32Field(), null=True)

    class Meta:
        db_table = "diasource_brokerinfo"
        constraints = [models.UniqueConstraint(
            fields=["brokername", "topic", "kafkapartition", "kafkaoffset"],
            name="diasource_brokerinfo_message")]
        indexes = [models.Index(fields=["diasourceid"], name="diasource_brokerinfo_source"),
                   models.Index(fields=["classifier", "receivedtime"], name="brokerinfo_classifier_time"),
                   models.Index(fields=["rootid", "receivedtime"], name="diasource_brokerinfo_root"),
                   models.Index(fields=["brokername", "receivedtime"], name="diasource_brokerinfo_broker")]


class StreamSchema(models.Model):
    """A schema met in a stream in the Confluent wire format (kept so a registry outage or a restart
    does not stop decoding)."""

    registry = models.TextField()  # the registry URL, or "lsst-alert-packet"
    schemaid = models.IntegerField()
    schema = models.JSONField()
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "live_streamschema"
        constraints = [models.UniqueConstraint(fields=["registry", "schemaid"], name="live_streamschema_id")]
