"""Columns of the object, source, forced-source, alert and truth tables of one chunk.

Ids follow the SNANA loader: ``diaforcedsource_id = diaobject_id * 100000 + k`` (k: the epoch's
index in the object's light curve); a detection's ``diasource_id`` and ``alert_id`` are the same
number. Sources carry the object's position; alerts are not sent yet (``alertsenttimestamp`` NULL).
"""

from __future__ import annotations

import numpy as np

from desctom.elasticc2.loaders.synth import hosts, lightcurves
from desctom.elasticc2.loaders.synth.cadence import days_from_season_edge
from desctom.elasticc2.loaders.synth.photometry import DETECTION_SNR, Photometry, per_object_stats
from desctom.elasticc2.loaders.synth.physics import BANDS, SATURATION_MAG, njy_to_mag
from desctom.elasticc2.loaders.synth.population import BURST, LENS
from desctom.elasticc2.loaders.synth.spec import ID_MULTIPLIER, Survey, SurveySpec, SynthError
from desctom.survey.columns import OBJECT_COLUMNS

#: An object with more photometry rows than this is a deep-drilling object (the loader's heuristic).
DDF_POINTS = 1000
_FILTERNAMES = np.array(BANDS)


def build_tables(rng, spec: SurveySpec, first_index: int, p: dict, ph: Photometry, ra, dec, ebv, field,
                 ddf, host1, host2) -> Survey:
    """The five tables of a chunk (see the module docstring)."""
    n = len(ra)
    object_id = spec.first_id + first_index + np.arange(n, dtype=np.int64)
    if ph.counts.max() >= ID_MULTIPLIER:
        raise SynthError(f"an object has {ph.counts.max():,} epochs, more than the id scheme allows "
                         f"({ID_MULTIPLIER - 1:,}): make the survey shorter")
    k = np.arange(len(ph.obj)) - ph.starts[ph.obj]
    forced_id = object_id[ph.obj] * ID_MULTIPLIER + k
    filtername = _FILTERNAMES[ph.band]
    forced = {"diaforcedsource_id": forced_id, "midpointtai": ph.t, "filtername": filtername,
              "psflux": ph.flux, "psfluxerr": ph.psfluxerr, "diaobject_id": object_id[ph.obj]}
    det = np.flatnonzero(ph.snr >= DETECTION_SNR)
    sources = {"diasource_id": forced_id[det], "midpointtai": ph.t[det], "filtername": filtername[det],
               "ra": ra[ph.obj[det]], "decl": dec[ph.obj[det]], "psflux": ph.flux[det],
               "psfluxerr": ph.psfluxerr[det], "snr": ph.snr[det], "diaobject_id": object_id[ph.obj[det]]}
    alerts = {"alert_id": forced_id[det], "alertsenttimestamp": np.full(len(det), None, dtype=object),
              "diaobject_id": object_id[ph.obj[det]], "diasource_id": forced_id[det]}
    objects, host_truth = _objects(rng, spec, p, ra, dec, ebv, object_id, host1, host2,
                                   ph.counts > DDF_POINTS)
    truth = _truth(rng, p, ph, ra, dec, ebv, field, object_id, objects, host_truth)
    return Survey(spec, objects, sources, forced, alerts, truth)


def _objects(rng, spec, p, ra, dec, ebv, object_id, host1, host2, isddf):
    n = len(ra)
    (gal1, has1), (gal2, has2, z2) = host1, host2
    z = p["z"]
    ebv_measured = ebv * (1 + 0.05 * rng.standard_normal(n))
    cols1, truth1 = hosts.host_columns(rng, gal1, z, ebv, ra, dec, "hostgal")
    gal2 = dict(gal2)
    a1 = hosts.galaxy_size(gal1, z)[0]
    a2 = hosts.galaxy_size(gal2, z2)[0]
    gal2["offset"] = (gal1["offset"] * a1 + rng.uniform(1.0, 6.0, n)) / a2  # farther than the first host
    cols2, _ = hosts.host_columns(rng, gal2, z2, ebv, ra, dec, "hostgal2")
    for cols, present in ((cols1, has1), (cols2, has2)):
        for name, col in cols.items():
            cols[name] = np.where(present, col, np.nan)
    spec_z = truth1["has_spec"] & has1
    z_final = np.where(spec_z, cols1["hostgal_zspec"], cols1["hostgal_zphot"])
    z_final_err = np.where(spec_z, cols1["hostgal_zspec_err"], cols1["hostgal_zphot_err"])
    z_final = np.where(p["galactic"], 0.0, z_final)
    z_final_err = np.where(p["galactic"], 0.0, z_final_err)
    columns = {"diaobject_id": object_id, "simversion": np.full(n, spec.tag), "ra": ra, "decl": dec,
               "mwebv": ebv_measured.astype(np.float32),
               "mwebv_err": (0.05 * ebv_measured).astype(np.float32),
               "z_final": z_final.astype(np.float32), "z_final_err": z_final_err.astype(np.float32),
               "isddf": isddf}
    for name, col in {**cols1, **cols2}.items():
        columns[name] = col.astype(np.float32)  # every host column is real (float4), even ra/dec
    objects = {name: columns[name] for name in OBJECT_COLUMNS}
    host_truth = {"galid": np.ma.masked_array(truth1["galid"], mask=~has1),
                  "galsnddlr": np.where(has1, truth1["ddlr"], np.nan), "has_spec": spec_z}
    return objects, host_truth


def _truth(rng, p, ph, ra, dec, ebv, field, object_id, objects, host_truth):
    n = len(ra)
    stats = per_object_stats(ph, n)
    galactic = p["galactic"]
    z = np.where(galactic, 0.0, p["z"])
    zhelio = np.where(galactic, 0.0, np.maximum(z + 0.0012 * rng.standard_normal(n), 1e-4))
    smear = np.where(np.isnan(objects["z_final"]),
                     np.maximum(z + 0.05 * (1 + z) * rng.standard_normal(n), 0.001), objects["z_final"])
    # Peak: the model peak for single events, the brightest epoch for recurring variables.
    single = np.isin(p["kind"], (BURST, LENS))
    row = stats["peak_row"]
    peakmjd = np.where(single, p["t_event"], ph.t[row])
    peak_drw = np.where(single, 0.0, ph.drw[row])
    idx = np.arange(n)
    peakmag = {}
    for b, name in enumerate(BANDS):
        _, total = lightcurves.evaluate(p, ebv, idx, peakmjd, np.full(n, b, np.int8), peak_drw)
        peakmag[f"peakmag_{name.lower()}"] = njy_to_mag(total).astype(np.float32)
    saturated = njy_to_mag(ph.total) < SATURATION_MAG[ph.band]
    f32 = np.float32
    return {
        "libid": field.astype(np.int32),
        "sim_searcheff_mask": np.where(host_truth["has_spec"], 3, 1).astype(np.int32),
        "gentype": p["gentype"].astype(np.int32), "sim_template_index": p["template"].astype(np.int32),
        "zcmb": z.astype(f32), "zhelio": zhelio.astype(f32), "zcmb_smear": smear.astype(f32),
        "ra": ra, "dec": dec, "mwebv": ebv.astype(f32), "galid": host_truth["galid"],
        "galzphot": objects["hostgal_zphot"], "galzphoterr": objects["hostgal_zphot_err"],
        "galsnsep": objects["hostgal_snsep"], "galsnddlr": host_truth["galsnddlr"].astype(f32),
        "rv": np.full(n, 3.1, f32), "av": p["av"].astype(f32), "mu": p["mu"].astype(f32),
        "lensdmu": np.where(galactic, 0.0, 0.055 * z * rng.standard_normal(n)).astype(f32),
        "peakmjd": peakmjd.astype(f32), "mjd_detect_first": stats["mjd_detect_first"],
        "mjd_detect_last": stats["mjd_detect_last"],
        "dtseason_peak": days_from_season_edge(field, peakmjd).astype(f32),
        **peakmag,
        "snrmax": stats["snrmax"], "snrmax2": stats["snrmax2"], "snrmax3": stats["snrmax3"],
        "nobs": ph.counts.astype(np.int32),
        "nobs_saturate": np.bincount(ph.obj, weights=saturated, minlength=n).astype(np.int32),
        "diaobject_id": object_id,
    }
