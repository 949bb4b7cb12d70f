"""``/elasticc2/askforspectrum`` and ``/elasticc2/spectrawanted`` (reference §1.4.6).

Spectrum recommendation systems ask for spectra of known objects (one request per object and
requester; asking again replaces it); observatories read what is wanted, recently detected,
not yet claimed by a plan and not yet observed, with each band's latest S/N > 3 forced point.
"""

from __future__ import annotations

import datetime as dt
import json

import orjson
from django.db import connection, transaction

from desctom.core.jsonapi import JsonApiView, as_float, as_int, unknown_keys_text
from desctom.elasticc2.queries.followup import fast_plans, mjd_of, parse_utc
from desctom.survey.lsst import BANDS, ZEROPOINT

#: At most this many objects in one askforspectrum request.
MAX_ASK = 100_000
PRIORITIES = range(1, 6)
#: ``not_claimed_in_last_days`` above this many days (1000 years) counts as this many.
MAX_DAYS = 365_000.0
#: Filter names as stored (``Y`` upper case); ``y`` is accepted for ``Y``.


class PostJsonView(JsonApiView):
    """A JSON endpoint that answers only POST (GET: 405), as the original's write endpoints did."""

    http_method_names = ["post", "options"]


def unknown_objects(ids) -> list[int]:
    """The ids among ``ids`` that are not known objects (local ``elasticc2_diaobject``), sorted."""
    with connection.cursor() as cur:
        cur.execute("SELECT i FROM unnest(%s::bigint[]) AS i WHERE NOT EXISTS "
                    "(SELECT 1 FROM elasticc2_diaobject o WHERE o.diaobject_id = i) ORDER BY i", [list(ids)])
        return [r[0] for r in cur.fetchall()]


def ids_text(ids: list[int], limit: int = 10) -> str:
    """``[1, 2, 3]``, or the first ``limit`` and how many more."""
    shown = ", ".join(str(i) for i in ids[:limit])
    return f"[{shown}]" if len(ids) <= limit else f"[{shown}, ...] ({len(ids)} in all)"


_ASK_SQL = """
WITH input AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(prios)s::int[]) AS i(diaobject_id, priority)
), old AS (
    SELECT w.wantspec_id, w.priority FROM elasticc2_wantedspectra w
    WHERE w.wantspec_id = ANY(%(keys)s::text[])
), upserted AS (
    INSERT INTO elasticc2_wantedspectra (wantspec_id, wanttime, diaobject_id, user_id, requester, priority)
    SELECT i.diaobject_id::text || ' ; ' || %(requester)s, now(), i.diaobject_id, %(user)s, %(requester)s,
           i.priority
    FROM input i
    ON CONFLICT (wantspec_id) DO UPDATE SET
        priority = EXCLUDED.priority, wanttime = EXCLUDED.wanttime, user_id = EXCLUDED.user_id
    RETURNING wantspec_id, priority
)
SELECT count(*) FROM upserted u LEFT JOIN old o USING (wantspec_id)
WHERE o.priority IS DISTINCT FROM u.priority
"""


class AskForSpectrumView(PostJsonView):
    """POST ``/elasticc2/askforspectrum``: ``{"requester", "objectids", "priorities"}``."""

    error_prefix = "Mal-formed data for askforspectrum: "
    not_object_message = "the body must be a JSON object with keys requester, objectids, priorities"

    def handle(self, data: dict):
        missing = [k for k in ("requester", "objectids", "priorities") if k not in data]
        if missing:
            raise self.error(f"missing {', '.join(missing)} (give requester, objectids and priorities)")
        unknown = set(data) - {"requester", "objectids", "priorities"}
        if unknown:
            raise self.error(f"unknown keys {unknown_keys_text(unknown)} (give requester, objectids and "
                             "priorities)")
        requester, ids, prios = data["requester"], data["objectids"], data["priorities"]
        if not isinstance(requester, str) or not requester.strip():
            raise self.error(f"requester must be a non-empty string, not {json.dumps(requester)}")
        for name, value in (("objectids", ids), ("priorities", prios)):
            if not isinstance(value, list):
                raise self.error(f"{name} must be a list, not {json.dumps(value)}")
        if len(ids) != len(prios):
            raise self.error(f"objectids and priorities must have the same length, not {len(ids)} and "
                             f"{len(prios)}")
        if not ids:
            raise self.error("objectids is empty: give at least one object")
        if len(ids) > MAX_ASK:
            raise self.error(f"at most {MAX_ASK} objects in one request, not {len(ids)}", 413)
        ids = [as_int(v, "every entry of objectids", self.error_prefix) for v in ids]
        prios = [as_int(v, "every entry of priorities", self.error_prefix) for v in prios]
        bad = next((p for p in prios if p not in PRIORITIES), None)
        if bad is not None:
            raise self.error(f"priorities must be from 1 (low) to 5 (high), not {bad}")
        seen: set[int] = set()
        repeated = sorted({i for i in ids if i in seen or seen.add(i)})
        if repeated:
            raise self.error(f"objectid {repeated[0]} appears more than once")
        unknown_ids = unknown_objects(ids)
        if unknown_ids:
            raise self.error(f"unknown objectids {ids_text(unknown_ids)}: the TOM knows only objects "
                             "brokers have classified")
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_ASK_SQL, {"ids": ids, "prios": prios, "requester": requester,
                                   "user": self.request.user.pk,
                                   "keys": [f"{i} ; {requester}" for i in ids]})
            num = cur.fetchone()[0]
        return {"status": "ok", "message": "wanted spectra created", "num": num}


WANTED_KEYS = ("requested_since", "not_claimed_in_last_days", "no_spectra_in_last_days", "detected_since_mjd",
               "detected_in_last_days", "lim_mag", "lim_mag_band", "mjd_now", "include_user")

#: The S/N > 3 test, in the form of the partial index ``elasticc2_diaforced_snr3`` (migration 0008).
SNR3 = "{t}.psflux > 0 AND {t}.psflux > 3 * {t}.psfluxerr"

_WANTED_SQL = """
WITH wanted AS MATERIALIZED (
    SELECT DISTINCT ON (w.diaobject_id) w.diaobject_id, w.requester, w.priority, w.user_id
    FROM elasticc2_wantedspectra w
    WHERE w.wanttime >= %(since)s
      {claimed}
      {observed}
      AND EXISTS (SELECT 1 FROM elasticc2_diasource s WHERE s.diaobject_id = w.diaobject_id
                  AND s.midpointtai > %(detected)s {source_until})
    ORDER BY w.diaobject_id, w.priority DESC, w.wanttime DESC, w.requester
), bands AS (SELECT unnest(%(bands)s::text[]) AS filtername
), latest AS (  -- per (object, band): the first entry of a backward scan of the S/N > 3 index
    SELECT w.diaobject_id, b.filtername, l.midpointtai, l.mag FROM wanted w CROSS JOIN bands b
    CROSS JOIN LATERAL (
        SELECT f.midpointtai, -2.5 * log(f.psflux::float8) + {zp} AS mag
        FROM elasticc2_diaforcedsource f
        WHERE f.diaobject_id = w.diaobject_id AND f.filtername = b.filtername AND {snr3} {forced_until}
        ORDER BY f.midpointtai DESC, f.diaforcedsource_id DESC LIMIT 1) l
), answer AS (
    SELECT w.diaobject_id, o.ra, o.decl, w.requester, w.priority, u.username,
           json_object_agg(l.filtername, json_build_object('mjd', l.midpointtai, 'mag', l.mag)
                           ORDER BY l.filtername) AS latest
    FROM wanted w JOIN elasticc2_diaobject o ON o.diaobject_id = w.diaobject_id
    JOIN latest l ON l.diaobject_id = w.diaobject_id
    LEFT JOIN auth_user u ON u.id = w.user_id
    GROUP BY w.diaobject_id, o.ra, o.decl, w.requester, w.priority, u.username
    {brighter}
)
SELECT COALESCE(json_agg(json_build_object('oid', a.diaobject_id, 'ra', a.ra, 'dec', a.decl,
                                           'req', a.requester, 'prio', a.priority, 'latest', a.latest
                                           {user})
                         ORDER BY a.priority DESC, a.diaobject_id), '[]')::text
FROM answer a
"""


class SpectraWantedView(PostJsonView):
    """POST ``/elasticc2/spectrawanted``: wanted spectra, highest priority first."""

    error_prefix = "Exception in WhatSpectraAreWanted: "

    def _number(self, data: dict, key: str, default: float | None) -> float | None:
        value = data.get(key)
        return default if value is None else as_float(value, key, self.error_prefix)

    def handle(self, data: dict):
        unknown = set(data) - set(WANTED_KEYS)
        if unknown:
            raise self.error(f"Unknown parameters: {unknown_keys_text(unknown)} "
                             f"(allowed: {', '.join(WANTED_KEYS)})")
        now = dt.datetime.now(dt.UTC)
        mjd_now = self._number(data, "mjd_now", None)
        anchor = mjd_now if mjd_now is not None else mjd_of(now)
        since = data.get("requested_since")
        if since is None:
            since = now - dt.timedelta(days=14)
        else:
            parsed = parse_utc(since)
            if parsed is None:
                raise self.error(f"Failed to parse YYYY-MM-DD HH:MM:SS from {json.dumps(since)}")
            since = parsed
        # More than MAX_DAYS days back means "ever" (and keeps the cut within what a datetime holds).
        not_claimed = min(self._number(data, "not_claimed_in_last_days", 7.0), MAX_DAYS)
        no_spectra = self._number(data, "no_spectra_in_last_days", 7.0)
        detected = self._number(data, "detected_since_mjd", None)
        if detected is None:
            detected = anchor - self._number(data, "detected_in_last_days", 14.0)
        lim_mag, band = data.get("lim_mag"), data.get("lim_mag_band")
        if (lim_mag is None) != (band is None):
            raise self.error("lim_mag and lim_mag_band go together: give both or neither")
        if lim_mag is not None:
            lim_mag = as_float(lim_mag, "lim_mag", self.error_prefix)
            band = "Y" if band == "y" else band
            if band not in BANDS:
                raise self.error(f"lim_mag_band must be one of {', '.join(BANDS)}, not {json.dumps(band)}")
        until = "AND {t}.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
        include_user = bool(data.get("include_user"))
        sql = _WANTED_SQL.format(
            zp=ZEROPOINT, snr3=SNR3.format(t="f"), user=", 'user', a.username" if include_user else "",
            claimed=("AND NOT EXISTS (SELECT 1 FROM elasticc2_plannedspectra p WHERE p.diaobject_id = "
                     "w.diaobject_id AND p.created_at > %(claim_cut)s)") if not_claimed > 0 else "",
            observed=("AND NOT EXISTS (SELECT 1 FROM elasticc2_spectruminfo i WHERE i.diaobject_id = "
                      "w.diaobject_id AND i.mjd >= %(spectrum_cut)s)") if no_spectra > 0 else "",
            source_until=until.format(t="s"), forced_until=until.format(t="f"),
            brighter=("HAVING bool_or(l.filtername = %(band)s AND l.mag <= %(lim_mag)s)"
                      if lim_mag is not None else ""))
        params = {"since": since, "detected": detected, "mjd_now": mjd_now, "band": band, "lim_mag": lim_mag,
                  "bands": list(BANDS),
                  "claim_cut": now - dt.timedelta(days=not_claimed) if not_claimed > 0 else None,
                  "spectrum_cut": anchor - no_spectra}
        with transaction.atomic(), connection.cursor() as cur:
            fast_plans(cur)
            cur.execute(sql, params)
            wanted = cur.fetchone()[0]
        # PostgreSQL writes the list (a few MB for thousands of objects) faster than Python would
        return {"status": "ok", "wantedspectra": orjson.Fragment(wanted)}
