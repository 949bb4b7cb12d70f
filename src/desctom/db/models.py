"""The long-query queue (reference §2.3), plus the owner of each query."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

FORMATS = ("csv", "pandas", "parquet")


class QueryQueue(models.Model):
    """One submitted list of SQL statements; the runner fills ``started``/``finished``/``error``."""

    queryid = models.UUIDField(primary_key=True, default=uuid.uuid4)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE,
                              related_name="sql_queries")
    submitted = models.DateTimeField()
    started = models.DateTimeField(null=True)
    finished = models.DateTimeField(null=True)
    error = models.BooleanField(default=False)
    errortext = models.TextField(null=True)
    queries = ArrayField(models.TextField())
    subdicts = ArrayField(models.JSONField())
    format = models.TextField(default="csv")
    #: Times a runner claimed this query (persisted, so a retry limit holds across runner restarts).
    attempts = models.IntegerField(default=0, db_default=0)

    class Meta:
        db_table = "db_queryqueue"
        indexes = [models.Index(fields=["submitted"], condition=models.Q(started__isnull=True),
                                name="db_queryqueue_waiting"),
                   models.Index(fields=["owner", "submitted"], name="db_queryqueue_owner")]

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self.finished is not None:
            return "finished"
        return "started" if self.started is not None else "queued"
