"""ELAsTiCC2 read endpoints: taxonomy, classifiers, alerts, light curves, features, cone search
(docs/api_elasticc2.md; views in desctom.elasticc2.http.api)."""

from desctom.apidocs.registry import (
    ANY_OBJECT,
    BOOLEAN,
    INT64,
    NUMBER,
    STRING,
    Endpoint,
    Operation,
    Response,
    array,
    error,
    json_api_pair,
    nullable,
    obj,
    open_obj,
)
from desctom.elasticc2.http.api.cone import MAX_LIMIT, MAX_RADIUS_ARCSEC
from desctom.elasticc2.http.api.lightcurves import FEATURE_NAMES, HOST_COLUMNS

TAG = "elasticc2"
NULLABLE_NUMBER = nullable(NUMBER)

CLASS_ID = obj(
    {
        "description": STRING,
        "gentype": array({"type": "integer"}),
        "exactmatch": BOOLEAN,
        "categorymatch": BOOLEAN,
        "generalmatch": BOOLEAN,
        "broadmatch": BOOLEAN,
    },
    ["description", "gentype", "exactmatch", "categorymatch", "generalmatch", "broadmatch"],
)
CLASSIFIER = obj(
    {"brokername": STRING, "brokerversion": STRING, "classifiername": STRING, "classifierparams": STRING},
    ["brokername", "brokerversion", "classifiername", "classifierparams"],
)

ID = {**INT64, "description": "An integer (a string of digits is accepted too)."}
ALERT = open_obj(
    {
        "alertId": INT64,
        "diaSource": ANY_OBJECT,
        "prvDiaSources": array(ANY_OBJECT),
        "prvDiaForcedSources": array(ANY_OBJECT),
        "diaObject": nullable(ANY_OBJECT),
    }
)
GETALERT_BODY = obj(
    {"alertid": ID, "sourceid": ID},
    minProperties=1,
    description="`alertid` or `sourceid` (alertid wins if both are given).",
)

PHOTOMETRY = {
    "mjd": array(NUMBER),
    "band": array(STRING),
    "flux": array(NULLABLE_NUMBER),
    "fluxerr": array(NULLABLE_NUMBER),
}
HOST = {c: NULLABLE_NUMBER for c in HOST_COLUMNS}
CURVE_HEAD = {"objectid": INT64, "ra": NULLABLE_NUMBER, "dec": NULLABLE_NUMBER, "zp": NUMBER}
LTCV_FORMAT_0 = obj(
    {**CURVE_HEAD, "photometry": obj(PHOTOMETRY, list(PHOTOMETRY)), **HOST}, [*CURVE_HEAD, "photometry"]
)
LTCV_FORMAT_1 = obj({**CURVE_HEAD, **PHOTOMETRY, **HOST}, [*CURVE_HEAD, *PHOTOMETRY])
LTCV_FORMAT_2 = obj({k: array({}) for k in [*CURVE_HEAD, *PHOTOMETRY, *HOST]}, [*CURVE_HEAD, *PHOTOMETRY])
LTCV_BODY = obj(
    {
        "objectid": ID,
        "objectids": array(ID, minItems=1),
        "mjd_now": {**NUMBER, "description": "Only photometry up to this MJD."},
        "return_format": {
            "type": "integer",
            "enum": [0, 1, 2],
            "description": "0: one dict per object with a `photometry` dict; 1: flat dicts; "
            "2: one dict of lists.",
        },
        "include_hostinfo": {**BOOLEAN, "description": "Add the first host galaxy's columns."},
    },
    oneOf=[{"required": ["objectid"]}, {"required": ["objectids"]}],
    description="Exactly one of `objectid` and `objectids`.",
)
LTCV_OK = obj(
    {
        "status": {"type": "string", "enum": ["ok"]},
        "diaobject": {"oneOf": [array({"anyOf": [LTCV_FORMAT_0, LTCV_FORMAT_1]}), LTCV_FORMAT_2]},
    },
    ["status", "diaobject"],
)

FEATURES_FLAT = obj({name: NULLABLE_NUMBER for name in FEATURE_NAMES}, FEATURE_NAMES, additional=ANY_OBJECT)
FEATURES_PER_BAND = obj({}, additional=ANY_OBJECT)
FEATURES_BODY = obj(
    {
        "objectid": ID,
        "sourceid": ID,
        "alertid": ID,
        "through_mjd": NUMBER,
        "per_band": BOOLEAN,
        "includeltcv": BOOLEAN,
    },
    minProperties=1,
    anyOf=[{"required": ["objectid"]}, {"required": ["sourceid"]}, {"required": ["alertid"]}],
    description="One of `sourceid`, `alertid` (features up to that detection) or `objectid`.",
)

CONE_BODY = obj(
    {
        "ra": {**NUMBER, "minimum": 0, "maximum": 360, "description": "Degrees."},
        "dec": {**NUMBER, "minimum": -90, "maximum": 90, "description": "Degrees."},
        "radius_arcsec": {**NUMBER, "exclusiveMinimum": True, "minimum": 0, "maximum": MAX_RADIUS_ARCSEC},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
    },
    ["ra", "dec", "radius_arcsec"],
)
CONE_OK = obj(
    {
        "status": {"type": "string", "enum": ["ok"]},
        "objects": array(
            obj(
                {
                    "diaobject_id": INT64,
                    "ra": NULLABLE_NUMBER,
                    "decl": NULLABLE_NUMBER,
                    "distance_arcsec": NULLABLE_NUMBER,
                },
                ["diaobject_id", "ra", "decl", "distance_arcsec"],
            )
        ),
    },
    ["status", "objects"],
)

_classids_ok = Response(
    "Every class id of the taxonomy, keyed by class id (as a string).", obj({}, additional=CLASS_ID)
)
_classifiers_ok = Response(
    "Every registered classifier keyed by its id (`{}` if none).", obj({}, additional=CLASSIFIER)
)
_not_found = error("No such alert, source or object.")

ENDPOINTS = [
    Endpoint(
        "elasticc2:classids",
        "/elasticc2/classids",
        (
            Operation("get", "Class taxonomy", {200: _classids_ok}, "No parameters; the body is not read."),
            Operation("post", "Class taxonomy (POST)", {200: _classids_ok}, "The same as GET."),
        ),
    ),
    Endpoint(
        "elasticc2:classifiers_json",
        "/elasticc2/classifiers_json",
        (
            Operation("get", "Registered classifiers", {200: _classifiers_ok}),
            Operation("post", "Registered classifiers (POST)", {200: _classifiers_ok}),
        ),
    ),
    Endpoint(
        "elasticc2:getalert",
        "/elasticc2/getalert",
        json_api_pair(
            "The alert of a detection",
            GETALERT_BODY,
            Response(
                "The alert (v0.9 Avro field names), rebuilt from the PPDB; works for unsent alerts too.",
                ALERT,
            ),
            errors={404: _not_found},
        ),
    ),
    Endpoint(
        "elasticc2:ltcv",
        "/elasticc2/ltcv",
        json_api_pair(
            "Light curves of known objects",
            LTCV_BODY,
            Response(
                "Forced photometry (nJy, zp 31.4) of the known objects asked for (unknown ids omitted).",
                LTCV_OK,
            ),
        ),
    ),
    Endpoint(
        "elasticc2:ltcvfeatures",
        "/elasticc2/ltcvfeatures",
        json_api_pair(
            "Light-curve features of a PPDB object",
            FEATURES_BODY,
            Response(
                "The 13 features (null where a feature needs more points), per band if `per_band`; "
                "`lightcurve` added if `includeltcv`.",
                {"anyOf": [FEATURES_FLAT, FEATURES_PER_BAND]},
            ),
            errors={404: _not_found},
        ),
    ),
    Endpoint(
        "elasticc2:conesearch",
        "/elasticc2/conesearch",
        json_api_pair(
            "Cone search in the PPDB",
            CONE_BODY,
            Response("PPDB objects within the radius, nearest first.", CONE_OK),
        ),
    ),
]
