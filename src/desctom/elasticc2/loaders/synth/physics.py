"""Physical constants and small helpers: LSST bands, magnitudes, blackbodies, extinction, distances."""

from __future__ import annotations

import numpy as np

from desctom.survey.lsst import BANDS, ZEROPOINT  # noqa: F401 - BANDS: index 0..5 of the arrays below

#: Effective wavelengths of the LSST bands (nm).
BAND_NM = np.array([367.0, 482.0, 622.0, 755.0, 869.0, 971.0])
#: Rest-frame wavelength (nm) at which transients' peak absolute magnitudes are defined (about r).
REF_NM = 620.0
#: Milky Way extinction per unit E(B-V) in the LSST bands (R_V = 3.1).
MW_R = np.array([4.81, 3.64, 2.70, 2.06, 1.58, 1.31])
#: Median single-visit 5-sigma depths (AB) in dark time, close to the LSST design values.
M5_VISIT = np.array([24.0, 24.75, 24.35, 23.7, 22.95, 22.05])
#: Sky flux inside the PSF footprint (nJy): the source brightness at which source noise equals sky noise.
SKY_PSF_NJY = 10 ** (0.4 * (ZEROPOINT - np.array([22.56, 21.86, 20.80, 20.08, 19.20, 18.21])))
#: Brightest unsaturated magnitude of a 15 s LSST visit.
SATURATION_MAG = np.array([14.7, 15.7, 15.8, 15.8, 15.3, 13.9])
#: hc/k in nm K.
HC_K = 1.4387769e7


def mag_to_njy(mag):
    """AB magnitude -> flux in nJy."""
    return 10.0 ** (0.4 * (ZEROPOINT - np.asarray(mag, dtype=float)))


def njy_to_mag(flux, faint: float = 99.0):
    """Flux in nJy -> AB magnitude (``faint`` for fluxes <= 0 or fainter than it)."""
    flux = np.asarray(flux, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = ZEROPOINT - 2.5 * np.log10(flux)
    return np.where((flux > 0) & (mag < faint), mag, faint)


def planck_ratio(lam_nm, temp, lam_ref_nm, temp_ref):
    """B_nu(lam, T) / B_nu(lam_ref, T_ref): colour of a blackbody relative to a reference point."""
    lam_nm = np.asarray(lam_nm, dtype=float)
    num = np.expm1(np.minimum(HC_K / (lam_ref_nm * temp_ref), 700.0)) * lam_ref_nm ** 3
    den = np.expm1(np.minimum(HC_K / (lam_nm * temp), 700.0)) * lam_nm ** 3
    return num / den


def host_extinction(av, lam_rest_nm):
    """Host-galaxy extinction (mag) at a rest wavelength, a power-law approximation of a CCM curve."""
    return np.asarray(av) * (550.0 / np.asarray(lam_rest_nm)) ** 1.3


# -- distances: flat LCDM, H0 = 70, Omega_m = 0.3 ----------------------------------------------------
_Z_GRID = np.concatenate([[0.0], np.geomspace(1e-4, 8.0, 4000)])


def _luminosity_distance_mpc() -> np.ndarray:
    ez = np.sqrt(0.3 * (1 + _Z_GRID) ** 3 + 0.7)
    steps = np.diff(_Z_GRID) * 0.5 * (1 / ez[1:] + 1 / ez[:-1])
    comoving = 299792.458 / 70.0 * np.concatenate([[0.0], np.cumsum(steps)])
    return (1 + _Z_GRID) * comoving


_DL_MPC = _luminosity_distance_mpc()


def luminosity_distance_mpc(z):
    """Luminosity distance (Mpc) at redshift z."""
    return np.interp(z, _Z_GRID, _DL_MPC)


def distance_modulus(z):
    """Distance modulus at redshift z (z > 0)."""
    return 5 * np.log10(np.maximum(luminosity_distance_mpc(z), 1e-6)) + 25


def kpc_per_arcsec(z):
    """Proper size (kpc) of one arcsecond at redshift z."""
    angular_mpc = luminosity_distance_mpc(z) / (1 + np.asarray(z)) ** 2
    return angular_mpc * 1000 * np.pi / 648000


# -- the sky -----------------------------------------------------------------------------------------
_RA_NGP, _DEC_NGP = np.radians(192.85948), np.radians(27.12825)


def galactic_latitude(ra, dec):
    """Galactic latitude (degrees) of equatorial coordinates (degrees)."""
    ra, dec = np.radians(ra), np.radians(dec)
    sin_b = np.sin(dec) * np.sin(_DEC_NGP) + np.cos(dec) * np.cos(_DEC_NGP) * np.cos(ra - _RA_NGP)
    return np.degrees(np.arcsin(np.clip(sin_b, -1, 1)))


def offset_position(ra, dec, sep_arcsec, angle):
    """The point ``sep_arcsec`` away from (ra, dec) in direction ``angle`` (radians, east of north)."""
    dra = sep_arcsec * np.sin(angle) / 3600 / np.maximum(np.cos(np.radians(dec)), 1e-3)
    ddec = sep_arcsec * np.cos(angle) / 3600
    return (np.asarray(ra) + dra) % 360.0, np.clip(np.asarray(dec) + ddec, -90.0, 90.0)
