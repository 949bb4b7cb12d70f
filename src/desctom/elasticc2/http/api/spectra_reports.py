"""Plans and reports of spectra (reference §1.4.6): ``planspectrum``, ``removespectrumplan``,
``reportspectruminfo``, ``getknownspectruminfo``.

A plan is one row per (object, facility): planning again replaces it. Reporting a spectrum removes
the facility's plan and every request for the object. Each plan and report records its user.
"""

from __future__ import annotations

import datetime as dt
import json

from dateutil import parser as dateparser
from django.db import connection, transaction

from desctom.core.jsonapi import ApiError, as_float, as_int, unknown_keys_text
from desctom.elasticc2.http.api.spectra import PostJsonView
from desctom.elasticc2.queries.followup import parse_utc
from desctom.survey.taxonomy import CLASSES

PLAN_KEYS = ("objectid", "facility", "plantime", "comment")
REPORT_KEYS = ("objectid", "facility", "mjd", "z", "classid")
KNOWN_KEYS = ("objectid", "facility", "mjd_min", "mjd_max", "classid", "z_min", "z_max", "since",
              "include_user")
NEED_OBJECT_AND_FACILITY = "Post data must be json with keys objectid and facility"


def _facility(value) -> str:
    if not isinstance(value, str):
        raise ApiError(f"facility must be a string, not {json.dumps(value)}")
    if not value.strip():
        raise ApiError("facility can't be an empty string")
    return value


def _known_object(objectid: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM elasticc2_diaobject WHERE diaobject_id = %s", [objectid])
        if cur.fetchone() is None:
            raise ApiError(f"Unknown objectid {objectid}")


def _plantime(value) -> dt.datetime | None:
    """``plantime``: anything dateutil reads (naive means UTC), or null/"" for none."""
    if value is None or value == "":
        return None
    failed = ApiError(f"Failed to parse {json.dumps(value)} as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")
    if not isinstance(value, str):
        raise failed
    try:
        parsed = dateparser.parse(value)
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise failed from None


def _object_and_facility(data: dict, allowed: tuple[str, ...]) -> tuple[int, str]:
    if "objectid" not in data or "facility" not in data:
        raise ApiError(NEED_OBJECT_AND_FACILITY)
    unknown = set(data) - set(allowed)
    if unknown:
        raise ApiError(f"Unknown parameters: {unknown_keys_text(unknown)} (allowed: {', '.join(allowed)})")
    return as_int(data["objectid"], "objectid"), _facility(data["facility"])


_PLAN_SQL = """
INSERT INTO elasticc2_plannedspectra (diaobject_id, facility, created_at, plantime, comment, user_id)
VALUES (%s, %s, now(), %s, %s, %s)
ON CONFLICT (diaobject_id, facility) DO UPDATE SET created_at = EXCLUDED.created_at,
    plantime = EXCLUDED.plantime, comment = EXCLUDED.comment, user_id = EXCLUDED.user_id
RETURNING created_at, plantime, comment
"""


class PlanSpectrumView(PostJsonView):
    """POST ``/elasticc2/planspectrum``: ``{"objectid", "facility", "plantime"?, "comment"?}``."""

    not_object_message = NEED_OBJECT_AND_FACILITY

    def handle(self, data: dict):
        objectid, facility = _object_and_facility(data, PLAN_KEYS)
        plantime = _plantime(data.get("plantime"))
        comment = data.get("comment")
        comment = "" if comment is None else comment
        if not isinstance(comment, str):
            raise ApiError(f"comment must be a string, not {json.dumps(comment)}")
        _known_object(objectid)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_PLAN_SQL, [objectid, facility, plantime, comment, self.request.user.pk])
            created_at, plantime, comment = cur.fetchone()
        return {"status": "ok", "objectid": objectid, "facility": facility, "created_at": created_at,
                "plantime": plantime, "comment": comment}


class RemoveSpectrumPlanView(PostJsonView):
    """POST ``/elasticc2/removespectrumplan``: ``{"objectid", "facility"}``."""

    not_object_message = NEED_OBJECT_AND_FACILITY

    def handle(self, data: dict):
        objectid, facility = _object_and_facility(data, ("objectid", "facility"))
        with connection.cursor() as cur:
            cur.execute("DELETE FROM elasticc2_plannedspectra WHERE diaobject_id = %s AND facility = %s",
                        [objectid, facility])
            n_deleted = cur.rowcount
        return {"status": "ok", "facility": facility, "objectid": objectid, "n_deleted": n_deleted}


def _nullable(data: dict, key: str, convert):
    value = data[key]
    return None if value is None or value == "" else convert(value, key)


def _redshift(value, key: str) -> float:
    z = as_float(value, key)
    if z <= -1:
        raise ApiError(f"z must be greater than -1, not {json.dumps(value)} (use null or \"\" for unknown)")
    return z


def _classid(value, key: str) -> int:
    classid = as_int(value, key)
    if classid not in CLASSES:
        raise ApiError(f"classid {classid} is not in the ELAsTiCC2 taxonomy (see elasticc2/classids); "
                       "use 300 (NotClassified) if the spectrum does not tell")
    return classid


class ReportSpectrumInfoView(PostJsonView):
    """POST ``/elasticc2/reportspectruminfo``: ``{"objectid", "facility", "mjd", "z", "classid"}``."""

    not_object_message = ("Post data must be a json object with keys " + ", ".join(REPORT_KEYS))

    def handle(self, data: dict):
        missing = set(REPORT_KEYS) - set(data)
        if missing:
            raise ApiError(f"Incorrect fields. Missing required fields: {unknown_keys_text(missing)}.")
        unknown = set(data) - set(REPORT_KEYS)
        if unknown:
            raise ApiError(f"Incorrect fields. Unknown fields: {unknown_keys_text(unknown)}.")
        objectid = as_int(data["objectid"], "objectid")
        facility = _facility(data["facility"])
        mjd = as_float(data["mjd"], "mjd")
        z = _nullable(data, "z", _redshift)
        classid = _nullable(data, "classid", _classid)
        _known_object(objectid)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("INSERT INTO elasticc2_spectruminfo (diaobject_id, facility, inserted_at, mjd, z, "
                        "classid, user_id) VALUES (%s, %s, now(), %s, %s, %s, %s) "
                        "RETURNING inserted_at, mjd, z, classid",
                        [objectid, facility, mjd, z, classid, self.request.user.pk])
            inserted_at, mjd, z, classid = cur.fetchone()
            cur.execute("DELETE FROM elasticc2_plannedspectra WHERE diaobject_id = %s AND facility = %s",
                        [objectid, facility])
            cur.execute("DELETE FROM elasticc2_wantedspectra WHERE diaobject_id = %s", [objectid])
        return {"status": "ok", "objectid": objectid, "facility": facility, "inserted_at": inserted_at,
                "mjd": mjd, "z": z, "classid": classid}


class GetKnownSpectrumInfoView(PostJsonView):
    """POST ``/elasticc2/getknownspectruminfo``: reported spectra, filtered, ordered by mjd."""

    error_prefix = "Exception in GetKnownSpectrumInfo: "

    def handle(self, data: dict):
        unknown = set(data) - set(KNOWN_KEYS)
        if unknown:
            raise self.error(f"Unknown parameters: {unknown_keys_text(unknown)} "
                             f"(allowed: {', '.join(KNOWN_KEYS)})")
        where, params = [], {}
        given = {k: v for k, v in data.items() if v is not None and k != "include_user"}
        if "objectid" in given:
            value = given["objectid"]
            ids = value if isinstance(value, list) else [value]
            params["ids"] = [as_int(v, "objectid", self.error_prefix) for v in ids]
            where.append("i.diaobject_id = ANY(%(ids)s::bigint[])")
        if "facility" in given:
            if not isinstance(given["facility"], str):
                raise self.error(f"facility must be a string, not {json.dumps(given['facility'])}")
            params["facility"] = given["facility"]
            where.append("i.facility = %(facility)s")
        for key, test in (("mjd_min", "i.mjd >= %(mjd_min)s"), ("mjd_max", "i.mjd <= %(mjd_max)s"),
                          ("z_min", "i.z >= %(z_min)s"), ("z_max", "i.z <= %(z_max)s")):
            if key in given:
                params[key] = as_float(given[key], key, self.error_prefix)
                where.append(test)
        if "classid" in given:
            params["classid"] = as_int(given["classid"], "classid", self.error_prefix)
            where.append("i.classid = %(classid)s")
        if "since" in given:
            params["since"] = parse_utc(given["since"])
            if params["since"] is None:
                raise self.error(f"Failed to parse YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS from "
                                 f"{json.dumps(given['since'])}")
            where.append("i.inserted_at >= %(since)s")
        sql = ("SELECT i.diaobject_id, i.facility, i.mjd, i.z, i.classid, i.inserted_at, u.username "
               "FROM elasticc2_spectruminfo i LEFT JOIN auth_user u ON u.id = i.user_id "
               f"WHERE {' AND '.join(where) or 'TRUE'} ORDER BY i.mjd, i.specinfo_id")
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        include_user = bool(data.get("include_user"))
        spectra = []
        for oid, facility, mjd, z, classid, inserted_at, username in rows:
            item = {"objectid": oid, "facility": facility, "mjd": mjd, "z": z, "classid": classid,
                    "report_time": inserted_at}
            if include_user:
                item["user"] = username
            spectra.append(item)
        return {"status": "ok", "spectra": spectra}
