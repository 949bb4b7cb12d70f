"""Hot transients (``/elasticc2/gethottransients``, reference §1.4.6): recently detected known objects
with their photometry.

"Detected" means a detection the TOM knows (a row of the local ``elasticc2_diasource``, i.e. one a
broker classified); the photometry is the local forced photometry. ``mjd_now`` bounds everything:
detections, photometry, and the spectra and classifications behind ``redshift`` and ``sncode``
(:mod:`desctom.elasticc2.queries.followup`). Fluxes are nJy (``zp`` 31.4).

The answer can be tens of megabytes: each object's photometry is kept packed in one row
(``elasticc2_diaobjectpackedphotometry``, repacked by triggers whenever the forced photometry
changes), one statement sends those rows, numpy unpacks them and drops points after ``mjd_now``,
and orjson writes them (:mod:`desctom.elasticc2.queries.packed_photometry`), so no Python object is
made per photometry number and PostgreSQL aggregates nothing per point.
"""

from __future__ import annotations

from django.db import connection, transaction

from desctom.elasticc2.queries.followup import fast_plans, knowledge_ctes
from desctom.elasticc2.queries.lightcurves import HOST_COLUMNS, PHOTOMETRY_KEYS
from desctom.elasticc2.queries.packed_photometry import Points, binary_cursor, unpack
from desctom.survey.lsst import ZEROPOINT


def hot_sql(mjd_now: float | None = None, include_hostinfo: bool = False, cheat: bool = False) -> str:
    """One statement, one row per known object with a detection at ``since <= midpointtai
    (<= mjd_now)``, in no order (parameters ``since``, ``mjd_now``, ``gentypes``):
    ``objectid, ra, dec, redshift, sncode``, the host columns if asked, and the object's whole
    time-ordered forced photometry as ``mjd, band, flux, fluxerr`` from
    ``elasticc2_diaobjectpackedphotometry`` (:mod:`.packed_photometry`; NULLs if none): the caller
    drops the points after ``mjd_now``.

    ``real`` values go through their text form, so that a redshift of 0.3 is 0.3 and not the
    float32 value's 17 digits."""
    host = HOST_COLUMNS if include_hostinfo else []
    host_cols = "".join(f", NULLIF(o.{c}, 'NaN')::text::float8 AS {c}" for c in host)
    until_s = "AND s.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    cheat_sql = ("AND EXISTS (SELECT 1 FROM elasticc2_diaobjecttruth t WHERE t.diaobject_id = h.diaobject_id "
                 "AND t.gentype = ANY(%(gentypes)s))") if cheat else ""
    return f"""
        WITH hot AS MATERIALIZED (
            SELECT h.diaobject_id FROM (
                SELECT DISTINCT s.diaobject_id FROM elasticc2_diasource s
                WHERE s.midpointtai >= %(since)s {until_s}) h
            WHERE TRUE {cheat_sql}),
        ids AS (SELECT diaobject_id FROM hot),
        {knowledge_ctes(mjd_now)}
        SELECT o.diaobject_id, o.ra, o.decl, k.redshift::text::float8, k.sncode{host_cols},
               p.mjd, p.band, p.flux, p.fluxerr
        FROM hot h JOIN elasticc2_diaobject o ON o.diaobject_id = h.diaobject_id
        JOIN knowledge k ON k.diaobject_id = h.diaobject_id
        LEFT JOIN elasticc2_diaobjectpackedphotometry p ON p.diaobject_id = h.diaobject_id"""


def _fetch(sql: str, params: dict, conn=None) -> tuple[list[tuple], Points]:
    """The rows of ``sql`` by ascending object id, and their points up to ``mjd_now`` (the last four
    columns)."""
    conn = conn or connection
    with transaction.atomic(using=conn.alias):
        conn.ensure_connection()
        with binary_cursor(conn.connection) as cur:  # Django's cursor cannot return binary
            fast_plans(cur)
            cur.execute(sql, params)
            rows = sorted(cur.fetchall(), key=lambda r: r[0])  # sorting here spares PostgreSQL 10s of MB
    return rows, unpack(*([r[i] for r in rows] for i in range(-4, 0)), until=params.get("mjd_now"))


def hot_transients(since: float, mjd_now: float | None = None, include_hostinfo: bool = False,
                   gentypes: list[int] | None = None, return_format: int = 0, conn=None):
    """``diaobject`` of the answer in ``return_format`` (see :func:`hot_sql`): a list of objects (0, 1)
    or a dict of lists (2), photometry as numpy arrays (for :func:`~.base.json_bytes`)."""
    host = HOST_COLUMNS if include_hostinfo else []
    rows, points = _fetch(hot_sql(mjd_now, include_hostinfo, gentypes is not None),
                          {"since": since, "mjd_now": mjd_now, "gentypes": gentypes}, conn)
    heads = [{"objectid": r[0], "ra": r[1], "dec": r[2], "zp": ZEROPOINT, "redshift": r[3], "sncode": r[4]}
             for r in rows]
    hosts = [dict(zip(host, r[5:-4], strict=True)) for r in rows]
    if return_format in (0, 1):
        objects = []
        for i, (head, extra) in enumerate(zip(heads, hosts, strict=True)):
            photometry = points.of(i)
            objects.append({**head, "photometry": photometry, **extra} if return_format == 0
                           else {**head, **photometry, **extra})
        return objects
    photometry = [points.of(i) for i in range(len(rows))]
    columns = {k: [h[k] for h in heads] for k in ("objectid", "ra", "dec")}
    columns.update({k: [p[k] for p in photometry] for k in PHOTOMETRY_KEYS})
    columns.update({k: [x[k] for x in hosts] for k in host})
    columns.update({k: [h[k] for h in heads] for k in ("zp", "redshift", "sncode")})
    return columns
