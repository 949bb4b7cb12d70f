"""``/elasticc2/ltcv`` and ``/elasticc2/ltcvfeatures`` (reference §1.4.4).

``ltcv`` serves the forced photometry of objects the TOM knows (the local tables
``elasticc2_diaobject`` / ``elasticc2_diaforcedsource``); ``ltcvfeatures`` computes light-curve
features (the ``light-curve`` package) on the simulated PPDB's forced photometry.
Fluxes are nJy: zeropoint 31.4.
"""

from __future__ import annotations

import json

import light_curve
import numpy as np
from django.db import connection

from desctom.core.jsonapi import ApiError, JsonApiView, as_float, as_int, unknown_keys_text
from desctom.survey.columns import COLUMN_BANDS
from desctom.survey.lsst import ZEROPOINT

#: Zeropoint of every flux the TOM stores and serves (nJy). The original said 27.5, wrongly.

#: Host-galaxy columns ``include_hostinfo`` adds (first host only).
HOST_COLUMNS = ([f"hostgal_mag_{b}" for b in COLUMN_BANDS] + [f"hostgal_magerr_{b}" for b in COLUMN_BANDS]
                + ["hostgal_ellipticity", "hostgal_sqradius", "hostgal_snsep"])

LTCV_KEYS = {"objectid", "objectids", "mjd_now", "return_format", "include_hostinfo"}
PHOTOMETRY_KEYS = ("mjd", "band", "flux", "fluxerr")


def _object_ids(value, name: str, prefix: str) -> list[int]:
    if isinstance(value, list):
        return [as_int(v, f"every entry of {name}", prefix) for v in value]
    try:
        return [as_int(value, name, prefix)]
    except ApiError as exc:
        raise ApiError(f"{prefix}{name} must be an integer or a list of integers, "
                       f"not {json.dumps(value)}") from exc


def known_light_curves(object_ids: list[int], mjd_now: float | None = None,
                       include_hostinfo: bool = False) -> list[dict]:
    """Forced photometry of the known objects ``object_ids`` (ascending id; unknown ids omitted).

    One row per object: ``objectid, ra, dec`` (+ host columns) and time-ordered arrays
    ``mjd, band, flux, fluxerr``. Objects without photometry (up to ``mjd_now``) are omitted, as
    in the original (an inner join).
    """
    host = "".join(f", o.{c}" for c in HOST_COLUMNS) if include_hostinfo else ""
    order = "ORDER BY f.midpointtai, f.diaforcedsource_id"
    until = "AND f.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    sql = f"""
        SELECT o.diaobject_id, o.ra, o.decl{host},
               array_agg(f.midpointtai {order}), array_agg(f.filtername {order}),
               array_agg(f.psflux {order}), array_agg(f.psfluxerr {order})
        FROM elasticc2_diaobject o
        JOIN elasticc2_diaforcedsource f ON f.diaobject_id = o.diaobject_id
        WHERE o.diaobject_id = ANY(%(ids)s) {until}
        GROUP BY o.diaobject_id
        ORDER BY o.diaobject_id"""
    with connection.cursor() as cur:
        cur.execute(sql, {"ids": sorted(set(object_ids)), "mjd_now": mjd_now})
        rows = cur.fetchall()
    names = (["objectid", "ra", "dec"] + (HOST_COLUMNS if include_hostinfo else []) + list(PHOTOMETRY_KEYS))
    return [dict(zip(names, row, strict=True)) for row in rows]


class LtcvView(JsonApiView):
    """POST (or GET) ``/elasticc2/ltcv``: light curves of objects the TOM knows."""

    error_prefix = "Exception in LtcvsView: "

    def handle(self, data: dict):
        unknown = set(data) - LTCV_KEYS
        if unknown:
            raise self.error(f"Unknown parameters: {unknown_keys_text(unknown)}")
        if "objectid" not in data and "objectids" not in data:
            raise self.error("Must supply either objectid or objectids")
        if "objectid" in data and "objectids" in data:
            raise self.error("Can't supply both objectid and objectids")
        name = "objectid" if "objectid" in data else "objectids"
        ids = _object_ids(data[name], name, self.error_prefix)
        if not ids:
            raise self.error(f"{name} is an empty list: give at least one object id")
        mjd_now = data.get("mjd_now")
        if mjd_now is not None:
            mjd_now = as_float(mjd_now, "mjd_now", self.error_prefix)
        return_format = data.get("return_format")
        if return_format is None:
            return_format = 0
        else:
            try:
                return_format = as_int(return_format, "return_format")
            except ApiError:
                raise self.error(f"Unknown return_format {return_format}") from None
        if return_format not in (0, 1, 2):
            raise self.error(f"Unknown return_format {return_format}")
        include_hostinfo = bool(data.get("include_hostinfo"))
        curves = known_light_curves(ids, mjd_now, include_hostinfo)
        host = HOST_COLUMNS if include_hostinfo else []
        if return_format == 0:
            result = [{"objectid": c["objectid"], "ra": c["ra"], "dec": c["dec"], "zp": ZEROPOINT,
                       "photometry": {k: c[k] for k in PHOTOMETRY_KEYS}, **{h: c[h] for h in host}}
                      for c in curves]
        elif return_format == 1:
            result = [{"objectid": c["objectid"], "ra": c["ra"], "dec": c["dec"], "zp": ZEROPOINT,
                       **{k: c[k] for k in PHOTOMETRY_KEYS}, **{h: c[h] for h in host}} for c in curves]
        else:
            keys = ["objectid", "ra", "dec", *PHOTOMETRY_KEYS, *host]
            result = {k: [c[k] for c in curves] for k in keys}
            result["zp"] = [ZEROPOINT] * len(curves)
        return {"status": "ok", "diaobject": result}


# -- features -----------------------------------------------------------------------------------

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


def _band_order(band: str) -> tuple[int, str]:
    order = "ugrizY"
    return (order.index(band), band) if band in order else (len(order), band)


class LtcvFeaturesView(JsonApiView):
    """POST (or GET) ``/elasticc2/ltcvfeatures``: light-curve features of a PPDB object."""

    error_prefix = "Exception in LtcvFeatures: "
    not_object_message = "Must supply either alertid or sourceid or objectid"

    def handle(self, data: dict):
        if not {"sourceid", "alertid", "objectid"} & set(data):
            raise self.error("Must supply either alertid or sourceid or objectid")
        if "features" in data:
            raise self.error("Passing feature list not yet implemented")
        through_mjd = data.get("through_mjd")
        if through_mjd is not None:
            through_mjd = as_float(through_mjd, "through_mjd", self.error_prefix)
        with connection.cursor() as cur:
            if "sourceid" in data or "alertid" in data:
                # The detection's object, with its forced photometry up to the detection's time.
                key = "sourceid" if "sourceid" in data else "alertid"
                ident = as_int(data[key], key, self.error_prefix)
                if key == "sourceid":
                    cur.execute("SELECT diaobject_id, midpointtai FROM elasticc2_ppdbdiasource "
                                "WHERE diasource_id = %s", [ident])
                else:
                    cur.execute("SELECT s.diaobject_id, s.midpointtai FROM elasticc2_ppdbalert a "
                                "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id "
                                "WHERE a.alert_id = %s", [ident])
                row = cur.fetchone()
                if row is None:
                    raise self.error(f"Unknown {key} {ident}", 404)
                objectid, until = row
                if through_mjd is not None:
                    until = min(until, through_mjd)
            else:
                objectid = as_int(data["objectid"], "objectid", self.error_prefix)
                cur.execute("SELECT 1 FROM elasticc2_ppdbdiaobject WHERE diaobject_id = %s", [objectid])
                if cur.fetchone() is None:
                    raise self.error(f"Unknown objectid {objectid}", 404)
                until = through_mjd
            cur.execute("SELECT midpointtai, filtername, psflux, psfluxerr "
                        "FROM elasticc2_ppdbdiaforcedsource WHERE diaobject_id = %(obj)s"
                        + (" AND midpointtai <= %(until)s" if until is not None else "")
                        + " ORDER BY midpointtai, diaforcedsource_id", {"obj": objectid, "until": until})
            rows = cur.fetchall()
        mjd = [r[0] for r in rows]
        band = [r[1] for r in rows]
        flux = [r[2] for r in rows]
        fluxerr = [r[3] for r in rows]
        if data.get("per_band"):
            result = {}
            for b in sorted(set(band), key=_band_order):
                picked = [i for i, x in enumerate(band) if x == b]
                result[b] = compute_features([mjd[i] for i in picked], [flux[i] for i in picked],
                                             [fluxerr[i] for i in picked])
        else:
            result = compute_features(mjd, flux, fluxerr)
        if data.get("includeltcv"):
            result["lightcurve"] = {"mjd": mjd, "flux": flux, "dflux": fluxerr}
            if data.get("per_band"):
                result["lightcurve"]["band"] = band
        return result
