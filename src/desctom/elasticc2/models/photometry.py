"""The object / source / forced-source / alert / truth families (reference §2.2.1-2.2.2).

Three families share one abstract structure: the PPDB (the whole simulated survey), the local
"known" tables (what brokers classified), and the training set. Column order is part of the
contract (the PPDB-to-local copy is ``INSERT ... SELECT *``), so fields are declared in the
order the original tables have. Fluxes are nJy (zeropoint 31.4).
"""

from django.db import models

from desctom.elasticc2.models.fields import Float32Field
from desctom.survey.columns import OBJECT_COLUMNS


def _object_fields():
    """The float/host columns of an object table as Django fields, in order."""
    fields = {
        "diaobject_id": models.BigIntegerField(primary_key=True),
        "simversion": models.TextField(null=True, blank=True),
        "ra": models.FloatField(),
        "decl": models.FloatField(),
    }
    for name in OBJECT_COLUMNS[4:-1]:
        fields[name] = Float32Field(null=True, blank=True)
    fields["isddf"] = models.BooleanField(default=False)
    return fields


def _abstract_object_class():
    attrs = {"__module__": __name__, "Meta": type("Meta", (), {"abstract": True})}
    attrs.update(_object_fields())
    return type("BaseDiaObject", (models.Model,), attrs)


BaseDiaObject = _abstract_object_class()
BaseDiaObject.__doc__ = "An LSST DIA object (one simulated transient or variable): position, host galaxies."


class BaseDiaSource(models.Model):
    """A detection (difference-image source). ``psflux`` in nJy; ``snr`` = psflux / psfluxerr."""

    diasource_id = models.BigIntegerField(primary_key=True)
    midpointtai = models.FloatField(db_index=True)
    filtername = models.TextField()
    ra = models.FloatField()
    decl = models.FloatField()
    psflux = Float32Field()
    psfluxerr = Float32Field()
    snr = Float32Field()

    class Meta:
        abstract = True


class BaseDiaForcedSource(models.Model):
    """Forced photometry at the object's position, detected or not. ``psflux`` in nJy."""

    diaforcedsource_id = models.BigIntegerField(primary_key=True)
    midpointtai = models.FloatField(db_index=True)
    filtername = models.TextField()
    psflux = Float32Field()
    psfluxerr = Float32Field()

    class Meta:
        abstract = True


class BaseAlert(models.Model):
    """One alert per detection (``alert_id == diasource_id``); sent once ``alertsenttimestamp`` is set."""

    alert_id = models.BigIntegerField(primary_key=True)
    alertsenttimestamp = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True


class BaseObjectTruth(models.Model):
    """Simulation truth of an object, from the SNANA ``.DUMP`` file. Brokers never see it."""

    libid = models.IntegerField()
    sim_searcheff_mask = models.IntegerField()
    gentype = models.IntegerField(db_index=True)
    sim_template_index = models.IntegerField(db_index=True)
    zcmb = Float32Field(db_index=True)
    zhelio = Float32Field(db_index=True)
    zcmb_smear = Float32Field()
    ra = models.FloatField()
    dec = models.FloatField()
    mwebv = Float32Field()
    galid = models.BigIntegerField(null=True)
    galzphot = Float32Field(null=True)
    galzphoterr = Float32Field(null=True)
    galsnsep = Float32Field(null=True)
    galsnddlr = Float32Field(null=True)
    rv = Float32Field()
    av = Float32Field()
    mu = Float32Field()
    lensdmu = Float32Field()
    peakmjd = Float32Field(db_index=True)
    mjd_detect_first = models.FloatField(db_index=True)
    mjd_detect_last = models.FloatField(db_index=True)
    dtseason_peak = Float32Field()
    peakmag_u = Float32Field()
    peakmag_g = Float32Field()
    peakmag_r = Float32Field()
    peakmag_i = Float32Field()
    peakmag_z = Float32Field()
    peakmag_y = Float32Field()
    snrmax = Float32Field()
    snrmax2 = Float32Field()
    snrmax3 = Float32Field()
    nobs = models.IntegerField()
    nobs_saturate = models.IntegerField()

    class Meta:
        abstract = True


def _survey_family(prefix: str, truth_name: str) -> tuple:
    """The object, source, forced-source, alert and object-truth models of one simulated survey
    (the PPDB, or the training set): ``<prefix>DiaObject``, ``<prefix>DiaSource``,
    ``<prefix>DiaForcedSource``, ``<prefix>Alert`` and ``truth_name``, with identical columns."""

    def model(name: str, base, **fields):
        return type(name, (base,), {"__module__": __name__, "__qualname__": name, **fields})

    def link(to, related_name: str, null: bool = True, one_to_one: bool = False):
        if one_to_one:
            return models.OneToOneField(to, db_column="diaobject_id", primary_key=True,
                                        on_delete=models.CASCADE, related_name=related_name)
        return models.ForeignKey(to, db_column="diaobject_id", null=null, on_delete=models.CASCADE,
                                 related_name=related_name)

    obj = model(f"{prefix}DiaObject", BaseDiaObject)
    source = model(f"{prefix}DiaSource", BaseDiaSource, diaobject=link(obj, "diasources"))
    # No index of midpointtai alone on a simulated survey's forced photometry: its readers (the alert
    # sender, the source updater) go by object, and keep the planner off such an index ("+ 0"); at
    # ELAsTiCC2's size it would be ~20 GB of index that nothing reads (docs/differences.md).
    forced = model(f"{prefix}DiaForcedSource", BaseDiaForcedSource, midpointtai=models.FloatField(),
                   diaobject=link(obj, "diaforcedsources", null=False))
    alert = model(f"{prefix}Alert", BaseAlert, diaobject=link(obj, "alerts"),
                  diasource=models.ForeignKey(source, db_column="diasource_id", null=True,
                                              on_delete=models.CASCADE, related_name="alerts"))
    truth = model(truth_name, BaseObjectTruth, diaobject=link(obj, "truth", one_to_one=True))
    return obj, source, forced, alert, truth


# -- PPDB: the whole simulated survey ---------------------------------------------------------------
PPDBDiaObject, PPDBDiaSource, PPDBDiaForcedSource, PPDBAlert, DiaObjectTruth = _survey_family(
    "PPDB", "DiaObjectTruth")


# -- Local ("known"): what brokers have classified ---------------------------------------------------
class DiaObject(BaseDiaObject):
    pass


class DiaSource(BaseDiaSource):
    """A known detection. Its time index also holds the object id, so "the objects detected since t"
    (``gethottransients``, the follow-up board) is an index-only scan whatever order the rows were
    written in."""

    midpointtai = models.FloatField()
    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", null=True, on_delete=models.CASCADE,
                                  related_name="diasources")

    class Meta:
        indexes = [models.Index(fields=["midpointtai"], include=["diaobject"],
                                name="elasticc2_diasource_recent")]


class DiaForcedSource(BaseDiaForcedSource):
    """A known object's forced photometry. One covering index serves the per-object light-curve
    reads (``gethottransients``, ``ltcv``, ``spectrawanted``) with index-only scans in time order."""

    diaobject = models.ForeignKey(DiaObject, db_column="diaobject_id", on_delete=models.CASCADE,
                                  related_name="diaforcedsources", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["diaobject", "midpointtai", "diaforcedsource_id"],
                                include=["filtername", "psflux", "psfluxerr"],
                                name="elasticc2_diaforced_lightcurve")]


# -- Training set ------------------------------------------------------------------------------------
TrainingDiaObject, TrainingDiaSource, TrainingDiaForcedSource, TrainingAlert, TrainingDiaObjectTruth = (
    _survey_family("Training", "TrainingDiaObjectTruth"))
