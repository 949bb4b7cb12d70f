"""Light curves of known objects: the local forced photometry, per object, in time order.

``ltcv`` answers stream (:func:`ltcv_answer_pieces`): a thousand objects are read and written at a
time, in one snapshot, so the worker's memory does not grow with the number of ids asked for."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection

from desctom.core.jsonapi import json_bytes
from desctom.core.jsonstream import ColumnSpool, chunks, join_arrays, one_snapshot
from desctom.survey.columns import COLUMN_BANDS
from desctom.survey.lsst import ZEROPOINT

#: Host-galaxy columns ``include_hostinfo`` adds (first host only).
HOST_COLUMNS = ([f"hostgal_mag_{b}" for b in COLUMN_BANDS] + [f"hostgal_magerr_{b}" for b in COLUMN_BANDS]
                + ["hostgal_ellipticity", "hostgal_sqradius", "hostgal_snsep"])

PHOTOMETRY_KEYS = ("mjd", "band", "flux", "fluxerr")

#: Objects read and written at a time by :func:`ltcv_answer_pieces`.
CHUNK_OBJECTS = 1000


def _curves_sql(include_hostinfo: bool, mjd_now: float | None) -> str:
    host = "".join(f", o.{c}" for c in HOST_COLUMNS) if include_hostinfo else ""
    order = "ORDER BY f.midpointtai, f.diaforcedsource_id"
    until = "AND f.midpointtai <= %(mjd_now)s" if mjd_now is not None else ""
    return f"""
        SELECT o.diaobject_id, o.ra, o.decl{host},
               array_agg(f.midpointtai {order}), array_agg(f.filtername {order}),
               array_agg(f.psflux {order}), array_agg(f.psfluxerr {order})
        FROM elasticc2_diaobject o
        JOIN elasticc2_diaforcedsource f ON f.diaobject_id = o.diaobject_id
        WHERE o.diaobject_id = ANY(%(ids)s) {until}
        GROUP BY o.diaobject_id
        ORDER BY o.diaobject_id"""


def _read_curves(cur, ids: list[int], mjd_now: float | None, include_hostinfo: bool) -> list[dict]:
    cur.execute(_curves_sql(include_hostinfo, mjd_now), {"ids": ids, "mjd_now": mjd_now})
    names = (["objectid", "ra", "dec"] + (HOST_COLUMNS if include_hostinfo else []) + list(PHOTOMETRY_KEYS))
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def known_light_curves(object_ids: list[int], mjd_now: float | None = None,
                       include_hostinfo: bool = False, conn=None) -> list[dict]:
    """Forced photometry of the known objects ``object_ids`` (ascending id; unknown ids omitted).

    One row per object: ``objectid, ra, dec`` (+ host columns) and time-ordered arrays
    ``mjd, band, flux, fluxerr``. Objects without photometry (up to ``mjd_now``) are omitted, as
    in the original (an inner join). ``conn``: the connection to use (default: Django's).
    """
    with (conn or connection).cursor() as cur:
        return _read_curves(cur, sorted(set(object_ids)), mjd_now, include_hostinfo)


def ltcv_shape(curves: list[dict], return_format: int, include_hostinfo: bool):
    """``diaobject`` of the ``ltcv`` answer for ``curves`` (:func:`known_light_curves`)."""
    host = HOST_COLUMNS if include_hostinfo else []
    if return_format == 0:
        return [{"objectid": c["objectid"], "ra": c["ra"], "dec": c["dec"], "zp": ZEROPOINT,
                 "photometry": {k: c[k] for k in PHOTOMETRY_KEYS}, **{h: c[h] for h in host}}
                for c in curves]
    if return_format == 1:
        return [{"objectid": c["objectid"], "ra": c["ra"], "dec": c["dec"], "zp": ZEROPOINT,
                 **{k: c[k] for k in PHOTOMETRY_KEYS}, **{h: c[h] for h in host}} for c in curves]
    result = {k: [c[k] for c in curves] for k in ["objectid", "ra", "dec", *PHOTOMETRY_KEYS, *host]}
    result["zp"] = [ZEROPOINT] * len(curves)
    return result


def ltcv_answer(object_ids: list[int], mjd_now: float | None, include_hostinfo: bool,
                return_format: int) -> dict:
    """The whole ``ltcv`` answer built in memory (the endpoint streams it: :func:`ltcv_answer_pieces`)."""
    curves = known_light_curves(object_ids, mjd_now, include_hostinfo)
    return {"status": "ok", "diaobject": ltcv_shape(curves, return_format, include_hostinfo)}


def ltcv_answer_pieces(object_ids: list[int], mjd_now: float | None, include_hostinfo: bool,
                       return_format: int, chunk_size: int | None = None, conn=None) -> Iterator[bytes]:
    """:func:`ltcv_answer` as JSON in pieces (the same bytes), read ``chunk_size`` objects at a
    time in one snapshot; the first piece comes after the first chunk is read."""
    ids = sorted(set(object_ids))
    columns = None
    if return_format == 2:
        columns = ColumnSpool(["objectid", "ra", "dec", *PHOTOMETRY_KEYS,
                               *(HOST_COLUMNS if include_hostinfo else []), "zp"])
    try:
        with one_snapshot(conn) as db, db.cursor() as cur:
            shaped = (ltcv_shape(_read_curves(cur, part, mjd_now, include_hostinfo), return_format,
                                 include_hostinfo) for part in chunks(ids, chunk_size or CHUNK_OBJECTS))
            if columns is None:
                body = join_arrays(json_bytes(part) for part in shaped)
                head = next(body)
                first = next(body)  # reads the first chunk
                yield b'{"status":"ok","diaobject":' + head + first
                yield from body
            else:
                for part in shaped:
                    for key, values in part.items():
                        columns.add(key, json_bytes(values))
                yield b'{"status":"ok","diaobject":'
        if columns is not None:
            yield from columns.pieces()
        yield b"}"
    finally:
        if columns is not None:
            columns.close()


#: What ``ppdb_forced_photometry`` looks the object up by, and the SQL finding (object, detection time).
_DETECTION_SQL = {
    "sourceid": "SELECT diaobject_id, midpointtai FROM elasticc2_ppdbdiasource WHERE diasource_id = %s",
    "alertid": ("SELECT s.diaobject_id, s.midpointtai FROM elasticc2_ppdbalert a "
                "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id WHERE a.alert_id = %s"),
    "objectid": "SELECT diaobject_id, NULL FROM elasticc2_ppdbdiaobject WHERE diaobject_id = %s",
}


def ppdb_forced_photometry(key: str, ident: int, through_mjd: float | None = None,
                           conn=None) -> list[tuple] | None:
    """The simulated PPDB's forced photometry ``(mjd, band, flux, fluxerr)`` of an object, in time order.

    ``key`` says what ``ident`` is: ``"sourceid"`` or ``"alertid"`` (the detection's object, up to the
    detection's time) or ``"objectid"``; ``through_mjd`` cuts later points too. ``None`` if there is
    no such detection or object. ``conn``: the connection to use (default: Django's).
    """
    with (conn or connection).cursor() as cur:
        cur.execute(_DETECTION_SQL[key], [ident])
        row = cur.fetchone()
        if row is None:
            return None
        objectid, until = row
        if through_mjd is not None:
            until = through_mjd if until is None else min(until, through_mjd)
        cur.execute("SELECT midpointtai, filtername, psflux, psfluxerr "
                    "FROM elasticc2_ppdbdiaforcedsource WHERE diaobject_id = %(obj)s"
                    + (" AND midpointtai <= %(until)s" if until is not None else "")
                    + " ORDER BY midpointtai, diaforcedsource_id", {"obj": objectid, "until": until})
        return cur.fetchall()
