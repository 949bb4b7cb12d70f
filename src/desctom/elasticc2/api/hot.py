"""``/elasticc2/gethottransients`` (reference §1.4.6): recently detected objects with their photometry.

"Detected" means a detection the TOM knows (a row of the local ``elasticc2_diasource``, i.e. one a
broker classified); the photometry is the local forced photometry. ``mjd_now`` bounds everything:
detections, photometry, and the spectra and classifications behind ``redshift`` and ``sncode``
(:mod:`desctom.elasticc2.followup`). Fluxes are nJy (``zp`` 31.4).

The answer can be tens of megabytes: PostgreSQL builds the JSON itself (one statement), so no
Python object is made per photometry point.
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.http import HttpResponse

from desctom.accounts.api import json_error
from desctom.elasticc.api.common import ADMIN_GROUP, is_admin
from desctom.elasticc2.api.base import ApiError, JsonApiView, _kind, as_float, as_int, parse_json_body
from desctom.elasticc2.api.lightcurves import HOST_COLUMNS, PHOTOMETRY_KEYS, ZEROPOINT
from desctom.elasticc2.followup import LEAF_CLASSES, fast_plans, knowledge_ctes, now_mjd

HOT_KEYS = ("detected_since_mjd", "detected_in_last_days", "mjd_now", "include_hostinfo", "return_format",
            "cheat_gentypes")
DEFAULT_DAYS = 30.0


def _pairs(names) -> str:
    return ", ".join(f"'{n}', r.{n}" for n in names)


def hot_sql(mjd_now: float | None = None, include_hostinfo: bool = False, cheat: bool = False,
            return_format: int = 0) -> str:
    """One statement answering with the JSON text of ``diaobject`` (parameters ``since``, ``mjd_now``,
    ``gentypes``, ``leaves``): known objects with a detection at ``since <= midpointtai (<= mjd_now)``,
    ascending id, with their time-ordered forced photometry (``<= mjd_now``; empty if none)."""
    host = HOST_COLUMNS if include_hostinfo else []
    host_cols = "".join(f", NULLIF(o.{c}, 'NaN') AS {c}" for c in host)
    until_s = "AND s.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    until_f = "AND f.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    cheat_sql = ("AND EXISTS (SELECT 1 FROM elasticc2_diaobjecttruth t WHERE t.diaobject_id = h.diaobject_id "
                 "AND t.gentype = ANY(%(gentypes)s))") if cheat else ""
    order = "ORDER BY f.midpointtai, f.diaforcedsource_id"
    head = f"'objectid', r.objectid, 'ra', r.ra, 'dec', r.dec, 'zp', {ZEROPOINT}, " \
           "'redshift', r.redshift, 'sncode', r.sncode"
    tail = f", {_pairs(host)}" if host else ""
    if return_format == 0:
        answer = (f"COALESCE(json_agg(json_build_object({head}, 'photometry', json_build_object("
                  f"{_pairs(PHOTOMETRY_KEYS)}){tail}) ORDER BY r.objectid), '[]')")
    elif return_format == 1:
        answer = (f"COALESCE(json_agg(json_build_object({head}, {_pairs(PHOTOMETRY_KEYS)}{tail}) "
                  "ORDER BY r.objectid), '[]')")
    else:
        keys = ["objectid", "ra", "dec", *PHOTOMETRY_KEYS, *host, "zp", "redshift", "sncode"]
        answer = "json_build_object(" + ", ".join(
            f"'{k}', COALESCE(json_agg(r.{k} ORDER BY r.objectid), '[]')" for k in keys) + ")"
    return f"""
        WITH hot AS MATERIALIZED (
            SELECT h.diaobject_id FROM (
                SELECT DISTINCT s.diaobject_id FROM elasticc2_diasource s
                WHERE s.midpointtai >= %(since)s {until_s}) h
            WHERE TRUE {cheat_sql}),
        ids AS (SELECT diaobject_id FROM hot),
        {knowledge_ctes(mjd_now)},
        rows AS (
            SELECT o.diaobject_id AS objectid, o.ra, o.decl AS dec, {ZEROPOINT} AS zp{host_cols},
                   k.redshift, k.sncode, COALESCE(p.mjd, '{{}}') AS mjd, COALESCE(p.band, '{{}}') AS band,
                   COALESCE(p.flux, '{{}}') AS flux, COALESCE(p.fluxerr, '{{}}') AS fluxerr
            FROM hot h JOIN elasticc2_diaobject o ON o.diaobject_id = h.diaobject_id
            JOIN knowledge k ON k.diaobject_id = h.diaobject_id
            LEFT JOIN LATERAL (  -- sorted once (an index-only scan in index order), aggregated in order
                SELECT array_agg(f.midpointtai) AS mjd, array_agg(f.filtername) AS band,
                       array_agg(f.psflux) AS flux, array_agg(f.psfluxerr) AS fluxerr
                FROM (SELECT f.midpointtai, f.filtername, f.psflux, f.psfluxerr
                      FROM elasticc2_diaforcedsource f WHERE f.diaobject_id = h.diaobject_id {until_f}
                      {order}) f) p ON TRUE)
        SELECT {answer}::text FROM rows r"""


def hot_transients_json(since: float, mjd_now: float | None = None, include_hostinfo: bool = False,
                        gentypes: list[int] | None = None, return_format: int = 0) -> str:
    """The JSON text of ``diaobject`` in ``return_format`` (see :func:`hot_sql`)."""
    sql = hot_sql(mjd_now, include_hostinfo, gentypes is not None, return_format)
    with transaction.atomic(), connection.cursor() as cur:
        fast_plans(cur)
        cur.execute(sql, {"since": since, "mjd_now": mjd_now, "gentypes": gentypes,
                          "leaves": list(LEAF_CLASSES)})
        return cur.fetchone()[0]


class GetHotSNeView(JsonApiView):
    """POST (or GET) ``/elasticc2/gethottransients``."""

    error_prefix = "Exception in GetHotSNeView: "

    def post(self, request, *args, **kwargs):
        try:
            data = parse_json_body(request, self.error_prefix)
            if not isinstance(data, dict):
                raise self.error(f"request body must be a JSON object, not {_kind(data)}")
            arguments = self.arguments(data)
            if arguments["gentypes"] is not None and not is_admin(request.user):
                # selecting by true type reveals the truth: ELAsTiCC admins only
                name = request.user.get_username()
                raise ApiError(f"Error, cheat_gentypes selects by simulation truth: only ELAsTiCC admins "
                               f"(group {ADMIN_GROUP!r}) may use it, not {name!r}", 403)
            text = hot_transients_json(**arguments)
        except ApiError as exc:
            return json_error(exc.message, exc.status)
        return HttpResponse('{"status": "ok", "diaobject": ' + text + "}", content_type="application/json")

    def _number(self, data: dict, key: str) -> float | None:
        value = data.get(key)
        return None if value is None else as_float(value, key, self.error_prefix)

    def arguments(self, data: dict) -> dict:
        """The checked arguments of :func:`hot_transients_json`; ApiError for bad ones."""
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
        return {"since": since, "mjd_now": mjd_now, "include_hostinfo": bool(data.get("include_hostinfo")),
                "gentypes": gentypes, "return_format": return_format}
