"""Light curves of root objects in FASTDB's shapes (``/ltcv/...``), from the live tables.

A point is one visit of a root object: the detection (``diasource``) and the forced photometry
(``diaforcedsource``) of that visit, the latest processed one of each where a visit has several
(two diaObjects of one root). Withdrawn rows (``timewithdrawnmjdtai``) are left out. Fluxes nJy.
"""

from __future__ import annotations

import time
import uuid

from django.db import connection

#: MJD of the Unix epoch (UTC; TAI is 37 s ahead, which no day-based cut here notices).
UNIX_EPOCH_MJD = 40587.0


def now_mjd() -> float:
    return time.time() / 86400.0 + UNIX_EPOCH_MJD


def _rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def roots_of(diaobjectids: list[int] | None = None,
             rootids: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Root ids that exist, for diaObject ids or root ids, in the order first asked."""
    if diaobjectids is not None:
        found = _rows("SELECT diaobjectid, rootid FROM diaobject WHERE diaobjectid = ANY(%s)", [diaobjectids])
        by_id = {r["diaobjectid"]: r["rootid"] for r in found}
        wanted = [by_id[i] for i in diaobjectids if i in by_id]
    else:
        found = _rows("SELECT id FROM root_diaobject WHERE id = ANY(%s)", [rootids])
        have = {r["id"] for r in found}
        wanted = [i for i in rootids if i in have]
    return list(dict.fromkeys(wanted))


def random_root() -> uuid.UUID | None:
    rows = _rows("SELECT rootid FROM diaobject ORDER BY random() LIMIT 1", [])
    return rows[0]["rootid"] if rows else None


def _points(table: str, idcol: str, roots, bands, mjd_now) -> list[dict]:
    cuts, params = ["rootid = ANY(%s)", "timewithdrawnmjdtai IS NULL"], [list(roots)]
    if bands:
        cuts.append("band = ANY(%s)")
        params.append(list(bands))
    if mjd_now is not None:
        cuts.append("midpointmjdtai <= %s")
        params.append(mjd_now)
    return _rows(f"""SELECT DISTINCT ON (rootid, visit) rootid, visit, {idcol} AS id, diaobjectid,
                            midpointmjdtai AS mjd, band, psfflux AS flux, psffluxerr AS fluxerr, ra, dec
                     FROM {table} WHERE {' AND '.join(cuts)}
                     ORDER BY rootid, visit, timeprocessedmjdtai DESC, {idcol} DESC""", params)


def lightcurves(roots: list[uuid.UUID], which: str = "patch", bands=None, mjd_now: float | None = None,
                source_positions: bool = False, base_procver: str | None = None) -> list[dict]:
    """One dict per root (FASTDB's current getmanyltcvs shape): lists of per-visit values sorted by MJD.

    ``which``: ``detections`` (diasource only), ``forced`` (forced photometry; ``isdet`` marks visits
    with a detection) or ``patch`` (forced photometry plus detections of visits without any,
    ``ispatch`` = 1 for those).
    """
    if not roots:
        return []
    dets = _points("diasource", "diasourceid", roots, bands, mjd_now)
    forced = [] if which == "detections" else _points("diaforcedsource", "diaforcedsourceid", roots, bands,
                                                      mjd_now)
    det_of = {(p["rootid"], p["visit"]): p for p in dets}
    per_root: dict = {r: [] for r in roots}
    if which == "detections":
        for p in dets:
            per_root[p["rootid"]].append((p, p, None, 0))
    else:
        seen = set()
        for f in forced:
            key = (f["rootid"], f["visit"])
            seen.add(key)
            per_root[f["rootid"]].append((f, det_of.get(key), f, 0))
        if which == "patch":
            for key, d in det_of.items():
                if key not in seen:
                    per_root[d["rootid"]].append((d, d, None, 1))
    return [_curve(root, sorted(points, key=lambda t: (t[0]["mjd"], t[0]["visit"])), which, source_positions,
                   base_procver) for root, points in per_root.items()]


def _curve(root, points, which, source_positions, base_procver) -> dict:
    curve = {"rootid": str(root), "diaobjectid": [p[0]["diaobjectid"] for p in points],
             "visit": [p[0]["visit"] for p in points],
             "diasourceid": [p[1]["id"] if p[1] else None for p in points]}
    if which != "detections":
        curve["diaforcedsourceid"] = [p[2]["id"] if p[2] else None for p in points]
    curve.update({"mjd": [p[0]["mjd"] for p in points], "band": [p[0]["band"] for p in points],
                  "flux": [p[0]["flux"] for p in points], "fluxerr": [p[0]["fluxerr"] for p in points],
                  "isdet": [1 if p[1] else 0 for p in points]})
    if which == "patch":
        curve["ispatch"] = [p[3] for p in points]
    if source_positions:
        curve["det_ra"] = [p[1]["ra"] if p[1] else None for p in points]
        curve["det_dec"] = [p[1]["dec"] if p[1] else None for p in points]
        for key in ("det_raerr", "det_decerr", "det_ra_dec_cov"):
            curve[key] = [None] * len(points)
    if base_procver is not None:
        curve["base_procver_s"] = [base_procver if p[1] else None for p in points]
        if which != "detections":
            curve["base_procver_f"] = [base_procver if p[2] else None for p in points]
    return curve


def object_info(roots: list[uuid.UUID], positions: bool = True, base_procver: str | None = None) -> dict:
    """FASTDB's ``objinfo``: column -> list, one entry per diaObject of the roots."""
    rows = _rows("SELECT diaobjectid, rootid, ra, dec FROM diaobject WHERE rootid = ANY(%s) "
                 "ORDER BY rootid, diaobjectid", [list(roots)])
    info = {"diaobjectid": [r["diaobjectid"] for r in rows], "rootid": [str(r["rootid"]) for r in rows]}
    if base_procver is not None:
        info["obj_base_procver"] = [base_procver] * len(rows)
        info["pos_base_procver"] = [base_procver] * len(rows)
    if positions:
        info["ra"] = [r["ra"] for r in rows]
        info["dec"] = [r["dec"] for r in rows]
        for key in ("raerr", "decerr", "ra_dec_cov"):
            info[key] = [None] * len(rows)
    return info


def hot_roots(since_mjd: float, mjd_now: float | None) -> list[uuid.UUID]:
    """Roots with a detection at or after ``since_mjd`` (and not after ``mjd_now``), oldest root first."""
    params: list = [since_mjd]
    upper = ""
    if mjd_now is not None:
        upper = " AND midpointmjdtai <= %s"
        params.append(mjd_now)
    rows = _rows(f"""SELECT rootid FROM diasource WHERE rootid IS NOT NULL AND timewithdrawnmjdtai IS NULL
                       AND midpointmjdtai >= %s{upper}
                     GROUP BY rootid ORDER BY min(midpointmjdtai), rootid""",
                 params)
    return [r["rootid"] for r in rows]


def count(table: str) -> int:
    """Rows of ``diaobject`` (roots), ``diasource`` or ``diaforcedsource``."""
    sql = {"diaobject": "SELECT count(*) FROM root_diaobject", "diasource": "SELECT count(*) FROM diasource",
           "diaforcedsource": "SELECT count(*) FROM diaforcedsource"}[table]
    return _rows(sql.replace("count(*)", "count(*) AS n"), [])[0]["n"]
