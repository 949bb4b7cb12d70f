"""Noiseless light curves: the difference flux (what a DiaSource measures) and the total flux.

All fluxes are nJy in the observer frame. Kinds (see :mod:`.population`):

* burst: explosive transients. A Bazin rise-and-decline profile in rest-frame time (so stretched
  by 1 + z), times a blackbody that cools from ``t_hot`` to ``t_cool``, with an ultraviolet cut-off
  (line blanketing), host and Milky Way dust; the peak absolute magnitude is at ~620 nm rest frame,
  so colours and K-corrections follow from the redshift.
* flare: an M dwarf with up to eight flares (near-instant rise, exponential decay, 9000 K).
* dwarf nova: quasi-periodic outbursts of 2-5 mag (fast rise, exponential decline, 12000 K).
* microlensing: a Paczynski magnification of the lensed star; binary lenses add a caustic spike.
* pulsator: Cepheids, RR Lyrae (sawtooth) and delta Scuti (near-sinusoidal), larger in blue.
* eclipsing binary: primary and secondary eclipses, ellipsoidal variation for short periods.
* agn: a damped random walk (stochastic variability), larger in blue.

For variable stars and AGN the difference flux is relative to a template, the mean brightness.
"""

from __future__ import annotations

import numpy as np

from desctom.elasticc2.loaders.synth.physics import (
    BAND_NM,
    MW_R,
    REF_NM,
    host_extinction,
    mag_to_njy,
    planck_ratio,
)
from desctom.elasticc2.loaders.synth.population import AGN, BURST, ECLIPSE, FLARE, LENS, NOVA, PULSE

#: Variability amplitude per band relative to g (pulsators) or r (AGN).
_PULSE_COLOUR = np.array([1.15, 1.0, 0.8, 0.65, 0.55, 0.5])
_AGN_COLOUR = np.array([1.5, 1.25, 1.0, 0.9, 0.8, 0.75])
_PHASE_GRID = (np.arange(64) + 0.5) / 64


def evaluate(p: dict, ebv: np.ndarray, obj: np.ndarray, t: np.ndarray, band: np.ndarray,
             drw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(difference flux, total flux) in nJy of rows (object index, mjd, band index).

    ``drw`` is the unit damped-random-walk value of each row (used by AGN rows only).
    """
    diff, total = np.zeros(len(obj)), np.zeros(len(obj))
    kind = p["kind"][obj]
    for k, model in ((BURST, _burst), (FLARE, _flare), (NOVA, _nova), (LENS, _lens), (PULSE, _periodic),
                     (ECLIPSE, _periodic), (AGN, _agn)):
        rows = np.flatnonzero(kind == k)
        if len(rows):
            diff[rows], total[rows] = model(p, ebv, obj[rows], t[rows], band[rows], drw[rows])
    return diff, total


def star_flux(p, ebv, obj, band):
    """Quiescent (or mean) flux of a star: r magnitude ``m_base``, blackbody colours, Milky Way dust."""
    temp = p["t_star"][obj]
    colour = planck_ratio(BAND_NM[band], temp, BAND_NM[2], temp)
    return mag_to_njy(p["m_base"][obj] + MW_R[band] * ebv[obj]) * colour


def _burst(p, ebv, obj, t, band, _drw):
    z = p["z"][obj]
    tau_r, tau_f = p["tau_rise"][obj], p["tau_fall"][obj]
    x = (t - p["t_event"][obj]) / (1 + z)  # rest-frame days from peak
    s_peak = tau_r * np.log((tau_f - tau_r) / tau_r)
    s = x + s_peak
    log_g = -s / tau_f - np.logaddexp(0, -s / tau_r) + s_peak / tau_f + np.log(tau_f / (tau_f - tau_r))
    t_hot, t_cool = p["t_hot"][obj], p["t_cool"][obj]
    temp = t_cool + (t_hot - t_cool) * np.exp(-np.maximum(x, 0) / p["tau_t"][obj])
    lam = BAND_NM[band] / (1 + z)
    cut = np.nan_to_num(p["uv_cut"][obj])
    sed = planck_ratio(lam, temp, REF_NM, t_hot) * (1 + (cut / REF_NM) ** 8) / (1 + (cut / lam) ** 8)
    mag = (p["m_peak"][obj] + p["mu"][obj] - 2.5 * np.log10(1 + z) + host_extinction(p["av"][obj], lam)
           + MW_R[band] * ebv[obj])
    flux = mag_to_njy(mag) * sed * np.exp(np.maximum(log_g, -700))
    return flux, flux


def _flare(p, ebv, obj, t, band, _drw):
    quiet = star_flux(p, ebv, obj, band)
    quiet_g = star_flux(p, ebv, obj, np.ones_like(band))
    dt = t[:, None] - p["flare_t"][obj]
    rise = p["rise"][obj][:, None]
    with np.errstate(invalid="ignore"):
        shape = np.where(dt < 0, 0.0, np.where(dt < rise, dt / rise,
                                                 np.exp(-np.maximum(dt - rise, 0) / p["flare_tau"][obj])))
    shape = np.nan_to_num(shape)  # unused slots
    colour = planck_ratio(BAND_NM[band], 9000.0, BAND_NM[1], 9000.0)
    diff = quiet_g * colour * (shape * p["flare_amp"][obj]).sum(axis=1)
    return diff, quiet + diff


def _nova(p, ebv, obj, t, band, _drw):
    quiet = star_flux(p, ebv, obj, band)
    peak_g = star_flux(p, ebv, obj, np.ones_like(band)) * (10 ** (0.4 * p["amp"][obj]) - 1)
    period, phase0 = p["period"][obj], p["shape"][obj]
    nearest = np.floor((t - p["t_event"][obj]) / period)
    light = np.zeros(len(obj))
    for k in (nearest - 1, nearest, nearest + 1):
        start = p["t_event"][obj] + k * period + 0.15 * period * np.sin(1.7 * k + phase0)
        height = 0.75 + 0.25 * np.sin(2.3 * k + 2 * phase0)
        dt = t - start
        light += height * np.where(dt < 0, np.exp(np.clip(dt, -50, 0) * 3 / p["rise"][obj]),
                                   np.exp(-np.maximum(dt, 0) / p["decay"][obj]))
    diff = peak_g * planck_ratio(BAND_NM[band], 12000.0, BAND_NM[1], 12000.0) * light
    return diff, quiet + diff


def _lens(p, ebv, obj, t, band, _drw):
    base = star_flux(p, ebv, obj, band)
    u = np.sqrt(p["u0"][obj] ** 2 + ((t - p["t_event"][obj]) / p["t_e"][obj]) ** 2)
    magnification = (u**2 + 2) / (u * np.sqrt(u**2 + 4))
    caustic = p["caustic_amp"][obj] * np.exp(
        -0.5 * ((t - p["t_event"][obj] - p["caustic_dt"][obj]) / p["caustic_width"][obj]) ** 2)
    diff = base * p["amp"][obj] * (magnification - 1 + np.nan_to_num(caustic))
    return diff, base + diff


def _periodic_factor(p, obj, phase, band):
    """Brightness relative to the mean-magnitude level, at phases (rows x any)."""
    band = band[:, None] if np.ndim(phase) == 2 else band
    pick = (lambda a: a[obj][:, None]) if np.ndim(phase) == 2 else (lambda a: a[obj])
    if p["kind"][obj[0]] == PULSE:
        c2 = pick(p["shape"])
        wave = sum(c * np.sin(2 * np.pi * k * phase) / k for k, c in ((1, 1.0), (2, c2), (3, c2**2)))
        norm = 1.0 + 0.5 * c2 + 0.33 * c2**2  # bounds the sum: wave / (2 norm) stays within +-0.5
        return 10 ** (0.4 * pick(p["amp"]) * _PULSE_COLOUR[band] * wave / (2 * norm))
    d1 = np.minimum(pick(p["depth1"]) * (1 + 0.08 * (2 - band)), 0.95)
    d2 = np.minimum(pick(p["depth2"]) * (1 + 0.08 * (2 - band)), 0.95)
    width = pick(p["width"])
    to_primary = np.abs((phase + 0.5) % 1 - 0.5)
    to_secondary = np.abs(phase % 1 - 0.5)
    eclipses = d1 * np.exp(-0.5 * (to_primary / width) ** 2) + d2 * np.exp(-0.5 * (to_secondary / width) ** 2)
    return 1 - eclipses + pick(p["ellips"]) * np.cos(4 * np.pi * phase)


def _periodic(p, ebv, obj, t, band, _drw):
    mean = star_flux(p, ebv, obj, band)
    phase = ((t - p["t_event"][obj]) / p["period"][obj]) % 1.0
    flux = mean * _periodic_factor(p, obj, phase, band)
    # Template: the phase-averaged brightness, per (object, band).
    pairs, inverse = np.unique(obj.astype(np.int64) * 8 + band, return_inverse=True)
    grid = np.broadcast_to(_PHASE_GRID, (len(pairs), len(_PHASE_GRID)))
    level = _periodic_factor(p, pairs // 8, grid, pairs % 8).mean(axis=1)
    return flux - mean * level[inverse.reshape(-1)], flux


def _agn(p, ebv, obj, t, band, drw):
    mean = mag_to_njy(p["m_base"][obj] + MW_R[band] * ebv[obj]) * (BAND_NM[band] / BAND_NM[2]) ** 0.5
    flux = mean * 10 ** (0.4 * _AGN_COLOUR[band] * p["sf"][obj] / np.sqrt(2) * drw)
    return flux - mean, flux


def unit_drw(rng, obj: np.ndarray, t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """A damped random walk of unit variance for the rows of each object (rows grouped, time-ordered).

    ``tau`` is per object (observer-frame days); objects with NaN tau get zeros.
    """
    out = np.zeros(len(obj))
    rows = np.flatnonzero(np.isfinite(tau[obj]))
    if not len(rows):
        return out
    owners, first, counts = np.unique(obj[rows], return_index=True, return_counts=True)
    width = counts.max()
    col = np.arange(len(rows)) - np.repeat(first, counts)
    grid = np.repeat(t[rows][first][:, None], width, axis=1)  # padded with the first time
    grid[np.repeat(np.arange(len(owners)), counts), col] = t[rows]
    grid = np.maximum.accumulate(grid, axis=1)  # padding repeats the last time: no change
    scale = tau[owners][:, None]
    elapsed = (grid - grid[:, :1]) / scale
    step = np.sqrt(-np.expm1(-2 * np.diff(elapsed, axis=1, prepend=elapsed[:, :1])))
    noise = rng.standard_normal(grid.shape)
    terms = step * noise * np.exp(elapsed)
    terms[:, 0] = noise[:, 0]
    walk = np.exp(-elapsed) * np.cumsum(terms, axis=1)
    out[rows] = walk[np.repeat(np.arange(len(owners)), counts), col]
    return out
