"""The contracts of the follow-up endpoints (docs/api_followup.md): what each request may hold, and
what each answers. The views check their input with these and the OpenAPI description is made
from them (:mod:`desctom.apidocs.contracts`)."""

from __future__ import annotations

import datetime as dt

from dateutil import parser as dateparser
from rest_framework import serializers

from desctom.core import contract as c
from desctom.core.apidoc import (
    DATETIME,
    INT64,
    NUMBER,
    OK,
    STRING,
    ApiDoc,
    Response,
    array,
    error,
    json_api_pair,
    nullable,
    obj,
    post_only,
)
from desctom.elasticc2.queries.followup import parse_utc
from desctom.elasticc2.queries.lightcurves import HOST_COLUMNS
from desctom.survey.lsst import BANDS
from desctom.survey.taxonomy import CLASSES

TAG = "elasticc2 follow-up"
#: At most this many objects in one askforspectrum request (more: 413).
MAX_ASK = 100_000
#: Magnitudes outside this range are not magnitudes.
MAG_RANGE = (-100.0, 100.0)
#: Longest date text accepted.
DATE_MAX = 64
FACILITY = {"blank_message": "{name} can't be an empty string"}
NULLABLE_NUMBER = nullable(NUMBER)


# -- requests --------------------------------------------------------------------------------------


class HotRequest(c.RequestContract):
    """Known objects detected since `detected_since_mjd`, or in the last `detected_in_last_days`
    (default 30) before `mjd_now` (default: now). `cheat_gentypes`: ELAsTiCC admins only."""

    detected_since_mjd = c.mjd(required=False, allow_null=True)
    detected_in_last_days = c.days(required=False, allow_null=True, default=None)
    mjd_now = c.mjd(required=False, allow_null=True, help_text="The simulated now (default: the real now).")
    include_hostinfo = c.Flag(required=False, default=False)
    return_format = c.Int64(required=False, allow_null=True, min_value=0, max_value=2,
                            type_message="Error, unknown return_format {value}",
                            range_message="Error, unknown return_format {value}")
    cheat_gentypes = c.Int64List(required=False, allow_null=True, min_value=-(2**31), max_value=2**31 - 1,
                                 type_message="Error, cheat_gentypes must be a list")
    schema_extra = {"not": {"required": ["detected_since_mjd", "detected_in_last_days"]}}

    @classmethod
    def compose(cls, prefix: str, problem: str) -> str:
        return problem if problem.startswith("Error,") else prefix + problem

    def check_keys(self, data: dict) -> str | None:
        unknown = [k for k in data if k not in self.fields]
        return f"Error, unknown parameters passed in request body: {unknown!r}" if unknown else None

    def validate(self, attrs):
        if attrs.get("detected_since_mjd") is not None and attrs.get("detected_in_last_days") is not None:
            raise serializers.ValidationError("Error, only give one of detected_since_mjd or "
                                              "detected_in_last_days")
        return attrs


class AskRequest(c.RequestContract):
    """`objectids` (known objects) and `priorities` (1 low .. 5 high) have the same length."""

    requester = c.Text(blank_message="{name} must be a non-empty string, not {value}",
                       type_message="{name} must be a non-empty string, not {value}")
    objectids = c.Int64List(min_length=1, max_length=MAX_ASK)
    priorities = c.Int64List(min_length=1, max_length=MAX_ASK, min_value=1, max_value=5)
    keys_hint = " (give requester, objectids and priorities)"

    def check_keys(self, data: dict) -> str | None:
        missing = [k for k in self.fields if k not in data]
        if missing:
            return f"missing {', '.join(missing)}{self.keys_hint}"
        unknown = set(data) - set(self.fields)
        return f"unknown keys {c.unknown_keys_text(unknown)}{self.keys_hint}" if unknown else None

    @classmethod
    def parse(cls, data: dict, prefix: str = "", **context) -> dict:
        """As :meth:`RequestContract.parse`, with the original's order of checks on the two lists."""
        ids, prios = data.get("objectids"), data.get("priorities")
        if isinstance(ids, list) and isinstance(prios, list) and isinstance(data.get("requester"), str):
            if len(ids) != len(prios):
                raise c.ApiError(f"{prefix}objectids and priorities must have the same length, not "
                                 f"{len(ids)} and {len(prios)}")
            if not ids:
                raise c.ApiError(f"{prefix}objectids is empty: give at least one object")
            if len(ids) > MAX_ASK:
                raise c.ApiError(f"{prefix}at most {MAX_ASK} objects in one request, not {len(ids)}", 413)
            bad = next((p for p in prios if isinstance(p, int) and not isinstance(p, bool)
                        and not 1 <= p <= 5), None)
            if bad is not None:
                raise c.ApiError(f"{prefix}priorities must be from 1 (low) to 5 (high), not {bad}")
        return super().parse(data, prefix, **context)

    def validate(self, attrs):
        seen: set[int] = set()
        repeated = sorted({i for i in attrs["objectids"] if i in seen or seen.add(i)})
        if repeated:
            raise serializers.ValidationError(f"objectid {repeated[0]} appears more than once")
        return attrs


class WantedRequest(c.RequestContract):
    """Wanted spectra: requested since `requested_since` (default 14 days ago), of objects detected
    in the window, not planned in the last `not_claimed_in_last_days` (7) and not observed in the last
    `no_spectra_in_last_days` (7); `lim_mag` and `lim_mag_band` go together."""

    requested_since = c.Text(required=False, allow_null=True, max_length=DATE_MAX,
                             help_text="YYYY-MM-DD, optionally followed by HH:MM:SS and a zone (none: UTC).")
    not_claimed_in_last_days = c.Number(required=False, allow_null=True,
                                        help_text="More than 365000 days (1000 years) means ever.")
    no_spectra_in_last_days = c.days(required=False, allow_null=True)
    detected_since_mjd = c.mjd(required=False, allow_null=True)
    detected_in_last_days = c.days(required=False, allow_null=True)
    lim_mag = c.Number(required=False, allow_null=True, min_value=MAG_RANGE[0], max_value=MAG_RANGE[1])
    lim_mag_band = c.Choice(BANDS, aliases={"y": "Y"}, required=False, allow_null=True)
    mjd_now = c.mjd(required=False, allow_null=True)
    include_user = c.Flag(required=False, default=False)
    schema_extra = {"dependencies": {"lim_mag": ["lim_mag_band"], "lim_mag_band": ["lim_mag"]}}

    def validate_requested_since(self, value):
        if value is None:
            return None
        parsed = parse_utc(value)
        if parsed is None:
            raise serializers.ValidationError(f"Failed to parse YYYY-MM-DD HH:MM:SS from {c.shown(value)}")
        return parsed

    def validate(self, attrs):
        if (attrs.get("lim_mag") is None) != (attrs.get("lim_mag_band") is None):
            raise serializers.ValidationError("lim_mag and lim_mag_band go together: give both or neither")
        return attrs


class ObjectAndFacility(c.RequestContract):
    """An object the TOM knows and a facility."""

    objectid = c.Int64()
    facility = c.Text(**FACILITY)

    def check_keys(self, data: dict) -> str | None:
        if "objectid" not in data or "facility" not in data:
            return NEED_OBJECT_AND_FACILITY
        return super().check_keys(data)


NEED_OBJECT_AND_FACILITY = "Post data must be json with keys objectid and facility"


class PlanRequest(ObjectAndFacility):
    """A facility's plan to take a spectrum of a known object (planning again replaces it)."""

    plantime = c.Text(required=False, allow_null=True, max_length=DATE_MAX,
                      help_text='A date (dateutil; naive means UTC), or null or "" for none.')
    comment = c.Text(required=False, allow_null=True, max_length=c.COMMENT_MAX)

    def validate_plantime(self, value):
        if value is None or value == "":
            return None
        try:
            parsed = dateparser.parse(value)
            return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
        except (ValueError, OverflowError):
            raise serializers.ValidationError(f"Failed to parse {c.shown(value)} as YYYY-MM-DD or "
                                              "YYYY-MM-DD HH:MM:SS") from None

    def to_internal_value(self, data):
        if "plantime" in data and not isinstance(data["plantime"], (str, type(None))):
            raise serializers.ValidationError({"plantime": [f"Failed to parse {c.shown(data['plantime'])} as "
                                                            "YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"]})
        return super().to_internal_value(data)


class ReportRequest(c.RequestContract):
    """A spectrum taken of a known object: its mjd, redshift (null or "" if unknown) and class
    (null or "" if unknown; 300 if the spectrum does not tell)."""

    objectid = c.Int64()
    facility = c.Text(**FACILITY)
    mjd = c.mjd()
    z = c.Number(allow_null=True, blank_null=True, max_value=c.Z_MAX,
                 schema={"minimum": -1, "exclusiveMinimum": True, "description": 'Redshift; null (or "") if '
                         "unknown."})
    classid = c.Int64(allow_null=True, blank_null=True,
                      schema={"enum": sorted(CLASSES),
                              "description": "A class of the taxonomy; 300 if the spectrum does not tell."})

    def missing_message(self, missing: list[str]) -> str:
        return f"Incorrect fields. Missing required fields: {c.unknown_keys_text(missing)}."

    def unknown_message(self, unknown: set[str]) -> str:
        return f"Incorrect fields. Unknown fields: {c.unknown_keys_text(unknown)}."

    def check_keys(self, data: dict) -> str | None:
        missing = [k for k in self.fields if k not in data]
        if missing:
            return self.missing_message(missing)
        return super().check_keys(data)

    def validate_z(self, value):
        if value is not None and value <= -1:
            given = c.shown(self.initial_data["z"])
            raise serializers.ValidationError(f'z must be greater than -1, not {given} (use null or "" for '
                                              'unknown)')
        return value

    def validate_classid(self, value):
        if value is not None and value not in CLASSES:
            raise serializers.ValidationError(
                f"classid {value} is not in the ELAsTiCC2 taxonomy (see elasticc2/classids); use 300 "
                "(NotClassified) if the spectrum does not tell")
        return value


class KnownRequest(c.RequestContract):
    """Filters of reported spectra (each optional; all must hold)."""

    objectid = c.Int64List(required=False, allow_null=True, scalar_ok=True, entry_name="objectid",
                           help_text="One object id or a list of them.",
                           schema={"oneOf": [INT64, array(INT64)]})
    facility = c.Text(required=False, allow_null=True)
    mjd_min = c.mjd(required=False, allow_null=True)
    mjd_max = c.mjd(required=False, allow_null=True)
    classid = c.Int64(required=False, allow_null=True)
    z_min = c.Number(required=False, allow_null=True, min_value=-1.0, max_value=c.Z_MAX)
    z_max = c.Number(required=False, allow_null=True, min_value=-1.0, max_value=c.Z_MAX)
    since = c.Text(required=False, allow_null=True, max_length=DATE_MAX)
    include_user = c.Flag(required=False, default=False)

    def validate_since(self, value):
        if value is None:
            return None
        parsed = parse_utc(value)
        if parsed is None:
            raise serializers.ValidationError(f"Failed to parse YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS from "
                                              f"{c.shown(value)}")
        return parsed


# -- answers ---------------------------------------------------------------------------------------

PHOTOMETRY = {"mjd": array(NUMBER), "band": array(STRING), "flux": array(NULLABLE_NUMBER),
              "fluxerr": array(NULLABLE_NUMBER)}
HOST = {column: NULLABLE_NUMBER for column in HOST_COLUMNS}
_HOT_ROW = {"objectid": INT64, "ra": NULLABLE_NUMBER, "dec": NULLABLE_NUMBER, "zp": NUMBER,
            "redshift": NULLABLE_NUMBER, "sncode": nullable({"type": "integer"})}
HOT_0 = obj({**_HOT_ROW, "photometry": obj(PHOTOMETRY, list(PHOTOMETRY)), **HOST}, [*_HOT_ROW, "photometry"])
HOT_1 = obj({**_HOT_ROW, **PHOTOMETRY, **HOST}, [*_HOT_ROW, *PHOTOMETRY])
HOT_2 = obj({k: array({}) for k in [*_HOT_ROW, *PHOTOMETRY, *HOST]}, [*_HOT_ROW, *PHOTOMETRY])
HOT_OK = obj({"status": OK, "diaobject": {"oneOf": [array({"anyOf": [HOT_0, HOT_1]}), HOT_2]}},
             ["status", "diaobject"])
ASK_OK = obj({"status": OK, "message": STRING, "num": {"type": "integer"}}, ["status", "message", "num"])
LATEST = obj({}, additional=obj({"mjd": NUMBER, "mag": NUMBER}, ["mjd", "mag"]))
WANTED_ROW = obj({"oid": INT64, "ra": NULLABLE_NUMBER, "dec": NULLABLE_NUMBER, "req": nullable(STRING),
                  "prio": {"type": "integer"}, "latest": LATEST, "user": nullable(STRING)},
                 ["oid", "ra", "dec", "req", "prio", "latest"])
WANTED_OK = obj({"status": OK, "wantedspectra": array(WANTED_ROW)}, ["status", "wantedspectra"])
PLAN_OK = obj({"status": OK, "objectid": INT64, "facility": STRING, "created_at": DATETIME,
               "plantime": nullable(DATETIME), "comment": STRING},
              ["status", "objectid", "facility", "created_at", "plantime", "comment"])
REMOVE_OK = obj({"status": OK, "objectid": INT64, "facility": STRING, "n_deleted": {"type": "integer"}},
                ["status", "objectid", "facility", "n_deleted"])
REPORT_OK = obj({"status": OK, "objectid": INT64, "facility": STRING, "inserted_at": DATETIME,
                 "mjd": NUMBER, "z": NULLABLE_NUMBER, "classid": nullable({"type": "integer"})},
                ["status", "objectid", "facility", "inserted_at", "mjd", "z", "classid"])
SPECTRUM = obj({"objectid": INT64, "facility": nullable(STRING), "mjd": NULLABLE_NUMBER,
                "z": NULLABLE_NUMBER, "classid": nullable({"type": "integer"}), "report_time": DATETIME,
                "user": nullable(STRING)},
               ["objectid", "facility", "mjd", "z", "classid", "report_time"])
KNOWN_OK = obj({"status": OK, "spectra": array(SPECTRUM)}, ["status", "spectra"])
_UNKNOWN = {400: error("A bad parameter, or an object the TOM does not know.")}
_TOO_MANY = {413: error(f"More than {MAX_ASK} objects, or a body over the size limit.")}

HOT_DOC = ApiDoc(TAG, json_api_pair(
    "Hot transients: known objects detected recently",
    Response("Known objects with a detection since `detected_since_mjd` (default: 30 days before "
             "`mjd_now`), with their forced photometry, redshift and SN code.", HOT_OK),
    errors={403: error("`cheat_gentypes` (selects by simulation truth) from a caller who is not an "
                       "ELAsTiCC admin.")}), request=HotRequest)
ASK_DOC = ApiDoc(TAG, (post_only("Ask for spectra of known objects",
                                 Response("Stored; `num` counts the requests created or changed.", ASK_OK),
                                 errors=_TOO_MANY),),
                 request=AskRequest, writes=("elasticc2_wantedspectra",))
WANTED_DOC = ApiDoc(TAG, (post_only("Spectra wanted", Response(
    "Wanted, unclaimed, unobserved objects, highest priority first.", WANTED_OK)),), request=WantedRequest)
PLAN_DOC = ApiDoc(TAG, (post_only("Plan a spectrum", Response(
    "The plan (replaces the facility's earlier plan).", PLAN_OK), errors=_UNKNOWN),),
    request=PlanRequest, writes=("elasticc2_plannedspectra",))
REMOVE_DOC = ApiDoc(TAG, (post_only("Remove a spectrum plan", Response(
    "`n_deleted` is 0 if there was no such plan.", REMOVE_OK)),),
    request=ObjectAndFacility, writes=("elasticc2_plannedspectra",))
REPORT_DOC = ApiDoc(TAG, (post_only("Report a spectrum", Response(
    "Stored; the facility's plan and every request for the object are removed.", REPORT_OK),
    errors=_UNKNOWN),), request=ReportRequest,
    writes=("elasticc2_spectruminfo", "elasticc2_plannedspectra", "elasticc2_wantedspectra"))
KNOWN_DOC = ApiDoc(TAG, (post_only("Reported spectra", Response(
    "Reported spectra matching every filter given, by mjd.", KNOWN_OK)),), request=KnownRequest)
