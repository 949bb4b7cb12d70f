"""ELAsTiCC 1 objects, sources, forced sources, alerts and truth (reference §2.4).

Field names are the quoted camelCase column names of the original (``"diaObjectId"``), so REST
JSON keys and SQL columns are the same words. All floats are double precision, as in 2022.
"""

from django.db import models

from desctom.survey.columns import HOST_PREFIXES, ZPHOT_QUANTILES
from desctom.survey.lsst import BANDS


def host_columns(prefix: str) -> list[str]:
    """The 33 host-galaxy columns of one host in v0.9 (ELAsTiCC2's 32 plus ``_zphot_p50``)."""
    upper = list(BANDS)
    return ([f"{prefix}_ellipticity", f"{prefix}_sqradius", f"{prefix}_zspec", f"{prefix}_zspec_err",
             f"{prefix}_zphot", f"{prefix}_zphot_err"]
            + [f"{prefix}_zphot_{q}" for q in ZPHOT_QUANTILES] + [f"{prefix}_zphot_p50"]
            + [f"{prefix}_mag_{b}" for b in upper]
            + [f"{prefix}_ra", f"{prefix}_dec", f"{prefix}_snsep"]
            + [f"{prefix}_magerr_{b}" for b in upper])


#: The nullable float columns of ``elasticc_diaobject`` after ``ra``/``decl``, in order.
OBJECT_FLOATS = (["mwebv", "mwebv_err", "z_final", "z_final_err"]
                 + [c for p in HOST_PREFIXES for c in host_columns(p)])
OBJECT_COLUMNS = ["diaObjectId", "simVersion", "ra", "decl", *OBJECT_FLOATS]
SOURCE_COLUMNS = ["diaSourceId", "ccdVisitId", "diaObjectId", "parentDiaSourceId", "midPointTai",
                  "filterName", "ra", "decl", "psFlux", "psFluxErr", "snr", "nobs"]
FORCED_COLUMNS = ["diaForcedSourceId", "ccdVisitId", "diaObjectId", "midPointTai", "filterName", "psFlux",
                  "psFluxErr", "totFlux", "totFluxErr"]
ALERT_COLUMNS = ["alertId", "alertSentTimestamp", "diaSourceId", "diaObjectId"]
TRUTH_COLUMNS = ["diaSourceId", "diaObjectId", "mjd", "detect", "gentype", "genmag"]
OBJECT_TRUTH_COLUMNS = ["diaObjectId", "libid", "sim_searcheff_mask", "gentype", "sim_template_index", "zcmb",
                        "zhelio", "zcmb_smear", "ra", "dec", "mwebv", "galnmatch", "galid", "galzphot",
                        "galzphoterr", "galsnsep", "galsnddlr", "rv", "av", "mu", "lensdmu", "peakmjd",
                        "mjd_detect_first", "mjd_detect_last", "dtseason_peak",
                        *[f"peakmag_{b}" for b in "ugriz"], "peakmag_Y", "snrmax", "snrmax2", "snrmax3",
                        "nobs", "nobs_saturate"]
OBJECT_TRUTH_INTEGERS = {"diaObjectId", "libid", "sim_searcheff_mask", "gentype", "sim_template_index",
                         "galnmatch", "galid", "nobs", "nobs_saturate"}


def _object_class():
    attrs = {
        "__module__": __name__,
        "__doc__": "An ELAsTiCC object: position, Milky-Way extinction, redshift and two host galaxies.",
        "diaObjectId": models.BigIntegerField(primary_key=True),
        "simVersion": models.TextField(null=True, blank=True),
        "ra": models.FloatField(),
        "decl": models.FloatField(),
        **{name: models.FloatField(null=True, blank=True) for name in OBJECT_FLOATS},
    }
    return type("DiaObject", (models.Model,), attrs)


DiaObject = _object_class()


class DiaSource(models.Model):
    """A detection. ``psFlux`` in nJy (zeropoint 31.4); alert id = source id."""

    diaSourceId = models.BigIntegerField(primary_key=True)
    ccdVisitId = models.BigIntegerField()
    diaObject = models.ForeignKey(DiaObject, db_column="diaObjectId", null=True, on_delete=models.CASCADE,
                                  related_name="diasources")
    parentDiaSourceId = models.BigIntegerField(null=True, blank=True)
    midPointTai = models.FloatField(db_index=True)
    filterName = models.TextField()
    ra = models.FloatField()
    decl = models.FloatField()
    psFlux = models.FloatField()
    psFluxErr = models.FloatField()
    snr = models.FloatField()
    nobs = models.FloatField(null=True, blank=True)


class DiaForcedSource(models.Model):
    """Forced photometry at the object's position, detected or not."""

    diaForcedSourceId = models.BigIntegerField(primary_key=True)
    ccdVisitId = models.BigIntegerField()
    diaObject = models.ForeignKey(DiaObject, db_column="diaObjectId", on_delete=models.CASCADE,
                                  related_name="diaforcedsources")
    midPointTai = models.FloatField(db_index=True)
    filterName = models.TextField()
    psFlux = models.FloatField()
    psFluxErr = models.FloatField()
    totFlux = models.FloatField(null=True, blank=True)
    totFluxErr = models.FloatField(null=True, blank=True)


class DiaAlert(models.Model):
    """One alert per detection; sent once ``alertSentTimestamp`` is set."""

    alertId = models.BigIntegerField(primary_key=True)
    alertSentTimestamp = models.DateTimeField(null=True, blank=True, db_index=True)
    diaSource = models.ForeignKey(DiaSource, db_column="diaSourceId", null=True, on_delete=models.CASCADE,
                                  related_name="alerts")
    diaObject = models.ForeignKey(DiaObject, db_column="diaObjectId", null=True, on_delete=models.CASCADE,
                                  related_name="alerts")


class DiaTruth(models.Model):
    """Truth of one epoch (detected or not, hence no foreign key): true type and magnitude."""

    diaSourceId = models.BigIntegerField(primary_key=True)
    diaObjectId = models.BigIntegerField(null=True, db_index=True)
    mjd = models.FloatField(null=True)
    detect = models.BooleanField(null=True)
    gentype = models.IntegerField(null=True)
    genmag = models.FloatField(null=True)


def _object_truth_class():
    attrs = {
        "__module__": __name__,
        "__doc__": "Simulation truth of an object (SNANA ``.DUMP``), as ELAsTiCC2's plus galnmatch.",
        "diaObject": models.OneToOneField(DiaObject, db_column="diaObjectId", primary_key=True,
                                          on_delete=models.CASCADE, related_name="truth"),
    }
    for name in OBJECT_TRUTH_COLUMNS[1:]:
        if name in OBJECT_TRUTH_INTEGERS:
            field = models.BigIntegerField(null=True) if name == "galid" else models.IntegerField(
                null=name == "galnmatch", db_index=name in ("gentype", "sim_template_index"))
        else:
            field = models.FloatField(null=name.startswith("gal"),
                                      db_index=name in ("zcmb", "zhelio", "peakmjd", "mjd_detect_first",
                                                        "mjd_detect_last"))
        attrs[name] = field
    return type("DiaObjectTruth", (models.Model,), attrs)


DiaObjectTruth = _object_truth_class()
