"""Bookkeeping of the alert cycle's services: sender runs and broker pollers (new tables).

The original wrote status text files into its static directory; these tables let the web pages,
``desctom status`` and the SQL API see the same facts.
"""

from django.db import models


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
    """The latest state of the poller of one broker stream (one row per configured broker)."""

    broker = models.CharField(max_length=100, unique=True)
    started = models.DateTimeField(null=True)
    heartbeat = models.DateTimeField(null=True)
    consumed = models.BigIntegerField(default=0)
    stored = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    last_message = models.DateTimeField(null=True)
    last_error = models.TextField(null=True)
