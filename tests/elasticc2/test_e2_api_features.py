"""``/elasticc2/ltcvfeatures``: light-curve features of PPDB forced photometry."""

import math

import light_curve
import numpy as np
import pytest
from test_e2_api_data import (
    OBJ_A,
    OBJ_B,
    OBJ_D,
    assert_error,
    get_json,
    post_json,
    strict_json,
)

pytestmark = pytest.mark.django_db
URL = "/elasticc2/ltcvfeatures"
PREFIX = "Exception in LtcvFeatures: "
NAMES = ["anderson_darling_normal", "inter_percentile_range_5", "chi2", "stetson_K", "weighted_mean",
         "duration", "otsu_mean_diff", "otsu_std_lower", "otsu_std_upper", "otsu_lower_to_all_ratio",
         "linear_fit_slope", "linear_fit_slope_sigma", "linear_fit_reduced_chi2"]


def reference_features(rows):
    """The original's computation (one Extractor over all points), straight from the raw rows."""
    extractor = light_curve.Extractor(
        light_curve.AndersonDarlingNormal(), light_curve.InterPercentileRange(0.05),
        light_curve.ReducedChi2(), light_curve.StetsonK(), light_curve.WeightedMean(), light_curve.Duration(),
        light_curve.OtsuSplit(), light_curve.LinearFit())
    t = np.array([r["midpointtai"] for r in rows])
    values = extractor(t, np.array([r["psflux"] for r in rows]), np.array([r["psfluxerr"] for r in rows]),
                       sorted=True)
    assert extractor.names == NAMES
    return dict(zip(extractor.names, values.tolist(), strict=True))


def assert_features(got: dict, want: dict):
    assert list(got) == list(want)
    for name, value in want.items():
        if value is None:
            assert got[name] is None, name
        else:
            assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_objectid_uses_all_forced_photometry(api, sample):
    rows = sample["forced"][OBJ_A]
    res = post_json(api, URL, {"objectid": OBJ_A})
    assert res.status_code == 200
    got = strict_json(res)
    assert list(got) == NAMES  # a flat object of the 13 features, no status key
    assert_features(got, reference_features(rows))
    assert got["duration"] == rows[-1]["midpointtai"] - rows[0]["midpointtai"] == 38.0
    weights = [1 / r["psfluxerr"] ** 2 for r in rows]
    assert got["weighted_mean"] == pytest.approx(
        sum(w * r["psflux"] for w, r in zip(weights, rows, strict=True)) / sum(weights))


def test_sourceid_stops_at_the_detection(api, sample):
    source = sample["sources"][OBJ_A][3]
    rows = [r for r in sample["forced"][OBJ_A] if r["midpointtai"] <= source["midpointtai"]]
    assert len(rows) == 10
    got = post_json(api, URL, {"sourceid": source["diasource_id"], "includeltcv": True}).json()
    assert got["lightcurve"] == {"mjd": [r["midpointtai"] for r in rows], "flux": [r["psflux"] for r in rows],
                                 "dflux": [r["psfluxerr"] for r in rows]}
    assert_features({k: v for k, v in got.items() if k != "lightcurve"}, reference_features(rows))
    # sourceid wins over objectid; alertid (== the detection's alert) works like sourceid
    assert post_json(api, URL, {"sourceid": source["diasource_id"], "objectid": OBJ_B,
                                "includeltcv": True}).json() == got
    assert post_json(api, URL, {"alertid": source["diasource_id"], "includeltcv": True}).json() == got


def test_through_mjd(api, sample):
    rows = [r for r in sample["forced"][OBJ_A] if r["midpointtai"] <= 60010.0]
    got = post_json(api, URL, {"objectid": OBJ_A, "through_mjd": 60010.0, "includeltcv": 1}).json()
    assert got["lightcurve"]["mjd"] == [r["midpointtai"] for r in rows] and len(rows) == 6
    assert got["duration"] == 10.0
    late_source = sample["sources"][OBJ_A][-1]
    cut = post_json(api, URL, {"sourceid": late_source["diasource_id"], "through_mjd": 60010.0,
                               "includeltcv": 1}).json()
    assert cut == got


def test_too_few_points_gives_null_features(api, sample):
    # two points: no Anderson-Darling (needs 4) and no linear fit (needs 3), the rest is computed
    got = strict_json(post_json(api, URL, {"objectid": OBJ_B, "through_mjd": 60013.5}))
    assert got["anderson_darling_normal"] is None
    assert got["linear_fit_slope"] is got["linear_fit_slope_sigma"] is got["linear_fit_reduced_chi2"] is None
    assert got["duration"] == 3.0 and got["weighted_mean"] == 475.0
    # no points at all: every feature null, still a 200
    empty = strict_json(post_json(api, URL, {"objectid": OBJ_D}))
    assert empty == dict.fromkeys(NAMES)


def test_per_band(api, sample):
    rows = sample["forced"][OBJ_A]
    res = post_json(api, URL, {"objectid": OBJ_A, "per_band": True, "includeltcv": True})
    got = strict_json(res)
    assert list(got) == ["u", "g", "r", "i", "z", "Y", "lightcurve"]
    for band in "ugrizY":
        band_rows = [r for r in rows if r["filtername"] == band]
        want = {name: None for name in NAMES}
        if len(band_rows) >= 4:
            want = reference_features(band_rows)
        else:  # three points: everything but Anderson-Darling
            single = {}
            for feature in (light_curve.InterPercentileRange(0.05), light_curve.ReducedChi2(),
                            light_curve.StetsonK(), light_curve.WeightedMean(), light_curve.Duration(),
                            light_curve.OtsuSplit(), light_curve.LinearFit()):
                t = np.array([r["midpointtai"] for r in band_rows])
                values = feature(t, np.array([r["psflux"] for r in band_rows]),
                                 np.array([r["psfluxerr"] for r in band_rows]))
                single.update(zip(feature.names, values.tolist(), strict=True))
            want = {name: single.get(name) for name in NAMES}
            assert want["anderson_darling_normal"] is None
        assert_features(got[band], want)
    assert got["u"]["duration"] == 36.0
    assert got["lightcurve"]["band"] == [r["filtername"] for r in rows]


def test_get_is_an_alias_of_post(api, sample):
    assert get_json(api, URL, {"objectid": OBJ_A}).json() == post_json(api, URL, {"objectid": OBJ_A}).json()


@pytest.mark.parametrize(("body", "status", "text"), [
    ({}, 400, "Must supply either alertid or sourceid or objectid"),
    ({"through_mjd": 60000}, 400, "Must supply either alertid or sourceid or objectid"),
    ([OBJ_A], 400, "Must supply either alertid or sourceid or objectid"),
    ({"objectid": OBJ_A, "features": ["duration"]}, 400, "Passing feature list not yet implemented"),
    ({"sourceid": 666}, 404, "Unknown sourceid 666"),
    ({"alertid": 666}, 404, "Unknown alertid 666"),
    ({"objectid": 666}, 404, "Unknown objectid 666"),
    ({"objectid": "x"}, 400, 'objectid must be an integer, not "x"'),
    ({"sourceid": 1.5}, 400, "sourceid must be an integer, not 1.5"),
    ({"objectid": OBJ_A, "through_mjd": "later"}, 400, 'through_mjd must be a finite number, not "later"'),
])
def test_errors_with_the_reference_text(api, sample, body, status, text):
    assert_error(post_json(api, URL, body), status, PREFIX + text)


def test_invalid_json_is_400(api, sample):
    res = post_json(api, URL, '{"objectid": ')
    assert res.status_code == 400
    assert res.json()["error"].startswith(PREFIX + "request body is not valid JSON")


def test_anonymous_gets_401(client, sample):
    res = post_json(client, URL, {"objectid": OBJ_A})
    assert res.status_code == 401 and res.json() == {"error": "Authentication credentials were not provided."}


def test_feature_values_are_finite_numbers(api, sample):
    got = post_json(api, URL, {"objectid": OBJ_A}).json()
    assert all(isinstance(v, float) and math.isfinite(v) for v in got.values())
