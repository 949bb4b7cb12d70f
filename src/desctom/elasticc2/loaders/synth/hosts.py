"""Where objects are and what they live in: sky positions, Milky Way dust and host galaxies.

Galactic objects (stars) crowd towards the Galactic plane, extragalactic ones avoid it. Every
extragalactic object except a few hostless ones has a host galaxy: absolute magnitude and colours,
a size that shrinks with distance, an offset of the object from the host's centre (``snsep``, and in
units of the directional light radius for the truth's ``galsnddlr``), photometric redshift with an
error that grows for faint hosts, its quantiles, and for bright hosts often a spectroscopic redshift.
About one host in eight has a second candidate host farther away (``hostgal2_*``). Absent hosts
are NULL columns.
"""

from __future__ import annotations

import numpy as np

from desctom.elasticc2.loaders.synth.cadence import DDF_CENTRES, DDF_RADIUS_DEG, DEC_MAX, DEC_MIN
from desctom.elasticc2.loaders.synth.physics import (
    BANDS,
    MW_R,
    ZEROPOINT,
    distance_modulus,
    galactic_latitude,
    kpc_per_arcsec,
    offset_position,
)

#: Standard normal quantiles used for the photo-z quantiles q000 ... q100 (q000/q100 at +-3 sigma).
_QUANTILE_Z = np.array([-3.0, -1.2816, -0.8416, -0.5244, -0.2533, 0.0, 0.2533, 0.5244, 0.8416, 1.2816, 3.0])
#: Host colours (rest frame, mag relative to r) and how they redden with redshift per unit z.
_HOST_COLOUR = np.array([1.9, 0.65, 0.0, -0.35, -0.55, -0.65])
_HOST_REDDENING = np.array([1.2, 0.9, 0.4, 0.1, 0.0, -0.1])
#: 5-sigma depths of the host photometry (a coadd of about a year).
_HOST_DEPTH = np.array([25.6, 26.6, 26.3, 25.8, 25.0, 23.9])
SECOND_HOST_FRACTION = 0.12
DDF_FRACTION = 0.01


def positions(rng, galactic: np.ndarray, ddf: np.ndarray):
    """(ra, dec) of objects: DDF objects inside a DDF, the others across the footprint."""
    n = len(galactic)
    ra, dec = np.zeros(n), np.zeros(n)
    todo = np.flatnonzero(~ddf)
    while len(todo):
        cand_ra = rng.uniform(0, 360, len(todo))
        sin_lo, sin_hi = np.sin(np.radians(DEC_MIN)), np.sin(np.radians(DEC_MAX))
        cand_dec = np.degrees(np.arcsin(rng.uniform(sin_lo, sin_hi, len(todo))))
        b = np.abs(galactic_latitude(cand_ra, cand_dec))
        keep_prob = np.where(galactic[todo], 0.2 + 0.8 * np.exp(-b / 15), 1 - 0.95 * np.exp(-b / 8))
        ok = rng.random(len(todo)) < keep_prob
        ra[todo[ok]], dec[todo[ok]] = cand_ra[ok], cand_dec[ok]
        todo = todo[~ok]
    deep = np.flatnonzero(ddf)
    which = rng.integers(0, len(DDF_CENTRES), len(deep))
    centre = np.array(DDF_CENTRES)[which]
    sep = DDF_RADIUS_DEG * 3600 * np.sqrt(rng.random(len(deep)))
    angle = rng.uniform(0, 2 * np.pi, len(deep))
    ra[deep], dec[deep] = offset_position(centre[:, 0], centre[:, 1], sep, angle)
    return ra, dec, which


def milky_way_ebv(rng, ra, dec):
    """True Milky Way E(B-V) along each line of sight: thin at high latitude, thick near the plane."""
    b = np.abs(galactic_latitude(ra, dec))
    return np.minimum(0.018 / np.maximum(np.sin(np.radians(b)), 0.05) * rng.lognormal(0, 0.3, len(ra)), 2.0)


def draw_galaxies(rng, n: int) -> dict[str, np.ndarray]:
    """Intrinsic properties of ``n`` galaxies (independent of redshift)."""
    return {"m_abs": rng.normal(-20.6, 1.0, n), "colour": rng.normal(0, 0.12, (n, 6)),
            "r_kpc": rng.lognormal(np.log(3.5), 0.4, n), "ellipticity": 0.8 * rng.beta(2.0, 3.0, n),
            "offset": rng.gamma(2.0, 0.55, n), "angle": rng.uniform(0, 2 * np.pi, n),
            "axis_angle": rng.uniform(0, np.pi, n), "id": rng.integers(10**9, 2 * 10**10, n)}


def galaxy_mags(gal: dict, z, ebv) -> np.ndarray:
    """Apparent ugrizY magnitudes (n, 6) of galaxies at redshift z behind Milky Way dust ebv."""
    z = np.asarray(z)[:, None]
    return (gal["m_abs"][:, None] + distance_modulus(z) - 2.5 * np.log10(1 + z) + _HOST_COLOUR
            + _HOST_REDDENING * z + gal["colour"] + MW_R * np.asarray(ebv)[:, None])


def galaxy_size(gal: dict, z) -> tuple[np.ndarray, np.ndarray]:
    """Half-light semi-axes (a, b) in arcsec."""
    a = gal["r_kpc"] / kpc_per_arcsec(np.maximum(z, 0.005))
    return a, a * (1 - gal["ellipticity"])


def host_light_in_psf(gal: dict, z, ebv) -> np.ndarray:
    """Host flux (nJy, n x 6) inside the PSF at the object's position: adds photon noise."""
    a, b = galaxy_size(gal, z)
    flux = 10 ** (0.4 * (ZEROPOINT - galaxy_mags(gal, z, ebv)))
    fraction = np.minimum(1.0, 1.45 / (2 * np.pi * a * b)) * np.exp(-0.5 * gal["offset"] ** 2)
    return flux * fraction[:, None]


def host_columns(rng, gal: dict, z, ebv, ra, dec, prefix: str) -> tuple[dict, dict]:
    """The 32 ``<prefix>_*`` object columns of hosts at redshift z, and truth values (galid, ddlr ...)."""
    n = len(z)
    mags = galaxy_mags(gal, z, ebv)
    snr = 5 * 10 ** (-0.4 * (mags - _HOST_DEPTH))
    magerr = np.minimum(1.0857 / snr + 0.005, 2.0)
    observed_mags = mags + magerr * rng.standard_normal((n, 6))
    a, b = galaxy_size(gal, z)
    sep = gal["offset"] * a
    phi = gal["axis_angle"]
    dlr = a * b / np.sqrt((a * np.sin(phi)) ** 2 + (b * np.cos(phi)) ** 2)
    host_ra, host_dec = offset_position(ra, dec, sep, gal["angle"] + np.pi)
    # Photometric redshift: scatter growing for faint hosts, a few catastrophic outliers.
    sigma = np.minimum((0.02 + 0.03 * np.clip((mags[:, 2] - 20) / 2, 0, 3)) * (1 + z), 0.6)
    zphot = z + sigma * rng.standard_normal(n)
    outlier = rng.random(n) < 0.04
    zphot = np.where(outlier, rng.uniform(0.02, 3.0, n), np.maximum(zphot, 0.001))
    zphot_err = sigma * rng.uniform(0.8, 1.25, n)
    width = np.where(_QUANTILE_Z < 0, rng.uniform(0.7, 1.3, n)[:, None], rng.uniform(0.7, 1.3, n)[:, None])
    quantiles = np.maximum(zphot[:, None] + zphot_err[:, None] * width * _QUANTILE_Z, 0.0)
    quantiles = np.maximum.accumulate(quantiles, axis=1)
    has_spec = rng.random(n) < np.where(mags[:, 2] < 21.0, 0.5, 0.05)
    zspec_err = np.where(has_spec, 1e-4 * (1 + z), np.nan)
    zspec = np.where(has_spec, z + zspec_err * rng.standard_normal(n), np.nan)
    cols = {f"{prefix}_ellipticity": gal["ellipticity"], f"{prefix}_sqradius": a**2 + b**2,
            f"{prefix}_zspec": zspec, f"{prefix}_zspec_err": zspec_err,
            f"{prefix}_zphot": zphot, f"{prefix}_zphot_err": zphot_err}
    for j, q in enumerate(range(0, 101, 10)):
        cols[f"{prefix}_zphot_q{q:03d}"] = quantiles[:, j]
    for j, band in enumerate(BANDS):
        cols[f"{prefix}_mag_{band.lower()}"] = observed_mags[:, j]
        cols[f"{prefix}_magerr_{band.lower()}"] = magerr[:, j]
    cols.update({f"{prefix}_ra": host_ra, f"{prefix}_dec": host_dec, f"{prefix}_snsep": sep})
    truth = {"galid": gal["id"], "ddlr": sep / dlr, "has_spec": has_spec}
    return cols, truth
