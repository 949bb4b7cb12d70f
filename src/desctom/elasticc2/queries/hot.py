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
made per photometry number and PostgreSQL aggregates nothing per point. The endpoint streams
(:func:`hot_answer_pieces`): the hot ids first, then their rows ``CHUNK_OBJECTS`` at a time, in one
snapshot, so the answer's size does not bound the worker's memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection, transaction

from desctom.core.jsonapi import json_bytes
from desctom.core.jsonstream import ColumnSpool, chunks, join_arrays, one_snapshot
from desctom.elasticc2.queries.followup import fast_plans, knowledge_ctes
from desctom.elasticc2.queries.lightcurves import HOST_COLUMNS, PHOTOMETRY_KEYS
from desctom.elasticc2.queries.packed_photometry import Points, binary_cursor, unpack
from desctom.survey.lsst import ZEROPOINT

#: Objects read, written and dropped at a time by :func:`hot_answer_pieces` (about 7 kB of JSON each).
CHUNK_OBJECTS = 1000


def _cheat_sql(cheat: bool) -> str:
    return ("AND EXISTS (SELECT 1 FROM elasticc2_diaobjecttruth t WHERE t.diaobject_id = h.diaobject_id "
            "AND t.gentype = ANY(%(gentypes)s))") if cheat else ""


def hot_ids_sql(mjd_now: float | None = None, cheat: bool = False) -> str:
    """The ids of the known objects with a detection at ``since <= midpointtai (<= mjd_now)``, by id
    (parameters ``since``, ``mjd_now``, ``gentypes``)."""
    until_s = "AND s.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    return f"""
        SELECT h.diaobject_id FROM (
            SELECT DISTINCT s.diaobject_id FROM elasticc2_diasource s
            WHERE s.midpointtai >= %(since)s {until_s}) h
        WHERE TRUE {_cheat_sql(cheat)}"""


def hot_sql(mjd_now: float | None = None, include_hostinfo: bool = False, cheat: bool = False,
            chunk: bool = False) -> str:
    """One statement, one row per known object with a detection at ``since <= midpointtai
    (<= mjd_now)`` (with ``chunk``: per object of the parameter ``ids``), in no order (parameters
    ``since``, ``mjd_now``, ``gentypes``): ``objectid, ra, dec, redshift, sncode``, the host
    columns if asked, and the object's whole time-ordered forced photometry as ``mjd, band, flux,
    fluxerr`` from ``elasticc2_diaobjectpackedphotometry`` (:mod:`.packed_photometry`; NULLs if
    none): the caller drops the points after ``mjd_now``.

    ``real`` values go through their text form, so that a redshift of 0.3 is 0.3 and not the
    float32 value's 17 digits."""
    host = HOST_COLUMNS if include_hostinfo else []
    host_cols = "".join(f", NULLIF(o.{c}, 'NaN')::text::float8 AS {c}" for c in host)
    hot = ("SELECT DISTINCT unnest(%(ids)s::bigint[]) AS diaobject_id" if chunk
           else hot_ids_sql(mjd_now, cheat))
    return f"""
        WITH hot AS MATERIALIZED ({hot}),
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
    """``diaobject`` of the answer in ``return_format`` (see :func:`hot_sql`), built whole in memory: a
    list of objects (0, 1) or a dict of lists (2), photometry as numpy arrays (for
    :func:`~.base.json_bytes`). The endpoint streams instead (:func:`hot_answer_pieces`)."""
    rows, points = _fetch(hot_sql(mjd_now, include_hostinfo, gentypes is not None),
                          {"since": since, "mjd_now": mjd_now, "gentypes": gentypes}, conn)
    return _shape(rows, points, include_hostinfo, return_format)


def _shape(rows: list[tuple], points: Points, include_hostinfo: bool, return_format: int):
    host = HOST_COLUMNS if include_hostinfo else []
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


def column_keys(include_hostinfo: bool) -> list[str]:
    """The keys of ``return_format`` 2, in order."""
    return ["objectid", "ra", "dec", *PHOTOMETRY_KEYS, *(HOST_COLUMNS if include_hostinfo else []),
            "zp", "redshift", "sncode"]


def hot_answer_pieces(since: float, mjd_now: float | None = None, include_hostinfo: bool = False,
                      gentypes: list[int] | None = None, return_format: int = 0,
                      chunk_size: int | None = None, conn=None) -> Iterator[bytes]:
    """The whole JSON answer ``{"status":"ok","diaobject":...}`` in pieces, byte for byte what
    ``json_bytes`` writes of :func:`hot_transients`: the hot ids first (one snapshot), then their
    objects ``chunk_size`` at a time (the first piece comes after the first chunk is read)."""
    params = {"since": since, "mjd_now": mjd_now, "gentypes": gentypes}
    columns = ColumnSpool(column_keys(include_hostinfo)) if return_format == 2 else None
    try:
        with one_snapshot(conn) as db:
            db.ensure_connection()
            with binary_cursor(db.connection) as cur:
                fast_plans(cur)
                cur.execute(hot_ids_sql(mjd_now, gentypes is not None), params)
                ids = sorted(r[0] for r in cur.fetchall())
                if columns is None:
                    arrays = (json_bytes(_shape(*_chunk(cur, part, params, include_hostinfo),
                                                include_hostinfo, return_format))
                              for part in chunks(ids, chunk_size or CHUNK_OBJECTS))
                    body = join_arrays(arrays)
                    yield b'{"status":"ok","diaobject":' + next(body)
                    yield from body
                else:
                    for part in chunks(ids, chunk_size or CHUNK_OBJECTS):
                        shaped = _shape(*_chunk(cur, part, params, include_hostinfo), include_hostinfo, 2)
                        for key, values in shaped.items():
                            columns.add(key, json_bytes(values))
                    yield b'{"status":"ok","diaobject":'
        if columns is not None:
            yield from columns.pieces()
        yield b"}"
    finally:
        if columns is not None:
            columns.close()


def _chunk(cur, ids: list[int], params: dict, include_hostinfo: bool) -> tuple[list[tuple], Points]:
    """The rows of the objects ``ids`` (ascending) and their points up to ``mjd_now``."""
    cur.execute(hot_sql(params["mjd_now"], include_hostinfo, chunk=True), {**params, "ids": ids})
    rows = sorted(cur.fetchall(), key=lambda r: r[0])
    return rows, unpack(*([r[i] for r in rows] for i in range(-4, 0)), until=params["mjd_now"])
