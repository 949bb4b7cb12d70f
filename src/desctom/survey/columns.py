"""The ELAsTiCC2 / LSST table columns, in table (and Avro) order: one definition for the models, the
loaders, the alert builders and the Avro schemas."""

from __future__ import annotations

from desctom.survey.lsst import BANDS

HOST_PREFIXES = ("hostgal", "hostgal2")
#: The bands as they appear in column names (``hostgal_mag_y``): lower case.
COLUMN_BANDS = tuple(b.lower() for b in BANDS)
ZPHOT_QUANTILES = tuple(f"q{q:03d}" for q in range(0, 101, 10))


def host_columns(prefix: str) -> list[str]:
    """The 32 host-galaxy columns of one host, in table (and Avro) order."""
    return ([f"{prefix}_ellipticity", f"{prefix}_sqradius", f"{prefix}_zspec", f"{prefix}_zspec_err",
             f"{prefix}_zphot", f"{prefix}_zphot_err"]
            + [f"{prefix}_zphot_{q}" for q in ZPHOT_QUANTILES]
            + [f"{prefix}_mag_{b}" for b in COLUMN_BANDS]
            + [f"{prefix}_ra", f"{prefix}_dec", f"{prefix}_snsep"]
            + [f"{prefix}_magerr_{b}" for b in COLUMN_BANDS])


#: Every column of an object table, in order.
OBJECT_COLUMNS = (["diaobject_id", "simversion", "ra", "decl", "mwebv", "mwebv_err", "z_final", "z_final_err"]
                  + host_columns("hostgal") + host_columns("hostgal2") + ["isddf"])
SOURCE_COLUMNS = ["diasource_id", "midpointtai", "filtername", "ra", "decl", "psflux", "psfluxerr", "snr",
                  "diaobject_id"]
FORCED_COLUMNS = ["diaforcedsource_id", "midpointtai", "filtername", "psflux", "psfluxerr", "diaobject_id"]
ALERT_COLUMNS = ["alert_id", "alertsenttimestamp", "diaobject_id", "diasource_id"]
TRUTH_COLUMNS = ["libid", "sim_searcheff_mask", "gentype", "sim_template_index", "zcmb", "zhelio",
                 "zcmb_smear", "ra", "dec", "mwebv", "galid", "galzphot", "galzphoterr", "galsnsep",
                 "galsnddlr", "rv", "av", "mu", "lensdmu", "peakmjd", "mjd_detect_first", "mjd_detect_last",
                 "dtseason_peak",
                 *[f"peakmag_{b}" for b in COLUMN_BANDS], "snrmax", "snrmax2", "snrmax3", "nobs",
                 "nobs_saturate", "diaobject_id"]


def avro_name(column: str) -> str:
    """Object column -> field name in the Avro ``diaObject``.

    ``diaobject_id`` -> ``diaObjectId``, ``simversion`` -> ``simVersion``, ``..._mag_y`` -> ``..._mag_Y``.
    """
    if column == "diaobject_id":
        return "diaObjectId"
    if column == "simversion":
        return "simVersion"
    if column.endswith("_y") and ("_mag_" in column or "_magerr_" in column):
        return column[:-1] + "Y"
    return column
