"""Spectrum coordination on the live survey (FASTDB's tables): requests, plans, reports per root object."""

import uuid

from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from desctom.elasticc2.models.fields import Float32Field
from desctom.live.models.photometry import RootDiaObject


class WantedSpectra(models.Model):
    """A request for a spectrum of a root object; one per (object, requester).

    ``wantspec_id`` is ``"<rootid> ; <requester>"``."""

    wantspec_id = models.TextField(primary_key=True)
    root_diaobject = models.ForeignKey(RootDiaObject, db_column="root_diaobject_id", on_delete=models.CASCADE)
    wanttime = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, on_delete=models.RESTRICT, related_name="+")
    requester = models.TextField()
    priority = models.SmallIntegerField()

    class Meta:
        db_table = "wantedspectra"


class PlannedSpectra(models.Model):
    """A facility's plan to take a spectrum of a root object."""

    plannedspec_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    root_diaobject = models.ForeignKey(RootDiaObject, db_column="root_diaobject_id", on_delete=models.CASCADE)
    facility = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    plantime = models.DateTimeField(null=True)
    comment = models.TextField(default="", blank=True)
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "plannedspectra"
        constraints = [models.UniqueConstraint(fields=["root_diaobject", "facility"],
                                               name="plannedspectra_unique")]


class SpectrumInfo(models.Model):
    """What a spectrum of a root object told: redshift and class (ELAsTiCC2 taxonomy)."""

    specinfo_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    root_diaobject = models.ForeignKey(RootDiaObject, db_column="root_diaobject_id", on_delete=models.CASCADE)
    facility = models.TextField()
    inserted_at = models.DateTimeField(default=timezone.now, db_index=True)
    mjd = models.FloatField(db_index=True)
    z = Float32Field(null=True)
    classid = models.IntegerField(null=True)
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "spectruminfo"
