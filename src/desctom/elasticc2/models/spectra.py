"""Spectrum coordination: requests, plans and reports (reference §2.2.6).

Every row records the user who made it (``user_id``; new for plans and reports, nullable so that
rows restored from the original, and rows of deleted users, stay).
"""

from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from desctom.elasticc2.models.fields import Float32Field
from desctom.elasticc2.models.photometry import DiaObject


class WantedSpectra(models.Model):
    """A request for a spectrum of an object; one per (object, requester): ``"<objectid> ; <requester>"``."""

    wantspec_id = models.TextField(primary_key=True)
    wanttime = models.DateTimeField(default=timezone.now, db_index=True)
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.RESTRICT)
    requester = models.TextField(null=True)
    priority = models.IntegerField()


class PlannedSpectra(models.Model):
    """A facility's plan to take a spectrum of an object; one per (object, facility)."""

    reqspec_id = models.AutoField(primary_key=True)
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE)
    facility = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    plantime = models.DateTimeField(null=True)
    comment = models.TextField(default="", blank=True)
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["diaobject", "facility"],
                                               name="elasticc2_plannedspectra_unique")]


class SpectrumInfo(models.Model):
    """What a spectrum told: redshift and class. ``mjd`` is double precision here (float4 in the original)."""

    specinfo_id = models.AutoField(primary_key=True)
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE)
    facility = models.TextField(null=True)
    inserted_at = models.DateTimeField(default=timezone.now, db_index=True)
    mjd = models.FloatField(db_index=True)
    z = Float32Field(null=True)
    classid = models.IntegerField(null=True, db_index=True)
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
