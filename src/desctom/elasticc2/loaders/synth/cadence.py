"""An LSST-like observing cadence: survey fields, observing seasons, visits, bands and depths.

The sky (declination -72 to +10) is tiled with fields of about 3.5 x 3.5 degrees; five deep-drilling
fields (DDFs) sit on the LSST DDF positions. A field can be observed while it is more than about
three months from conjunction with the Sun: a season of about six months a year (longer for the
far south). In season a wide-survey field is visited on about one night in four, mostly twice a
night in two neighbouring bands; a DDF is visited every other night with a sequence of about ten
exposures. Bands follow the Moon (u and g in dark time, z and y in bright time); each visit's
5-sigma depth scatters around the survey's median and is shallower in bright time.

Schedules depend only on (seed, field, survey span): objects in one field share their visit times.
"""

from __future__ import annotations

import numpy as np

from desctom.elasticc2.loaders.synth.physics import M5_VISIT

FIELD_DEG = 3.5
DEC_MIN, DEC_MAX = -72.0, 10.0
#: ELAIS-S1, XMM-LSS, ECDFS, COSMOS, EDFS (centres, degrees).
DDF_CENTRES = ((9.45, -44.0), (35.71, -4.75), (53.13, -28.10), (150.10, 2.18), (61.24, -48.42))
DDF_RADIUS_DEG = 1.75
DDF_FIELD_BASE = 100_000  # field ids of the DDFs: DDF_FIELD_BASE + index
MARCH_EQUINOX_MJD = 60754.38  # 2025-03-20; the Sun's right ascension is 0 then
NEW_MOON_MJD, SYNODIC_MONTH = 60704.525, 29.530589
YEAR = 365.25
#: Share of visits per band in dark time, and how bright time shifts it.
BAND_WEIGHTS = np.array([0.07, 0.09, 0.22, 0.22, 0.20, 0.20])
MOON_BAND_FACTOR = np.array([-1.0, -0.5, 0.0, 0.0, 0.3, 0.5])
MOON_DEPTH_LOSS = np.array([0.6, 0.4, 0.2, 0.1, 0.05, 0.0])
DDF_SEQUENCE = np.array([1, 1, 2, 2, 3, 3, 4, 4, 5, 5])  # plus one u exposure in dark time
_N_DEC_BANDS = int(np.ceil((DEC_MAX - DEC_MIN) / FIELD_DEG))
_DEC_CENTRES = DEC_MIN + (np.arange(_N_DEC_BANDS) + 0.5) * FIELD_DEG
_RA_CELLS = np.maximum(1, np.round(360 * np.cos(np.radians(_DEC_CENTRES)) / FIELD_DEG)).astype(int)


def wfd_field(ra, dec) -> np.ndarray:
    """The wide-survey field id of each position: 1000 * declination band + right-ascension cell."""
    band = np.clip(((np.asarray(dec) - DEC_MIN) / FIELD_DEG).astype(int), 0, _N_DEC_BANDS - 1)
    cell = (np.asarray(ra) % 360 / 360 * _RA_CELLS[band]).astype(int) % _RA_CELLS[band]
    return band * 1000 + cell


def field_centre(field):
    """(ra, dec) of field centres."""
    field = np.asarray(field)
    ddf = field >= DDF_FIELD_BASE
    band, cell = np.minimum(field // 1000, _N_DEC_BANDS - 1), field % 1000
    ra = (cell + 0.5) * 360.0 / _RA_CELLS[band]
    dec = _DEC_CENTRES[band]
    centres = np.array(DDF_CENTRES)[np.where(ddf, field - DDF_FIELD_BASE, 0)]
    return np.where(ddf, centres[..., 0], ra), np.where(ddf, centres[..., 1], dec)


def season_geometry(field):
    """(time of opposition, half-length of the observing season in days) of fields."""
    ra, dec = field_centre(field)
    opposition = MARCH_EQUINOX_MJD + ((np.asarray(ra) + 180) % 360) / 360 * YEAR
    half = 85 + 35 * np.clip((-np.asarray(dec) - 20) / 50, 0, 1)
    return opposition, half


def days_from_season_edge(field, mjd):
    """Days from ``mjd`` to the nearest edge of the field's season (> 0 in season, < 0 in the gap)."""
    opposition, half = season_geometry(field)
    phase = (np.asarray(mjd) - opposition + YEAR / 2) % YEAR - YEAR / 2
    return half - np.abs(phase)


def moon_illumination(mjd):
    """Fraction of the Moon's disc lit (0 new, 1 full)."""
    return 0.5 * (1 - np.cos(2 * np.pi * (np.asarray(mjd) - NEW_MOON_MJD) / SYNODIC_MONTH))


class Schedules:
    """Visit schedules of the survey's fields, made on first use and kept."""

    def __init__(self, seed: int, start_mjd: float, days: float):
        self.seed, self.start, self.end = seed, float(start_mjd), float(start_mjd) + float(days)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def get(self, field: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mjd, band index, 5-sigma depth) of every visit of ``field``, in time order."""
        if field not in self._cache:
            self._cache[field] = self._make(int(field))
        return self._cache[field]

    def _make(self, field: int):
        rng = np.random.default_rng([self.seed, 7, field])
        deep = field >= DDF_FIELD_BASE
        opposition, half = season_geometry(field)
        nights = np.arange(np.floor(self.start), np.ceil(self.end))
        phase = (nights + 0.2 - opposition + YEAR / 2) % YEAR - YEAR / 2
        observed = (np.abs(phase) <= half) & (rng.random(len(nights)) < (0.42 if deep else 0.27))
        nights, phase = nights[observed], phase[observed]
        illum = moon_illumination(nights)
        # The field crosses the meridian near local midnight (04:40 UT) at opposition, 4 min earlier a day.
        first = np.clip(0.195 - phase / YEAR + rng.uniform(-0.06, 0.06, len(nights)), 0.0, 0.42)
        if deep:
            with_u = illum < 0.4
            per_night = len(DDF_SEQUENCE) + with_u
            gap = np.full(len(nights), 0.0007)
        else:
            per_night = rng.choice([1, 2, 3], size=len(nights), p=[0.2, 0.7, 0.1])
            gap = rng.uniform(0.015, 0.035, len(nights))
        night_of = np.repeat(np.arange(len(nights)), per_night)
        order = np.arange(len(night_of)) - np.repeat(np.cumsum(per_night) - per_night, per_night)
        mjd = nights[night_of] + first[night_of] + order * gap[night_of]
        if deep:
            sequence = np.concatenate([[0], DDF_SEQUENCE])
            band = sequence[order + 1 - with_u[night_of]]
        else:
            weights = BAND_WEIGHTS * (1 + MOON_BAND_FACTOR * illum[:, None])
            cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
            first_band = (rng.random(len(nights))[:, None] > cumulative).sum(axis=1)
            step = rng.choice([-1, 0, 1], size=len(night_of), p=[0.3, 0.3, 0.4])
            band = np.where(order == 0, first_band[night_of], first_band[night_of] + step)
            band = np.where(band < 0, 1, np.where(band > 5, 4, band))
        depth = (M5_VISIT[band] + np.clip(rng.normal(0, 0.25, len(mjd)), -1.2, 0.6)
                 - MOON_DEPTH_LOSS[band] * illum[night_of])
        keep = (mjd >= self.start) & (mjd < self.end)
        return mjd[keep], band[keep].astype(np.int8), depth[keep].astype(np.float32)

    def epochs(self, fields: np.ndarray, first: np.ndarray, last: np.ndarray):
        """Visits of each object's field within its window [first, last].

        Returns (object index, mjd, band, depth) for all objects, grouped by object and in time order.
        """
        unique, rank = np.unique(fields, return_inverse=True)
        parts = [self.get(int(f)) for f in unique]
        lengths = np.array([len(p[0]) for p in parts])
        mjd = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
        band = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int8)
        depth = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.float32)
        # One sorted key for all fields: rank * 1e6 + days since the start.
        key = np.repeat(np.arange(len(unique)), lengths) * 1e6 + (mjd - self.start)
        lo = np.searchsorted(key, rank * 1e6 + (first - self.start), side="left")
        hi = np.searchsorted(key, rank * 1e6 + (last - self.start), side="right")
        counts = np.maximum(hi - lo, 0)
        obj = np.repeat(np.arange(len(fields)), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        take = np.repeat(lo, counts) + within
        return obj, mjd[take], band[take], depth[take]
