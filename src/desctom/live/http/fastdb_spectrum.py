"""FASTDB's spectrum routes (``/spectrum/...``) on the live tables.

The object key is ``oid`` (FASTDB's code) or ``root_diaobject_id`` (FASTDB's documentation): both are
read. Bad input is 422 text naming the problem; unknown objects are refused, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

from django.utils.dateparse import parse_datetime

from desctom.core.jsonapi import storable_text_problem
from desctom.live.http.fastdb_base import FastdbError, FastdbView, check_procver
from desctom.live.queries import fastdb_spectra as q

TEXT_MAX = 1000
#: Largest size of a number taken (MJDs, days, redshifts, magnitudes): past it, times and real columns fail.
LIMIT = 1e6


def text_of(data: dict, key: str, required: bool = True, maximum: int = TEXT_MAX) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FastdbError(f"{key} must be a non-empty string")
    if len(value) > maximum or storable_text_problem(value):
        raise FastdbError(f"{key} must be at most {maximum} characters of text")
    return value


def uuid_of(value, key: str) -> uuid.UUID:
    try:
        return uuid.UUID(value) if isinstance(value, str) else uuid.UUID(str(None))
    except ValueError:
        raise FastdbError(f"{key} must be a root object id (a UUID string), not {str(value)[:80]!r}"
                          ) from None


def oid_of(data: dict) -> uuid.UUID:
    key = "oid" if "oid" in data else "root_diaobject_id"
    rootid = uuid_of(data.get(key), key)
    if q.unknown_roots([rootid]):
        raise FastdbError(f"Unknown object {rootid}")
    return rootid


def number_of(data: dict, key: str, required: bool = True, integer: bool = False):
    value = data.get(key)
    if value is None and not required:
        return None
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    try:
        ok = ok and not isinstance(value, bool) and (
            integer or (math.isfinite(value) and abs(value) <= LIMIT))
    except OverflowError:  # an integer beyond float's range
        ok = False
    if not ok:
        kind = "an integer" if integer else f"a finite number (at most {LIMIT:g} in size)"
        raise FastdbError(f"{key} must be {kind}, not {value!r:.80}")
    if integer and not -2**31 <= value < 2**31:
        raise FastdbError(f"{key} is out of range")
    return value


def time_of(value, key: str) -> dt.datetime:
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip()) or (
                dt.datetime.fromisoformat(value.strip()) if len(value.strip()) == 10 else None)
        except ValueError:
            parsed = None
    if parsed is None:
        raise FastdbError(f"Failed to parse YYYY-MM-DD HH:MM:SS from {str(value)[:80]} ({key})")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class AskForSpectrum(FastdbView):
    def answer(self, request, data):
        requester = text_of(data, "requester")
        objectids, priorities = data.get("objectids"), data.get("priorities")
        if not isinstance(objectids, list) or not isinstance(priorities, list) or not objectids \
                or len(objectids) != len(priorities):
            raise FastdbError("Mal-formed data for askforspectrum: objectids and priorities must be lists of "
                              "the same (non-zero) length")
        rootids = [uuid_of(o, "objectids") for o in objectids]
        prios = [number_of({"priorities": p}, "priorities", integer=True) for p in priorities]
        missing = q.unknown_roots(rootids)
        if missing:
            raise FastdbError("Unknown objects: " + ", ".join(str(m) for m in missing[:20]))
        num = q.ask(request.user, requester, rootids, prios)
        return {"status": "ok", "message": "wanted spectra created", "num": num}


def days_of(data: dict, key: str, default):
    if key not in data:
        return default
    return number_of(data, key, required=False)


class SpectraWanted(FastdbView):
    def answer(self, request, data):
        check_procver(data.get("processing_version") or "realtime")
        mjd_now = number_of(data, "mjd_now", required=False)
        if mjd_now is not None and mjd_now < 0:
            raise FastdbError("mjd_now must not be negative")
        now = q.mjd_to_datetime(mjd_now) if mjd_now is not None else dt.datetime.now(dt.UTC)
        since = data.get("requested_since")
        detsince = number_of(data, "detected_since_mjd", required=False)
        if "detected_since_mjd" not in data:
            detsince = q.mjd_of(now) - days_of(data, "detected_in_last_days", 14)
        rows = q.wanted(now, None if since is None else time_of(since, "requested_since"),
                        text_of(data, "requester", required=False),
                        days_of(data, "not_claimed_in_last_days", 7),
                        days_of(data, "no_spectra_in_last_days", 7),
                        detsince, number_of(data, "lim_mag", required=False),
                        text_of(data, "lim_mag_band", required=False, maximum=8))
        return {"status": "ok", "wantedspectra": rows}


class PlanSpectrum(FastdbView):
    def answer(self, request, data):
        if not {"facility", "plantime"} <= set(data) or not {"oid", "root_diaobject_id"} & set(data):
            raise FastdbError("JSON payload must include keys oid, facility, plantime")
        rootid = oid_of(data)
        comment = text_of(data, "comment", required=False) or ""
        plantime = time_of(data["plantime"], "plantime")
        q.plan(request.user, rootid, text_of(data, "facility"), plantime, comment)
        return {"status": "ok"}


class RemoveSpectrumPlan(FastdbView):
    def answer(self, request, data):
        if "facility" not in data or not {"oid", "root_diaobject_id"} & set(data):
            raise FastdbError("JSON payload must include keys oid and facility")
        return {"status": "ok", "ndel": q.unplan(oid_of(data), text_of(data, "facility"))}


class ReportSpectrumInfo(FastdbView):
    def answer(self, request, data):
        keys = set(data)
        if not {"facility", "mjd", "z", "classid"} <= keys or not {"oid", "root_diaobject_id"} & keys:
            raise FastdbError("JSON payload must include keys oid, facility, mjd, z, and classid")
        z = None if data["z"] in (None, "") else number_of(data, "z")
        q.report(request.user, oid_of(data), text_of(data, "facility"), number_of(data, "mjd"), z,
                 number_of(data, "classid", integer=True))
        return {"status": "ok"}


class GetKnownSpectrumInfo(FastdbView):
    def answer(self, request, data):
        oids = data.get("oid", data.get("root_diaobject_id", data.get("root_diaobject_ids")))
        if oids is not None:
            oids = [uuid_of(o, "oid") for o in (oids if isinstance(oids, list) else [oids])]
        filters = {"rootids": oids, "facility": text_of(data, "facility", required=False),
                   "classid": number_of(data, "classid", required=False, integer=True),
                   "since": None if data.get("since") is None else time_of(data["since"], "since")}
        for key in ("mjd_min", "mjd_max", "z_min", "z_max"):
            filters[key] = number_of(data, key, required=False)
        return q.known(filters)
