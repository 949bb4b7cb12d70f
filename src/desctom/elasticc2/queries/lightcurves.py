"""Light curves of known objects: the local forced photometry, per object, in time order."""

from __future__ import annotations

from django.db import connection

from desctom.survey.columns import COLUMN_BANDS

#: Host-galaxy columns ``include_hostinfo`` adds (first host only).
HOST_COLUMNS = ([f"hostgal_mag_{b}" for b in COLUMN_BANDS] + [f"hostgal_magerr_{b}" for b in COLUMN_BANDS]
                + ["hostgal_ellipticity", "hostgal_sqradius", "hostgal_snsep"])

PHOTOMETRY_KEYS = ("mjd", "band", "flux", "fluxerr")


def known_light_curves(object_ids: list[int], mjd_now: float | None = None,
                       include_hostinfo: bool = False, conn=None) -> list[dict]:
    """Forced photometry of the known objects ``object_ids`` (ascending id; unknown ids omitted).

    One row per object: ``objectid, ra, dec`` (+ host columns) and time-ordered arrays
    ``mjd, band, flux, fluxerr``. Objects without photometry (up to ``mjd_now``) are omitted, as
    in the original (an inner join). ``conn``: the connection to use (default: Django's).
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
    with (conn or connection).cursor() as cur:
        cur.execute(sql, {"ids": sorted(set(object_ids)), "mjd_now": mjd_now})
        rows = cur.fetchall()
    names = (["objectid", "ra", "dec"] + (HOST_COLUMNS if include_hostinfo else []) + list(PHOTOMETRY_KEYS))
    return [dict(zip(names, row, strict=True)) for row in rows]


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
