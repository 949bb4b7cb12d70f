"""Light-curve features (the ``light-curve`` package) of forced photometry, as ``/elasticc2/ltcvfeatures``
computes them."""

from __future__ import annotations

import light_curve
import numpy as np


def _feature_extractors():
    """The fixed feature set of the original, in its order; names are the library's."""
    return [light_curve.AndersonDarlingNormal(), light_curve.InterPercentileRange(0.05),
            light_curve.ReducedChi2(), light_curve.StetsonK(), light_curve.WeightedMean(),
            light_curve.Duration(), light_curve.OtsuSplit(), light_curve.LinearFit()]


FEATURES = _feature_extractors()
FEATURE_NAMES = [name for feature in FEATURES for name in feature.names]


def compute_features(mjd, flux, fluxerr) -> dict[str, float | None]:
    """The 13 features of a time-ordered light curve; a feature needing more points than there are
    (or not finite) is ``None``."""
    t = np.asarray(mjd, dtype=np.float64)
    m = np.asarray(flux, dtype=np.float64)
    sigma = np.asarray(fluxerr, dtype=np.float64)
    result: dict[str, float | None] = {}
    for feature in FEATURES:
        try:
            values = feature(t, m, sigma, sorted=True, check=False)
        except ValueError:  # too few points for this feature
            values = [None] * len(feature.names)
        for name, value in zip(feature.names, values, strict=True):
            result[name] = None if value is None or not np.isfinite(value) else float(value)
    return result


def band_order(band: str) -> tuple[int, str]:
    """Sort key of a band: ``ugrizY`` first, in that order, then any other by name."""
    order = "ugrizY"
    return (order.index(band), band) if band in order else (len(order), band)
