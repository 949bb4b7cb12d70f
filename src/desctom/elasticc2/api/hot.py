"""``/elasticc2/gethottransients`` (reference §1.4.6): recently detected objects with their photometry.

"Detected" means a detection the TOM knows (a row of the local ``elasticc2_diasource``, i.e. one a
broker classified); the photometry is the local forced photometry. ``mjd_now`` bounds everything:
detections, photometry, and the spectra and classifications behind ``redshift`` and ``sncode``
(:mod:`desctom.elasticc2.followup`). Fluxes are nJy (``zp`` 31.4).
"""

from __future__ import annotations

import json

from django.db import connection

from desctom.elasticc2.api.base import ApiError, JsonApiView, as_float, as_int
from desctom.elasticc2.api.lightcurves import HOST_COLUMNS, PHOTOMETRY_KEYS, ZEROPOINT
from desctom.elasticc2.followup import best_knowledge, now_mjd

HOT_KEYS = ("detected_since_mjd", "detected_in_last_days", "mjd_now", "include_hostinfo", "return_format",
            "cheat_gentypes")
DEFAULT_DAYS = 30.0


def hot_sql(mjd_now: float | None = None, include_hostinfo: bool = False, cheat: bool = False) -> str:
    """The statement behind :func:`hot_transients` (parameters ``since``, ``mjd_now``, ``gentypes``)."""
    host = "".join(f", o.{c}" for c in HOST_COLUMNS) if include_hostinfo else ""
    until_s = "AND s.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    until_f = "AND f.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    cheat_sql = ("AND EXISTS (SELECT 1 FROM elasticc2_diaobjecttruth t WHERE t.diaobject_id = h.diaobject_id "
                 "AND t.gentype = ANY(%(gentypes)s))") if cheat else ""
    order = "ORDER BY f.midpointtai, f.diaforcedsource_id"
    return f"""
        WITH hot AS MATERIALIZED (
            SELECT h.diaobject_id FROM (
                SELECT DISTINCT s.diaobject_id FROM elasticc2_diasource s
                WHERE s.midpointtai >= %(since)s {until_s}) h
            WHERE TRUE {cheat_sql})
        SELECT o.diaobject_id, o.ra, o.decl{host},
               COALESCE(p.mjd, '{{}}'), COALESCE(p.band, '{{}}'), COALESCE(p.flux, '{{}}'),
               COALESCE(p.fluxerr, '{{}}')
        FROM hot h JOIN elasticc2_diaobject o ON o.diaobject_id = h.diaobject_id
        LEFT JOIN LATERAL (
            SELECT array_agg(f.midpointtai {order}) AS mjd, array_agg(f.filtername {order}) AS band,
                   array_agg(f.psflux {order}) AS flux, array_agg(f.psfluxerr {order}) AS fluxerr
            FROM elasticc2_diaforcedsource f WHERE f.diaobject_id = h.diaobject_id {until_f}) p ON TRUE
        ORDER BY o.diaobject_id"""


def hot_transients(since: float, mjd_now: float | None = None, include_hostinfo: bool = False,
                   gentypes: list[int] | None = None) -> list[dict]:
    """Known objects with a detection at ``midpointtai >= since`` (``<= mjd_now``), ascending id.

    Each: ``objectid, ra, dec`` (+ host columns), time-ordered ``mjd, band, flux, fluxerr`` of the
    local forced photometry (``<= mjd_now``; empty lists if there is none), ``redshift``, ``sncode``.
    """
    sql = hot_sql(mjd_now, include_hostinfo, gentypes is not None)
    with connection.cursor() as cur:
        cur.execute(sql, {"since": since, "mjd_now": mjd_now, "gentypes": gentypes})
        rows = cur.fetchall()
    names = ["objectid", "ra", "dec", *(HOST_COLUMNS if include_hostinfo else []), *PHOTOMETRY_KEYS]
    objects = [dict(zip(names, row, strict=True)) for row in rows]
    knowledge = best_knowledge([o["objectid"] for o in objects], mjd_now)
    for obj in objects:
        obj["redshift"], obj["sncode"] = knowledge[obj["objectid"]]
    return objects


class GetHotSNeView(JsonApiView):
    """POST (or GET) ``/elasticc2/gethottransients``."""

    error_prefix = "Exception in GetHotSNeView: "

    def _number(self, data: dict, key: str) -> float | None:
        value = data.get(key)
        return None if value is None else as_float(value, key, self.error_prefix)

    def handle(self, data: dict):
        unknown = [k for k in data if k not in HOT_KEYS]
        if unknown:
            raise ApiError(f"Error, unknown parameters passed in request body: {unknown!r}")
        return_format = data.get("return_format")
        if return_format is None:
            return_format = 0
        else:
            try:
                return_format = as_int(return_format, "return_format")
            except ApiError:
                raise ApiError(f"Error, unknown return_format {json.dumps(return_format)}") from None
        if return_format not in (0, 1, 2):
            raise ApiError(f"Error, unknown return_format {return_format}")
        if data.get("detected_since_mjd") is not None and data.get("detected_in_last_days") is not None:
            raise ApiError("Error, only give one of detected_since_mjd or detected_in_last_days")
        gentypes = data.get("cheat_gentypes")
        if gentypes is not None:
            if not isinstance(gentypes, list):
                raise ApiError("Error, cheat_gentypes must be a list")
            gentypes = [as_int(g, "every entry of cheat_gentypes", self.error_prefix) for g in gentypes]
        mjd_now = self._number(data, "mjd_now")
        since = self._number(data, "detected_since_mjd")
        if since is None:
            days = self._number(data, "detected_in_last_days")
            days = DEFAULT_DAYS if days is None else days
            since = (mjd_now if mjd_now is not None else now_mjd()) - days
        include_hostinfo = bool(data.get("include_hostinfo"))
        objects = hot_transients(since, mjd_now, include_hostinfo, gentypes)
        host = HOST_COLUMNS if include_hostinfo else []
        fixed = ("objectid", "ra", "dec")
        if return_format == 2:
            keys = [*fixed, *PHOTOMETRY_KEYS, *host, "redshift", "sncode"]
            result = {k: [o[k] for o in objects] for k in keys}
            result["zp"] = [ZEROPOINT] * len(objects)
            return {"status": "ok", "diaobject": result}
        result = []
        for o in objects:
            item = {k: o[k] for k in fixed}
            item.update(zp=ZEROPOINT, redshift=o["redshift"], sncode=o["sncode"])
            photometry = {k: o[k] for k in PHOTOMETRY_KEYS}
            if return_format == 0:
                item["photometry"] = photometry
            else:
                item.update(photometry)
            item.update({h: o[h] for h in host})
            result.append(item)
        return {"status": "ok", "diaobject": result}
