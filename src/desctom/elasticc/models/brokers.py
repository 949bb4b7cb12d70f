"""ELAsTiCC 1 broker messages, classifiers and classifications (reference §2.4).

A v0.9 message may carry several classifiers, so a message is one row of
``elasticc_brokermessage`` and its classes are rows of ``elasticc_brokerclassification``, one per
(message, classifier, class). That table is LIST-partitioned by ``"classifierId"``; Django cannot
declare partitioned tables, so migration 0001 creates it with SQL (the model below is its state).
"""

from django.db import models


class BrokerMessage(models.Model):
    """One message read from a broker (or loaded from a file)."""

    brokerMessageId = models.BigAutoField(primary_key=True)
    streamMessageId = models.BigIntegerField(null=True)
    topicName = models.CharField(max_length=200, null=True)
    alertId = models.BigIntegerField(db_index=True)
    diaSourceId = models.BigIntegerField(db_index=True)
    msgHdrTimestamp = models.DateTimeField(null=True)
    descIngestTimestamp = models.DateTimeField(auto_now_add=True)
    elasticcPublishTimestamp = models.DateTimeField(null=True)
    brokerIngestTimestamp = models.DateTimeField(null=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["topicName", "streamMessageId"], name="elasticc_bm_topic_stream")]


class BrokerClassifier(models.Model):
    """One classifier of one broker."""

    classifierId = models.BigAutoField(primary_key=True)
    brokerName = models.CharField(max_length=100)
    brokerVersion = models.TextField(null=True)
    classifierName = models.CharField(max_length=200)
    classifierParams = models.TextField(null=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["brokerName", "classifierName"], name="elasticc_bc_names")]


class BrokerClassification(models.Model):
    """One class probability of one classifier in one message (partitioned by classifier)."""

    pk = models.CompositePrimaryKey("classificationId", "classifierId")
    classificationId = models.BigIntegerField()
    classifierId = models.BigIntegerField()
    classId = models.IntegerField(db_index=True)
    probability = models.FloatField()
    modified = models.DateTimeField(auto_now=True)
    brokerMessage = models.ForeignKey(BrokerMessage, db_column="brokerMessageId", null=True,
                                      on_delete=models.CASCADE, related_name="classifications")


class ElasticcPermissions(models.Model):
    """No table: carries the permissions ``elasticc.elasticc_admin`` and ``elasticc.elasticc_broker``."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("elasticc_admin", "Elasticc Admin User"),
                       ("elasticc_broker", "Can Write BrokerMessage Objects")]
