"""ELAsTiCC2 follow-up: hot transients, spectrum requests, plans and reports
(docs/api_followup.md; views in desctom.elasticc2.http.api.hot, .spectra, .spectra_reports)."""

from desctom.apidocs.groups.elasticc2_data import HOST, ID, PHOTOMETRY
from desctom.apidocs.registry import (
    BOOLEAN,
    DATETIME,
    INT64,
    NUMBER,
    OK,
    STRING,
    Endpoint,
    Response,
    array,
    error,
    json_api_pair,
    nullable,
    obj,
    post_only,
)
from desctom.elasticc2.http.api.spectra import BANDS, MAX_ASK
from desctom.survey.taxonomy import CLASSES

TAG = "elasticc2 follow-up"
NULLABLE_NUMBER = nullable(NUMBER)
TEXT = {**STRING, "pattern": "^[^\\u0000]*$", "description": "No NUL characters."}
NAME = {**STRING, "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$", "description": "Not blank, no NUL."}
DATE = {
    **STRING,
    "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([ T]([01][0-9]|2[0-3]):[0-5][0-9]:"
    "[0-5][0-9])?(Z|[+-](0[0-9]|1[0-3]):?[0-5][0-9])?$",
    "description": "YYYY-MM-DD, optionally followed by HH:MM:SS and a zone (none: UTC).",
}
DAYS = NUMBER
MJD = NUMBER

_HOT_ROW = {
    "objectid": INT64,
    "ra": NULLABLE_NUMBER,
    "dec": NULLABLE_NUMBER,
    "zp": NUMBER,
    "redshift": NULLABLE_NUMBER,
    "sncode": nullable({"type": "integer"}),
}
HOT_0 = obj({**_HOT_ROW, "photometry": obj(PHOTOMETRY, list(PHOTOMETRY)), **HOST}, [*_HOT_ROW, "photometry"])
HOT_1 = obj({**_HOT_ROW, **PHOTOMETRY, **HOST}, [*_HOT_ROW, *PHOTOMETRY])
HOT_2 = obj({k: array({}) for k in [*_HOT_ROW, *PHOTOMETRY, *HOST]}, [*_HOT_ROW, *PHOTOMETRY])
HOT_BODY = obj(
    {
        "detected_since_mjd": MJD,
        "detected_in_last_days": {**DAYS, "default": 30},
        "mjd_now": {**MJD, "description": "The simulated now (default: the real now)."},
        "include_hostinfo": BOOLEAN,
        "return_format": {"type": "integer", "enum": [0, 1, 2]},
        "cheat_gentypes": array({"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}),
    },
    **{"not": {"required": ["detected_since_mjd", "detected_in_last_days"]}},
)
HOT_OK = obj(
    {"status": OK, "diaobject": {"oneOf": [array({"anyOf": [HOT_0, HOT_1]}), HOT_2]}}, ["status", "diaobject"]
)

ASK_BODY = obj(
    {
        "requester": NAME,
        "objectids": array(ID, minItems=1, maxItems=MAX_ASK, uniqueItems=True),
        "priorities": array({"type": "integer", "minimum": 1, "maximum": 5}, minItems=1, maxItems=MAX_ASK),
    },
    ["requester", "objectids", "priorities"],
    description="`objectids` (known objects) and `priorities` (1 low .. 5 high) have the same length.",
)
ASK_OK = obj({"status": OK, "message": STRING, "num": {"type": "integer"}}, ["status", "message", "num"])

WANTED_BODY = obj(
    {
        "requested_since": DATE,
        "not_claimed_in_last_days": DAYS,
        "no_spectra_in_last_days": DAYS,
        "detected_since_mjd": MJD,
        "detected_in_last_days": DAYS,
        "lim_mag": NUMBER,
        "lim_mag_band": {"type": "string", "enum": [*BANDS, "y"]},
        "mjd_now": MJD,
        "include_user": BOOLEAN,
    },
    **{"dependencies": {"lim_mag": ["lim_mag_band"], "lim_mag_band": ["lim_mag"]}},
)
LATEST = obj({}, additional=obj({"mjd": NUMBER, "mag": NUMBER}, ["mjd", "mag"]))
WANTED_ROW = obj(
    {
        "oid": INT64,
        "ra": NULLABLE_NUMBER,
        "dec": NULLABLE_NUMBER,
        "req": nullable(STRING),
        "prio": {"type": "integer"},
        "latest": LATEST,
        "user": nullable(STRING),
    },
    ["oid", "ra", "dec", "req", "prio", "latest"],
)
WANTED_OK = obj({"status": OK, "wantedspectra": array(WANTED_ROW)}, ["status", "wantedspectra"])

PLAN_BODY = obj(
    {
        "objectid": ID,
        "facility": NAME,
        "plantime": nullable(
            {**STRING, **{"description": 'A date (dateutil; naive means UTC), or null or "" for none.'}}
        ),
        "comment": nullable(TEXT),
    },
    ["objectid", "facility"],
)
PLAN_OK = obj(
    {
        "status": OK,
        "objectid": INT64,
        "facility": STRING,
        "created_at": DATETIME,
        "plantime": nullable(DATETIME),
        "comment": STRING,
    },
    ["status", "objectid", "facility", "created_at", "plantime", "comment"],
)
REMOVE_BODY = obj({"objectid": ID, "facility": NAME}, ["objectid", "facility"])
REMOVE_OK = obj(
    {"status": OK, "objectid": INT64, "facility": STRING, "n_deleted": {"type": "integer"}},
    ["status", "objectid", "facility", "n_deleted"],
)
REPORT_BODY = obj(
    {
        "objectid": ID,
        "facility": NAME,
        "mjd": NUMBER,
        "z": nullable(
            {
                **NUMBER,
                "exclusiveMinimum": True,
                "minimum": -1,
                "description": 'Redshift; null (or "") if unknown.',
            }
        ),
        "classid": nullable(
            {
                "type": "integer",
                "enum": sorted(CLASSES),
                "description": "A class id of the taxonomy; 300 if the spectrum does not tell.",
            }
        ),
    },
    ["objectid", "facility", "mjd", "z", "classid"],
)
REPORT_OK = obj(
    {
        "status": OK,
        "objectid": INT64,
        "facility": STRING,
        "inserted_at": DATETIME,
        "mjd": NUMBER,
        "z": NULLABLE_NUMBER,
        "classid": nullable({"type": "integer"}),
    },
    ["status", "objectid", "facility", "inserted_at", "mjd", "z", "classid"],
)
KNOWN_BODY = obj(
    {
        "objectid": nullable({"oneOf": [ID, array(ID)]}),
        "facility": nullable(TEXT),
        **{k: nullable(NUMBER) for k in ("mjd_min", "mjd_max", "z_min", "z_max")},
        "classid": nullable({**INT64}),
        "since": nullable(DATE),
        "include_user": BOOLEAN,
    }
)
SPECTRUM = obj(
    {
        "objectid": INT64,
        "facility": nullable(STRING),
        "mjd": NULLABLE_NUMBER,
        "z": NULLABLE_NUMBER,
        "classid": nullable({"type": "integer"}),
        "report_time": DATETIME,
        "user": nullable(STRING),
    },
    ["objectid", "facility", "mjd", "z", "classid", "report_time"],
)
KNOWN_OK = obj({"status": OK, "spectra": array(SPECTRUM)}, ["status", "spectra"])

_unknown = {400: error("A bad parameter, or an object the TOM does not know.")}

ENDPOINTS = [
    Endpoint(
        "elasticc2:gethottransients",
        "/elasticc2/gethottransients",
        json_api_pair(
            "Hot transients: known objects detected recently",
            HOT_BODY,
            Response(
                "Known objects with a detection since `detected_since_mjd` (default: 30 days before "
                "`mjd_now`), with their forced photometry, redshift and SN code.",
                HOT_OK,
            ),
            errors={403: error("`cheat_gentypes` (selects by simulation truth) from a caller who is not "
                               "an ELAsTiCC admin.")},
        ),
    ),
    Endpoint(
        "elasticc2:askforspectrum",
        "/elasticc2/askforspectrum",
        (
            post_only(
                "Ask for spectra of known objects",
                ASK_BODY,
                Response("Stored; `num` counts the requests created or changed.", ASK_OK),
            ),
        ),
        writes=("elasticc2_wantedspectra",),
    ),
    Endpoint(
        "elasticc2:spectrawanted",
        "/elasticc2/spectrawanted",
        (
            post_only(
                "Spectra wanted",
                WANTED_BODY,
                Response("Wanted, unclaimed, unobserved objects, highest priority first.", WANTED_OK),
            ),
        ),
    ),
    Endpoint(
        "elasticc2:planspectrum",
        "/elasticc2/planspectrum",
        (
            post_only(
                "Plan a spectrum",
                PLAN_BODY,
                Response("The plan (replaces the facility's earlier plan).", PLAN_OK),
                errors=_unknown,
            ),
        ),
        writes=("elasticc2_plannedspectra",),
    ),
    Endpoint(
        "elasticc2:removespectrumplan",
        "/elasticc2/removespectrumplan",
        (
            post_only(
                "Remove a spectrum plan",
                REMOVE_BODY,
                Response("`n_deleted` is 0 if there was no such plan.", REMOVE_OK),
            ),
        ),
        writes=("elasticc2_plannedspectra",),
    ),
    Endpoint(
        "elasticc2:reportspectruminfo",
        "/elasticc2/reportspectruminfo",
        (
            post_only(
                "Report a spectrum",
                REPORT_BODY,
                Response(
                    "Stored; the facility's plan and every request for the object are removed.", REPORT_OK
                ),
                errors=_unknown,
            ),
        ),
        writes=("elasticc2_spectruminfo", "elasticc2_plannedspectra", "elasticc2_wantedspectra"),
    ),
    Endpoint(
        "elasticc2:getknownspectruminfo",
        "/elasticc2/getknownspectruminfo",
        (
            post_only(
                "Reported spectra",
                KNOWN_BODY,
                Response("Reported spectra matching every filter given, by mjd.", KNOWN_OK),
            ),
        ),
    ),
]
