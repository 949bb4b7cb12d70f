"""Broker classifiers and their classification messages (reference §2.2.4)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from desctom.elasticc2.models.fields import Float32Field


class BrokerClassifier(models.Model):
    """One classifier of one broker: (brokername, brokerversion, classifiername, classifierparams).

    Unlike the original, the 4-tuple is unique in the database (NULLs count as equal), so two
    ingesters can never register the same classifier twice.
    """

    classifier_id = models.BigAutoField(primary_key=True)
    brokername = models.CharField(max_length=100)
    brokerversion = models.TextField(null=True)
    classifiername = models.CharField(max_length=200)
    classifierparams = models.TextField(null=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["brokername"]),
            models.Index(fields=["brokername", "brokerversion"]),
            models.Index(fields=["brokername", "classifiername"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["brokername", "brokerversion", "classifiername", "classifierparams"],
                name="elasticc2_brokerclassifier_unique", nulls_distinct=False),
        ]


class BrokerMessage(models.Model):
    """One broker classification message: one alert, one classifier, arrays of classes and probabilities.

    Two partial unique indexes make ingest idempotent (the original had none):

    * a message read from Kafka is identified by where it was read — topic, partition, offset —
      plus its Kafka timestamp (an embedded broker that restarts reuses offsets for new messages);
    * a message PUT over HTTP (``topicname = 'REST_push'``) by classifier, alert and
      ``brokeringesttimestamp``.

    ``kafkapartition`` is new (the original kept only the offset). The classifier's index also orders
    by ``descingesttimestamp``, so "a classifier's latest message" is one index probe however long the
    classifier has been quiet (the original indexed ``classifier_id`` alone).
    """

    brokermessage_id = models.BigAutoField(primary_key=True)
    streammessage_id = models.BigIntegerField(null=True)
    topicname = models.CharField(max_length=200, null=True)
    alert_id = models.BigIntegerField(db_index=True)
    diasource_id = models.BigIntegerField(db_index=True)
    msghdrtimestamp = models.DateTimeField(null=True)
    descingesttimestamp = models.DateTimeField(db_index=True)
    elasticcpublishtimestamp = models.DateTimeField(null=True)
    brokeringesttimestamp = models.DateTimeField(null=True)
    classifier_id = models.BigIntegerField()
    classid = ArrayField(models.SmallIntegerField())
    probability = ArrayField(Float32Field())
    kafkapartition = models.IntegerField(null=True)
    #: The account that PUT the message over HTTP (``auth_user.id``); NULL for messages read from Kafka.
    #: No foreign-key constraint or index: it would cost every insert into this, the largest table.
    postedby_id = models.IntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["classifier_id", "descingesttimestamp"],
                                name="elasticc2_bm_classifier_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["topicname", "kafkapartition", "streammessage_id", "msghdrtimestamp"],
                condition=models.Q(streammessage_id__gte=0),
                name="elasticc2_brokermessage_kafka_unique", nulls_distinct=False),
            models.UniqueConstraint(
                fields=["classifier_id", "alert_id", "brokeringesttimestamp"],
                condition=models.Q(topicname="REST_push"),
                name="elasticc2_brokermessage_push_unique", nulls_distinct=False),
        ]


class BrokerSourceIds(models.Model):
    """Work queue: every diaSourceId seen in broker messages, until copied to the local tables."""

    diasource_id = models.BigIntegerField(primary_key=True)


class ImportPPDBRunning(models.Model):
    """Single-row lock preventing two concurrent PPDB-to-local copies."""

    running = models.BooleanField(default=False)
