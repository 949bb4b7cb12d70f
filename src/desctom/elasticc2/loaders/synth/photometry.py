"""Measured photometry: flux errors, noise, detections, and making every object detectable.

The flux error of a visit is the sky noise of its 5-sigma depth, grown by the photon noise of the
object itself and of its host galaxy's light under the PSF. A detection (DiaSource) is an epoch
with S/N >= 5. Like the SNANA simulations ELAsTiCC2 used (which keep events that pass the trigger),
every object gets at least one detection: objects that have none are first moved in time (their
event onto an observed epoch), then brought closer (lower redshift or a brighter star) for up to
two rounds, and the very few left get their best epoch's noise draw raised to S/N 5.
"""

from __future__ import annotations

import numpy as np

from desctom.elasticc2.loaders.synth import lightcurves
from desctom.elasticc2.loaders.synth.physics import SKY_PSF_NJY, distance_modulus, mag_to_njy
from desctom.elasticc2.loaders.synth.population import AGN, ANCHORED_KINDS, BURST, FLARE, LENS, NOVA

DETECTION_SNR = 5.0


def flux_errors(total, host_psf, depth, band):
    """1-sigma flux errors (nJy): sky noise at the visit's depth plus source and host photon noise."""
    sky = mag_to_njy(depth) / 5
    return sky * np.sqrt(1 + (np.maximum(total, 0) + host_psf) / SKY_PSF_NJY[band])


def observe(diff, err, eps):
    """(flux, err, snr) as stored: float32, snr computed from the stored values."""
    flux32 = (diff + err * eps).astype(np.float32)
    err32 = err.astype(np.float32)
    return flux32, err32, flux32 / err32


class Photometry:
    """The rows of a set of objects (grouped by object, time-ordered) and their measurements."""

    def __init__(self, p, ebv, obj, t, band, depth, drw, eps, host_psf):
        self.p, self.ebv, self.obj, self.t, self.band, self.depth = p, ebv, obj, t, band, depth
        self.drw, self.eps, self.host_psf = drw, eps, host_psf
        n = len(p["kind"])
        self.counts = np.bincount(obj, minlength=n)
        self.starts = np.cumsum(self.counts) - self.counts
        self.diff = np.zeros(len(obj))
        self.total = np.zeros(len(obj))
        self.err = np.zeros(len(obj))
        self.flux = np.zeros(len(obj), np.float32)
        self.psfluxerr = np.zeros(len(obj), np.float32)
        self.snr = np.zeros(len(obj), np.float32)
        self._update(np.ones(n, bool))

    def _update(self, objects: np.ndarray) -> None:
        """Re-evaluate the model and the measurements of the rows of ``objects`` (a mask)."""
        rows = np.flatnonzero(objects[self.obj])
        obj, band = self.obj[rows], self.band[rows]
        diff, total = lightcurves.evaluate(self.p, self.ebv, obj, self.t[rows], band, self.drw[rows])
        host = self.host_psf(self.p["z"])[obj, band]
        err = flux_errors(total, host, self.depth[rows], band)
        self.diff[rows], self.total[rows], self.err[rows] = diff, total, err
        self.flux[rows], self.psfluxerr[rows], self.snr[rows] = observe(diff, err, self.eps[rows])

    def undetected(self) -> np.ndarray:
        """Mask of objects without any detection."""
        hits = np.bincount(self.obj, weights=self.snr >= DETECTION_SNR, minlength=len(self.counts))
        return hits == 0

    def ensure_detections(self, rng) -> None:
        """Change the objects without a detection until each has one (see the module docstring)."""
        p = self.p
        for attempt in range(3):
            failing = self.undetected()
            if not failing.any():
                return
            self._anchor(rng, failing & np.isin(p["kind"], ANCHORED_KINDS))
            if attempt:
                closer = np.flatnonzero(failing & (p["kind"] == BURST))
                p["z"][closer] *= rng.uniform(0.4, 0.8, len(closer))
                p["mu"][closer] = distance_modulus(p["z"][closer])
                brighter = np.flatnonzero(failing & (p["kind"] != BURST))
                step = rng.uniform(0.5, 1.5, len(brighter))
                p["m_base"][brighter] -= step
                p["mu"][brighter] -= np.where(p["kind"][brighter] == AGN, 0.0, step)
            self._update(failing)
        failing = self.undetected()
        if failing.any():
            rows = np.flatnonzero(failing[self.obj])
            ratio = self.diff[rows] / self.err[rows]
            best = rows[np.lexsort((-ratio, self.obj[rows]))]
            best = best[np.r_[True, self.obj[best][1:] != self.obj[best][:-1]]]
            needed = DETECTION_SNR + 0.05 - self.diff[best] / self.err[best]
            self.eps[best] = np.maximum(self.eps[best], needed)
            self._update(failing)

    def _anchor(self, rng, objects: np.ndarray) -> None:
        """Move the event of each of ``objects`` (a mask) close to one of its observed epochs."""
        idx = np.flatnonzero(objects & (self.counts > 0))
        if not len(idx):
            return
        p = self.p
        epoch = self.t[self.starts[idx] + (rng.random(len(idx)) * self.counts[idx]).astype(int)]
        u = rng.random(len(idx))
        kind = p["kind"][idx]
        new = np.select(
            [kind == BURST, kind == FLARE, kind == NOVA, kind == LENS],
            [epoch + (1.5 * u - 0.5) * p["tau_rise"][idx] * (1 + p["z"][idx]),
             epoch - 0.5 * u * p["flare_tau"][idx, 0],
             epoch - u * p["decay"][idx] - 0.15 * p["period"][idx] * np.sin(p["shape"][idx]),
             epoch + (0.6 * u - 0.3) * p["t_e"][idx]])
        p["t_event"][idx] = new
        flares = idx[kind == FLARE]
        p["flare_t"][flares, 0] = p["t_event"][flares]


def per_object_stats(ph: Photometry, n: int) -> dict[str, np.ndarray]:
    """Light-curve statistics of the truth table: S/N maxima, first/last detection, peak row."""
    per_band = np.full((n, 6), -np.inf, np.float32)
    np.maximum.at(per_band, (ph.obj, ph.band), ph.snr)
    ranked = -np.sort(-per_band, axis=1)
    ranked[~np.isfinite(ranked)] = 0.0
    detected = np.flatnonzero(ph.snr >= DETECTION_SNR)
    owners, first = np.unique(ph.obj[detected], return_index=True)
    last = np.r_[first[1:], len(detected)] - 1
    mjd_first, mjd_last = np.full(n, np.nan), np.full(n, np.nan)
    mjd_first[owners], mjd_last[owners] = ph.t[detected[first]], ph.t[detected[last]]
    order = np.lexsort((-ph.diff, ph.obj))
    peak_row = order[ph.starts[ph.counts > 0]]
    return {"snrmax": ranked[:, 0], "snrmax2": ranked[:, 1], "snrmax3": ranked[:, 2],
            "mjd_detect_first": mjd_first, "mjd_detect_last": mjd_last, "peak_row": peak_row}
