"""Spectrum requests, plans and reports (reference §1.4.6), as reusable statements.

Every function takes ``conn`` (default: Django's connection) so a caller can compose it in its own
transaction; the writing ones run in a transaction (a savepoint inside the caller's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import orjson
from django.db import connection, transaction

from desctom.core.jsonapi import json_bytes
from desctom.core.jsonstream import join_arrays, one_snapshot
from desctom.elasticc2.queries.followup import fast_plans
from desctom.survey.lsst import BANDS, ZEROPOINT


def _atomic(conn):
    return transaction.atomic(using=getattr(conn, "alias", "default"))


def unknown_objects(ids, conn=None) -> list[int]:
    """The ids among ``ids`` that are not known objects (local ``elasticc2_diaobject``), sorted."""
    with (conn or connection).cursor() as cur:
        cur.execute("SELECT i FROM unnest(%s::bigint[]) AS i WHERE NOT EXISTS "
                    "(SELECT 1 FROM elasticc2_diaobject o WHERE o.diaobject_id = i) ORDER BY i", [list(ids)])
        return [r[0] for r in cur.fetchall()]


def is_known_object(objectid: int, conn=None) -> bool:
    """Whether ``objectid`` is a known object (local ``elasticc2_diaobject``)."""
    with (conn or connection).cursor() as cur:
        cur.execute("SELECT 1 FROM elasticc2_diaobject WHERE diaobject_id = %s", [objectid])
        return cur.fetchone() is not None


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



def ask_for_spectra(requester: str, ids: list[int], priorities: list[int], user_id: int | None,
                    conn=None) -> int:
    """Store one request per object (asking again replaces it); how many were created or changed."""
    conn = conn or connection
    with _atomic(conn), conn.cursor() as cur:
        cur.execute(_ASK_SQL, {"ids": ids, "prios": priorities, "requester": requester, "user": user_id,
                               "keys": [f"{i} ; {requester}" for i in ids]})
        return cur.fetchone()[0]


#: The S/N > 3 test, in the form of the partial index ``elasticc2_diaforced_snr3`` (migration 0008).
SNR3 = "{t}.psflux > 0 AND {t}.psflux > 3 * {t}.psfluxerr"

#: The tests of a wanted object (``w.diaobject_id``): not claimed, not observed, detected lately. They
#: depend on the object alone, so they may come before or after picking each object's request.
WANTED_OBJECT_TESTS = """
      {claimed}
      {observed}
      AND EXISTS (SELECT 1 FROM elasticc2_diasource s WHERE s.diaobject_id = w.diaobject_id
                  AND s.midpointtai > %(detected)s {source_until})"""
#: Each object's request (its highest priority) since the question's time, before the object tests
#: (``{tests}``: the tests, or nothing).
WANTED_REQUESTS = """
    SELECT DISTINCT ON (w.diaobject_id) w.diaobject_id, w.requester, w.priority, w.user_id
    FROM elasticc2_wantedspectra w
    WHERE w.wanttime >= %(since)s {tests}
    ORDER BY w.diaobject_id, w.priority DESC, w.wanttime DESC, w.requester
"""
#: The requests a ``spectrawanted`` question keeps: one per object (its highest priority).
WANTED_ROWS = WANTED_REQUESTS.replace("{tests}", WANTED_OBJECT_TESTS)
#: The JSON list of the requests ``wanted`` (a CTE the caller writes before it), highest priority first.
WANTED_ANSWER = """, bands AS (SELECT unnest(%(bands)s::text[]) AS filtername
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
_WANTED_SQL = "WITH wanted AS MATERIALIZED (" + WANTED_ROWS + ")" + WANTED_ANSWER



def wanted_spectra(*, since: dt.datetime, detected: float, mjd_now: float | None,
                   claim_cut: dt.datetime | None, spectrum_cut: float | None, lim_mag: float | None,
                   band: str | None, include_user: bool, conn=None) -> orjson.Fragment:
    """The wanted spectra as a JSON list (written by PostgreSQL: a few MB for thousands of objects):
    requested since ``since``, detected after ``detected`` (up to ``mjd_now``), not planned since
    ``claim_cut`` and not observed since ``spectrum_cut`` (``None``: no such test), brighter than
    ``lim_mag`` in ``band`` if given; highest priority first."""
    sql, params = wanted_sql_parts(since=since, detected=detected, mjd_now=mjd_now, claim_cut=claim_cut,
                                   spectrum_cut=spectrum_cut, lim_mag=lim_mag, band=band,
                                   include_user=include_user)
    sql = _WANTED_SQL.format(**sql)
    conn = conn or connection
    with _atomic(conn), conn.cursor() as cur:
        fast_plans(cur)
        cur.execute(sql, params)
        return orjson.Fragment(cur.fetchone()[0])


def wanted_sql_parts(*, since, detected, mjd_now, claim_cut, spectrum_cut, lim_mag, band,
                     include_user) -> tuple[dict, dict]:
    """The format arguments of :data:`WANTED_ROWS` / :data:`WANTED_ANSWER` and the parameters."""
    until = "AND {t}.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    parts = dict(
        zp=ZEROPOINT, snr3=SNR3.format(t="f"), user=", 'user', a.username" if include_user else "",
        claimed=("AND NOT EXISTS (SELECT 1 FROM elasticc2_plannedspectra p WHERE p.diaobject_id = "
                 "w.diaobject_id AND p.created_at > %(claim_cut)s)") if claim_cut is not None else "",
        observed=("AND NOT EXISTS (SELECT 1 FROM elasticc2_spectruminfo i WHERE i.diaobject_id = "
                  "w.diaobject_id AND i.mjd >= %(spectrum_cut)s)") if spectrum_cut is not None else "",
        source_until=until.format(t="s"), forced_until=until.format(t="f"),
        brighter=("HAVING bool_or(l.filtername = %(band)s AND l.mag <= %(lim_mag)s)"
                  if lim_mag is not None else ""))
    params = {"since": since, "detected": detected, "mjd_now": mjd_now, "band": band, "lim_mag": lim_mag,
              "bands": list(BANDS), "claim_cut": claim_cut, "spectrum_cut": spectrum_cut}
    return parts, params


_PLAN_SQL = """
INSERT INTO elasticc2_plannedspectra (diaobject_id, facility, created_at, plantime, comment, user_id)
VALUES (%s, %s, now(), %s, %s, %s)
ON CONFLICT (diaobject_id, facility) DO UPDATE SET created_at = EXCLUDED.created_at,
    plantime = EXCLUDED.plantime, comment = EXCLUDED.comment, user_id = EXCLUDED.user_id
RETURNING created_at, plantime, comment
"""


def plan_spectrum(objectid: int, facility: str, plantime: dt.datetime | None, comment: str,
                  user_id: int | None, conn=None) -> tuple[dt.datetime, dt.datetime | None, str]:
    """Store the facility's plan for the object (replacing its earlier one): ``created_at, plantime,
    comment`` as stored."""
    conn = conn or connection
    with _atomic(conn), conn.cursor() as cur:
        cur.execute(_PLAN_SQL, [objectid, facility, plantime, comment, user_id])
        return cur.fetchone()


def remove_plan(objectid: int, facility: str, conn=None) -> int:
    """Delete the facility's plan for the object; how many rows went (0 or 1)."""
    with (conn or connection).cursor() as cur:
        cur.execute("DELETE FROM elasticc2_plannedspectra WHERE diaobject_id = %s AND facility = %s",
                    [objectid, facility])
        return cur.rowcount


def report_spectrum(objectid: int, facility: str, mjd: float, z: float | None, classid: int | None,
                    user_id: int | None, conn=None) -> tuple:
    """Store a reported spectrum and remove the facility's plan and every request for the object:
    ``inserted_at, mjd, z, classid`` as stored."""
    conn = conn or connection
    with _atomic(conn), conn.cursor() as cur:
        cur.execute("INSERT INTO elasticc2_spectruminfo (diaobject_id, facility, inserted_at, mjd, z, "
                    "classid, user_id) VALUES (%s, %s, now(), %s, %s, %s, %s) "
                    "RETURNING inserted_at, mjd, z, classid",
                    [objectid, facility, mjd, z, classid, user_id])
        stored = cur.fetchone()
        cur.execute("DELETE FROM elasticc2_plannedspectra WHERE diaobject_id = %s AND facility = %s",
                    [objectid, facility])
        cur.execute("DELETE FROM elasticc2_wantedspectra WHERE diaobject_id = %s", [objectid])
    return stored


#: Filters of :func:`known_spectra`: name -> SQL test.
KNOWN_FILTERS = {
    "ids": "i.diaobject_id = ANY(%(ids)s::bigint[])",
    "facility": "i.facility = %(facility)s",
    "mjd_min": "i.mjd >= %(mjd_min)s",
    "mjd_max": "i.mjd <= %(mjd_max)s",
    "z_min": "i.z >= %(z_min)s",
    "z_max": "i.z <= %(z_max)s",
    "classid": "i.classid = %(classid)s",
    "since": "i.inserted_at >= %(since)s",
}


def _known_sql(filters: dict) -> tuple[str, dict]:
    given = {k: v for k, v in filters.items() if v is not None}
    where = " AND ".join(KNOWN_FILTERS[k] for k in given) or "TRUE"
    return ("SELECT i.diaobject_id, i.facility, i.mjd, i.z, i.classid, i.inserted_at, u.username "
            "FROM elasticc2_spectruminfo i LEFT JOIN auth_user u ON u.id = i.user_id "
            f"WHERE {where} ORDER BY i.mjd, i.specinfo_id"), given


def _spectrum_items(rows, include_user: bool) -> list[dict]:
    spectra = []
    for oid, facility, mjd, z, classid, inserted_at, username in rows:
        item = {"objectid": oid, "facility": facility, "mjd": mjd, "z": z, "classid": classid,
                "report_time": inserted_at}
        if include_user:
            item["user"] = username
        spectra.append(item)
    return spectra


def known_spectra(filters: dict, include_user: bool = False, conn=None) -> list[dict]:
    """Reported spectra matching every filter of ``filters`` (keys of :data:`KNOWN_FILTERS`; ``None``
    values are ignored), by mjd, all in memory (the endpoint streams: :func:`known_spectra_pieces`)."""
    sql, given = _known_sql(filters)
    with (conn or connection).cursor() as cur:
        cur.execute(sql, given)
        return _spectrum_items(cur.fetchall(), include_user)


#: Rows a server-side cursor of :func:`known_spectra_pieces` fetches at a time.
SPECTRA_CHUNK = 5000


def known_spectra_pieces(filters: dict, include_user: bool = False, chunk_size: int | None = None,
                         conn=None) -> Iterator[bytes]:
    """The ``getknownspectruminfo`` answer ``{"status":"ok","spectra":[...]}`` as JSON pieces, the
    bytes ``json_bytes`` writes of :func:`known_spectra`; rows come from a server-side cursor
    ``chunk_size`` at a time (the first piece after the first fetch)."""
    sql, given = _known_sql(filters)
    with one_snapshot(conn) as db, db.chunked_cursor() as cur:
        cur.execute(sql, given)

        def arrays():
            while rows := cur.fetchmany(chunk_size or SPECTRA_CHUNK):
                yield json_bytes(_spectrum_items(rows, include_user))

        body = join_arrays(arrays())
        head = next(body)
        first = next(body)
        yield b'{"status":"ok","spectra":' + head + first
        yield from body
    yield b"}"


def wanted_answer_expiry(since: dt.datetime | None, claim_cut: dt.datetime | None,
                         since_days: float | None, claim_days: float | None) -> dt.datetime | None:
    """Until when a ``spectrawanted`` answer computed with the wall-clock cuts ``since`` (= now -
    ``since_days``; ``None``: an absolute ``requested_since``) and ``claim_cut`` (= now - ``claim_days``)
    stays the answer a later "now" would give: until the oldest request inside the window leaves it,
    or the oldest plan inside the claim window stops counting (``None``: neither will happen)."""
    with connection.cursor() as cur:
        cur.execute("""
            SELECT least(
                (SELECT min(wanttime) FROM elasticc2_wantedspectra WHERE wanttime >= %(since)s::timestamptz)
                    + %(since_days)s::float8 * interval '1 day',
                (SELECT min(created_at) FROM elasticc2_plannedspectra
                  WHERE created_at > %(claim_cut)s::timestamptz)
                    + %(claim_days)s::float8 * interval '1 day')""",
                    {"since": since if since_days is not None else None, "since_days": since_days,
                     "claim_cut": claim_cut, "claim_days": claim_days})
        return cur.fetchone()[0]
