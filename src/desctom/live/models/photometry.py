"""The live survey's photometry: DESC's root objects, the survey's diaObjects, sources, forced sources.

Rubin's ``diaObjectId`` is not unique to a source (the same source can arrive under several ids), so
each survey object belongs to one *root object*, DESC's own (``root_diaobject.id``, a UUID as in
FASTDB): the association rule is in :mod:`desctom.live.workers.association`. Sources and forced
sources carry both ids. Fluxes are nJy (zeropoint 31.4), times MJD TAI, as in the alerts.
"""

import uuid

from django.db import models
from django.utils import timezone

from desctom.elasticc2.models.fields import Float32Field


class RootDiaObject(models.Model):
    """One astrophysical source: the survey's diaObjects within the association radius of each other."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    ra = models.FloatField()
    dec = models.FloatField()
    #: MJD of the first and latest detection (diaSource) stored; kept up to date by the ingest.
    first_mjd = models.FloatField(null=True)
    last_mjd = models.FloatField(null=True)
    ndetections = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "root_diaobject"
        indexes = [models.Index(fields=["dec"], name="root_diaobject_dec"),
                   models.Index(fields=["last_mjd"], name="root_diaobject_last_mjd")]


class DiaObject(models.Model):
    """A ``diaObjectId`` the survey used, the root object it belongs to, and where it was first seen."""

    diaobjectid = models.BigIntegerField(primary_key=True)
    rootid = models.ForeignKey(RootDiaObject, db_column="rootid", on_delete=models.CASCADE,
                               related_name="diaobjects")
    ra = models.FloatField()
    dec = models.FloatField()
    validitystartmjdtai = models.FloatField(null=True)
    first_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "diaobject"


class _Measurement(models.Model):
    """What detections and forced sources both carry: where, when, which visit, the fluxes (nJy)."""

    rootid = models.UUIDField(null=True)
    visit = models.BigIntegerField()
    detector = models.IntegerField()
    midpointmjdtai = models.FloatField()
    band = models.TextField(null=True)
    ra = models.FloatField()
    dec = models.FloatField()
    psfflux = Float32Field(null=True)
    psffluxerr = Float32Field(null=True)
    scienceflux = Float32Field(null=True)
    sciencefluxerr = Float32Field(null=True)
    timeprocessedmjdtai = models.FloatField()
    timewithdrawnmjdtai = models.FloatField(null=True)
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class DiaSource(_Measurement):
    """A detection (one per alert). ``diaobjectid`` is null for solar-system sources."""

    diasourceid = models.BigIntegerField(primary_key=True)
    diaobjectid = models.BigIntegerField(null=True)
    snr = Float32Field(null=True)
    reliability = Float32Field(null=True)
    extendedness = Float32Field(null=True)
    isdipole = models.BooleanField(null=True)

    class Meta:
        db_table = "diasource"
        # (diaobjectid, midpointmjdtai): the ingest asks which of an alert's history is stored already
        indexes = [models.Index(fields=["rootid", "midpointmjdtai"], name="diasource_root_mjd"),
                   models.Index(fields=["diaobjectid", "midpointmjdtai"], name="diasource_object_mjd"),
                   models.Index(fields=["midpointmjdtai"], name="diasource_mjd")]


class DiaForcedSource(_Measurement):
    """Forced photometry at a diaObject's position in one visit."""

    diaforcedsourceid = models.BigIntegerField(primary_key=True)
    diaobjectid = models.BigIntegerField()

    class Meta:
        db_table = "diaforcedsource"
        indexes = [models.Index(fields=["rootid", "midpointmjdtai"], name="diaforcedsource_root_mjd"),
                   models.Index(fields=["diaobjectid", "midpointmjdtai"], name="diaforcedsource_object_mjd")]
