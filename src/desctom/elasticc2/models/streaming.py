"""Bookkeeping of the alert cycle's services: sender runs and broker pollers (new tables).

The original wrote status text files into its static directory; these tables let the web pages,
``desctom status`` and the SQL API see the same facts.
"""

from django.db import models
from django.db.models.functions import Now


class AlertSenderRun(models.Model):
    """One run of ``send_elasticc2_alerts``: what it was asked to send and what Kafka acknowledged."""

    STATUS_CHOICES = [("running", "running"), ("finished", "finished"), ("failed", "failed"),
                      ("dryrun", "dry run")]

    id = models.BigAutoField(primary_key=True)
    started = models.DateTimeField()
    finished = models.DateTimeField(null=True)
    host = models.TextField()
    pid = models.IntegerField()
    start_day = models.FloatField(null=True)
    through_day = models.FloatField()
    alerts_sent = models.BigIntegerField(default=0)
    last_mjd = models.FloatField(null=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default="running")
    error = models.TextField(null=True)

    class Meta:
        indexes = [models.Index(fields=["started"])]


class BrokerPollerStatus(models.Model):
    """The latest state of one poller process of a broker stream: one row per (broker, member).

    A stream runs ``processes`` members (0..N-1) in one Kafka consumer group; each writes its own row
    (its partitions' lag, its counts); :mod:`desctom.elasticc2.queries.pollerhealth` sums them.
    """

    broker = models.CharField(max_length=100)
    #: Which of the stream's poller processes (0..N-1) this row is.
    member = models.IntegerField(default=0, db_default=0)
    started = models.DateTimeField(null=True)
    heartbeat = models.DateTimeField(null=True)
    consumed = models.BigIntegerField(default=0)
    stored = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    last_message = models.DateTimeField(null=True)
    last_error = models.TextField(null=True)
    #: Messages moved to ``elasticc2_brokermessagequarantine`` (undecodable or unstorable).
    quarantined = models.BigIntegerField(default=0, db_default=0)
    #: When the poller last stored (or quarantined) a message: the time of its last progress.
    last_progress = models.DateTimeField(null=True)
    last_error_time = models.DateTimeField(null=True)
    #: The Kafka consumer-group member id of the running consumer (None: not a member now).
    member_id = models.TextField(null=True)
    #: Partitions assigned to the consumer, as ``["topic[partition]", ...]``.
    assigned = models.JSONField(null=True)
    #: Kafka high-water marks minus committed offsets, summed over this member's assigned partitions.
    lag = models.BigIntegerField(null=True)
    lag_time = models.DateTimeField(null=True)
    #: The same over every partition of the stream's topics: the consumer group's total lag.
    group_lag = models.BigIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broker", "member"],
                                               name="elasticc2_brokerpollerstatus_member")]


class BrokerMessageQuarantine(models.Model):
    """A broker message that could not be decoded or stored, kept with where it came from and why.

    The Kafka poller moves such a message here and goes on with the next one (one bad message
    never stops a stream); the same message read twice (after a restart) is kept once.
    """

    id = models.BigAutoField(primary_key=True)
    broker = models.CharField(max_length=100)
    topicname = models.TextField()
    kafkapartition = models.IntegerField()
    kafkaoffset = models.BigIntegerField()
    msghdrtimestamp = models.DateTimeField(null=True)
    quarantined = models.DateTimeField(db_default=Now())
    error = models.TextField()
    payload = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["topicname", "kafkapartition", "kafkaoffset", "broker"],
            name="elasticc2_brokermessagequarantine_unique")]
        indexes = [models.Index(fields=["broker", "quarantined"])]
