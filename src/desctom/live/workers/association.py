"""Which root object a survey ``diaObjectId`` belongs to (DESC's association rule).

Rubin may give one astrophysical source several ``diaObjectId``s. The rule:

1. a ``diaObjectId`` seen before keeps its root object;
2. a new one joins the nearest root object within ``DESCTOM_LIVE_ASSOCIATION_ARCSEC`` (default 1")
   of its position;
3. otherwise it starts a new root object at its position; new ids of one batch that lie within the
   radius of each other share it.

New ids are associated in their own short transaction, under a transaction-level advisory lock,
so two pollers (two brokers announcing the same new source) never make two roots of one source;
a re-read batch finds its ids already associated (rule 1). The root's position stays the first
member's (stable ids and positions for follow-up).
"""

from __future__ import annotations

import math
import os
import uuid

import numpy as np
import polars as pl
import psycopg

#: Advisory lock key of the association (any constant that no other part of DESC TOM uses).
_LOCK_KEY = 0x4C495645  # "LIVE"


def association_radius() -> float:
    """The association radius in degrees (``DESCTOM_LIVE_ASSOCIATION_ARCSEC``, default 1 arcsec)."""
    text = os.environ.get("DESCTOM_LIVE_ASSOCIATION_ARCSEC", "1.0")
    try:
        arcsec = float(text)
    except ValueError:
        raise ValueError(f"DESCTOM_LIVE_ASSOCIATION_ARCSEC must be a number of arcseconds, got {text!r}") \
            from None
    if not 0 < arcsec <= 60:
        raise ValueError(f"DESCTOM_LIVE_ASSOCIATION_ARCSEC must be in (0, 60], got {arcsec}")
    return arcsec / 3600.0


def separation_deg(ra1, dec1, ra2, dec2):
    """Angular separation in degrees (haversine; arrays or scalars)."""
    ra1, dec1, ra2, dec2 = map(np.radians, (ra1, dec1, ra2, dec2))
    a = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


_NEAREST_SQL = """
    SELECT u.id, r.id
    FROM unnest(%(ids)s::bigint[], %(ra)s::float8[], %(dec)s::float8[]) AS u(id, ra, dec)
    CROSS JOIN LATERAL (
        SELECT r.id, 2 * asin(sqrt(least(1.0,
                   sin(radians(r.dec - u.dec) / 2) ^ 2
                   + cos(radians(u.dec)) * cos(radians(r.dec)) * sin(radians(r.ra - u.ra) / 2) ^ 2))) AS sep
        FROM root_diaobject r
        WHERE r.dec BETWEEN u.dec - %(radius)s AND u.dec + %(radius)s
        ORDER BY sep LIMIT 1) r
    WHERE r.sep <= radians(%(radius)s)"""


def _known(cur, ids: list[int]) -> dict[int, uuid.UUID]:
    cur.execute("SELECT diaobjectid, rootid FROM diaobject WHERE diaobjectid = ANY(%s)", (ids,))
    return dict(cur.fetchall())


def associate(conn: psycopg.Connection, objects: pl.DataFrame, radius: float | None = None) -> dict:
    """``{diaobjectid: rootid}`` for every row of ``objects`` (``diaobjectid``, ``ra``, ``dec``),
    associating the new ones (committed at once, in a transaction of their own)."""
    if objects.is_empty():
        return {}
    radius = association_radius() if radius is None else radius
    objects = objects.unique("diaobjectid", keep="first").sort("diaobjectid")
    ids = objects["diaobjectid"].to_list()
    with conn.cursor() as cur:
        found = _known(cur, ids)
    if len(found) == len(ids):
        return found
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        found = _known(cur, ids)  # another poller may have associated some meanwhile
        new = objects.filter(~pl.col("diaobjectid").is_in(list(found)))
        if new.is_empty():
            return found
        new_ids, ras, decs = new["diaobjectid"].to_list(), new["ra"].to_list(), new["dec"].to_list()
        cur.execute(_NEAREST_SQL, {"ids": new_ids, "ra": ras, "dec": decs, "radius": radius})
        nearest = dict(cur.fetchall())
        roots, members = _group_new(new_ids, ras, decs, nearest, radius)
        if roots:
            cur.execute("""
                INSERT INTO root_diaobject (id, ra, dec, ndetections, created_at)
                SELECT i, r, d, 0, now() FROM unnest(%s::uuid[], %s::float8[], %s::float8[]) AS t(i, r, d)""",
                        ([r[0] for r in roots], [r[1] for r in roots], [r[2] for r in roots]))
        cur.execute("""
            INSERT INTO diaobject (diaobjectid, rootid, ra, dec, validitystartmjdtai, first_seen)
            SELECT o, r, a, d, v, now()
            FROM unnest(%s::bigint[], %s::uuid[], %s::float8[], %s::float8[], %s::float8[])
                AS t(o, r, a, d, v)
            ON CONFLICT (diaobjectid) DO NOTHING""",
                    (new_ids, [members[i] for i in new_ids], ras, decs,
                     new["validitystartmjdtai"].to_list() if "validitystartmjdtai" in new.columns
                     else [None] * len(new_ids)))
        found.update(members)
    return found


def _group_new(ids: list[int], ras: list[float], decs: list[float], nearest: dict, radius: float):
    """New roots ``[(uuid, ra, dec)]`` and ``{diaobjectid: rootid}`` for the new ids."""
    members: dict[int, uuid.UUID] = {}
    roots: list[tuple[uuid.UUID, float, float]] = []
    for oid, ra, dec in zip(ids, ras, decs, strict=True):
        if oid in nearest:
            members[oid] = nearest[oid]
            continue
        if roots:  # a root made earlier in this batch within the radius?
            r_ra = np.array([r[1] for r in roots])
            r_dec = np.array([r[2] for r in roots])
            sep = separation_deg(ra, dec, r_ra, r_dec)
            best = int(np.argmin(sep))
            if sep[best] <= radius and not math.isnan(sep[best]):
                members[oid] = roots[best][0]
                continue
        root = (uuid.uuid4(), ra, dec)
        roots.append(root)
        members[oid] = root[0]
    return roots, members
