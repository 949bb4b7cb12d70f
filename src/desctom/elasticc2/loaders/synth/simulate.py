"""One chunk of objects, from the random stream (seed, chunk) to the five tables' columns."""

from __future__ import annotations

import math

import numpy as np

from desctom.elasticc2.loaders.synth import hosts, lightcurves, population
from desctom.elasticc2.loaders.synth.cadence import DDF_FIELD_BASE, Schedules, wfd_field
from desctom.elasticc2.loaders.synth.photometry import Photometry
from desctom.elasticc2.loaders.synth.spec import CHUNK, Survey, SurveySpec, SynthError
from desctom.elasticc2.loaders.synth.tables import build_tables

#: Forced photometry of a transient covers this many days before and after its peak.
WINDOW_BEFORE, WINDOW_AFTER = 200.0, 300.0


def simulate_chunk(spec: SurveySpec, schedules: Schedules, number: int) -> Survey:
    """All objects of chunk ``number`` of the survey ``spec``."""
    first_index = number * CHUNK
    n = min(CHUNK, spec.n_objects - first_index)
    rng = np.random.default_rng([spec.seed, 11, number])
    start, end = float(spec.start_mjd), spec.end_mjd
    p = population.draw(rng, n, start, end)
    ddf = np.zeros(n, bool)
    ddf[rng.permutation(n)[:math.ceil(hosts.DDF_FRACTION * n)]] = True
    ra, dec, which = hosts.positions(rng, p["galactic"], ddf)
    field = wfd_field(ra, dec)
    field[ddf] = DDF_FIELD_BASE + which
    transient = (p["kind"] == population.BURST) & ~ddf
    first = np.where(transient, np.maximum(start, p["t_event"] - WINDOW_BEFORE), start)
    last = np.where(transient, np.minimum(end, p["t_event"] + WINDOW_AFTER), end)
    for _ in range(200):  # objects in fields not observed during their window move elsewhere
        obj, t, band, depth = schedules.epochs(field, first, last)
        empty = np.bincount(obj, minlength=n) == 0
        if not empty.any():
            break
        ddf &= ~empty
        ra[empty], dec[empty], _ = hosts.positions(rng, p["galactic"][empty], np.zeros(empty.sum(), bool))
        field[empty] = wfd_field(ra[empty], dec[empty])
    else:
        raise SynthError(f"no field is observed during a {spec.days:g}-day survey starting at MJD "
                         f"{spec.start_mjd:g}: make it longer")
    ebv = hosts.milky_way_ebv(rng, ra, dec)
    gal1, gal2 = hosts.draw_galaxies(rng, n), hosts.draw_galaxies(rng, n)
    has_host = ~p["galactic"] & ~p["hostless"]

    def host_psf(z):
        return np.where(has_host[:, None], hosts.host_light_in_psf(gal1, z, ebv), 0.0)

    drw = lightcurves.unit_drw(rng, obj, t, p["tau_drw"])
    eps = rng.standard_normal(len(obj))
    ph = Photometry(p, ebv, obj, t, band, depth, drw, eps, host_psf)
    ph.ensure_detections(rng)
    has_host2 = has_host & (rng.random(n) < hosts.SECOND_HOST_FRACTION)
    z2 = np.clip(p["z"] + rng.normal(0, 0.4, n), 0.02, 3.0)
    return build_tables(rng, spec, first_index, p, ph, ra, dec, ebv, field, ddf,
                        (gal1, has_host), (gal2, has_host2, z2))
