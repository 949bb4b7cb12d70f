"""FASTDB's light-curve routes (``/ltcv/...``) and top-level ``getprocvers`` / ``count``, on the live tables.

Shapes are FASTDB's current ones (see :mod:`desctom.live.queries.fastdb_ltcv`); bad input is 422 text.
"""

from __future__ import annotations

import math
import uuid

from desctom.live.http.fastdb_base import PROCVERS, FastdbError, FastdbView, check_procver, refuse_unknown
from desctom.live.queries import fastdb_ltcv as q

LTCV_KEYS = ("bands", "which", "mjd_now", "include_base_procver", "include_source_positions",
             "use_weighted_source_positions", "return_object_info", "include_object_positions",
             "position_processing_version", "return_diaobject_positions", "offset", "limit", "nonevalue")
HOT_KEYS = ("position_processing_version", "include_object_positions", "include_source_positions",
            "include_base_procver", "use_weighted_source_positions", "always_use_weighted_source_positions",
            "detected_since_mjd", "detected_in_last_days", "mjd_now", "source_patch", "processing_version")
WHICH = ("detections", "forced", "patch")
INT64 = 2**63
#: Largest MJD or number of days taken (well past any date PostgreSQL or Python can hold as a time).
LIMIT = 1e6


def number(data: dict, key: str, default=None) -> float | None:
    value = data.get(key, default)
    if value is None:
        return None
    try:
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    except OverflowError:  # an integer beyond float's range
        ok = False
    if not ok or abs(value) > LIMIT:
        raise FastdbError(f"{key} must be a finite number (at most {LIMIT:g} in size), not {str(value)[:80]}")
    return float(value)


def flag(data: dict, key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, (bool, int)):
        raise FastdbError(f"{key} must be true or false, not {value!r:.80}")
    return bool(value)


def bands_of(data: dict) -> list[str] | None:
    bands = data.get("bands")
    if bands is None:
        return None
    bands = [bands] if isinstance(bands, str) else bands
    if not isinstance(bands, list) or not all(isinstance(b, str) for b in bands):
        raise FastdbError("bands must be a list of strings")
    return bands


def parse_objids(value) -> tuple[list[int] | None, list[uuid.UUID] | None]:
    """``objids``: diaObject ids (ints, maybe as strings) or root ids (UUID strings), not mixed."""
    values = value if isinstance(value, list) else [value]
    if not values:
        raise FastdbError("no objids requested")
    ints, uuids = [], []
    for v in values:
        if isinstance(v, bool):
            break
        if isinstance(v, int) or (isinstance(v, str) and v.strip().lstrip("-").isdigit()):
            n = int(v)
            if -INT64 <= n < INT64:
                ints.append(n)
                continue
            break
        if isinstance(v, str):
            try:
                uuids.append(uuid.UUID(v))
                continue
            except ValueError:
                break
        break
    if len(ints) == len(values):
        return ints, None
    if len(uuids) == len(values):
        return None, uuids
    raise FastdbError(f"objids must be a list of integers or a list of uuids, got {str(value)[:200]}")


def curves_for(data: dict, roots, procver: str) -> list[dict]:
    which = data.get("which", "patch")
    if which not in WHICH:
        raise FastdbError(f"which must be one of {', '.join(WHICH)}, not {which!r:.80}")
    return q.lightcurves(roots, which, bands_of(data), number(data, "mjd_now"),
                         flag(data, "include_source_positions"),
                         procver if flag(data, "include_base_procver") else None)


def with_info(data: dict, curves, roots, procver: str, key: str):
    if not flag(data, "return_object_info"):
        return curves
    info = q.object_info(roots, True, procver if flag(data, "include_base_procver") else None)
    return {key: curves, "objinfo": info}


class GetManyLtcvs(FastdbView):
    def answer(self, request, data, procver=None):
        procver = check_procver(procver)
        refuse_unknown(data, ("objids", *LTCV_KEYS))
        if "objids" not in data:
            raise FastdbError("no objids requested")
        ints, uuids = parse_objids(data["objids"])
        roots = q.roots_of(ints, uuids)
        return with_info(data, curves_for(data, roots, procver), roots, procver, "ltcvs")


class GetLtcv(FastdbView):
    def answer(self, request, data, first, objid=None):
        procver, objid = (None, first) if objid is None else (first, objid)
        procver = check_procver(procver)
        refuse_unknown(data, LTCV_KEYS)
        ints, uuids = parse_objids(objid)
        roots = q.roots_of(ints, uuids)
        if not roots:
            raise FastdbError(f"Could not find lightcurve for {objid} in processing version {procver}")
        return single(data, roots, procver)


def single(data: dict, roots, procver: str):
    curves = curves_for(data, roots, procver)
    return with_info(data, curves[0], roots, procver, "ltcv")


class GetRandomLtcv(FastdbView):
    def answer(self, request, data, procver=None):
        procver = check_procver(procver)
        refuse_unknown(data, ("bands", "which", "mjd_now"))
        root = q.random_root()
        if root is None:
            raise FastdbError(f"No objects in processing version {procver}")
        return single(data, [root], procver)


class GetHotTransients(FastdbView):
    def answer(self, request, data, procver=None):
        procver = check_procver(procver or data.get("processing_version") or "realtime")
        refuse_unknown(data, HOT_KEYS)
        if data.get("detected_since_mjd") is not None and data.get("detected_in_last_days") is not None:
            raise FastdbError("Error trying to get hot transients: give at most one of detected_since_mjd "
                              "and detected_in_last_days")
        mjd_now = number(data, "mjd_now")
        since = number(data, "detected_since_mjd")
        if since is None:
            days = number(data, "detected_in_last_days", 30)
            since = (mjd_now if mjd_now is not None else q.now_mjd()) - days
        roots = q.hot_roots(since, mjd_now)
        which = "patch" if flag(data, "source_patch", True) else "forced"
        base = procver if flag(data, "include_base_procver") else None
        curves = q.lightcurves(roots, which, None, mjd_now, flag(data, "include_source_positions"), base)
        return {"ltcvs": curves, "objinfo": q.object_info(roots, flag(data, "include_object_positions", True),
                                                         base)}


class GetProcvers(FastdbView):
    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return self.post(request, *args, **kwargs)

    def answer(self, request, data):
        return {"status": "ok", "procvers": sorted(PROCVERS)}


COUNTED = {"object": "diaobject", "diaobject": "diaobject", "source": "diasource", "diasource": "diasource",
           "forced": "diaforcedsource", "diaforcedsource": "diaforcedsource"}


class Count(GetProcvers):
    def answer(self, request, data, which, procver=None):
        check_procver(procver)
        if which not in COUNTED:
            raise FastdbError(f"Unknown thing to count: {which}")
        table = COUNTED[which]
        return {"status": "ok", "table": table, "count": q.count(table), "isestimate": False}
