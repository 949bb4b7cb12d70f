"""ELAsTiCC 1 under ``/elasticc/`` (docs/api_elasticc.md; views in desctom.elasticc.http.api).

The admin loaders are POST only, for ELAsTiCC admins; each request is checked whole and stored
in one transaction (a bad row: 400, nothing written).
"""

from desctom.core.apidoc import (
    ANY_OBJECT,
    BOOLEAN,
    DATETIME,
    INT64,
    NUMBER,
    OK,
    STRING,
    ApiDoc,
    Operation,
    Response,
    array,
    error,
    json_api_pair,
    nullable,
    obj,
    post_only,
)
from desctom.core.messagequery_doc import INFO, PAGING_PARAMS, SELECTOR_PARAMS, page_of
from desctom.elasticc.models.photometry import OBJECT_FLOATS, OBJECT_TRUTH_COLUMNS, OBJECT_TRUTH_INTEGERS

TAG = "elasticc"
#: At most this many alerts per getalerts page.
MAX_NUM = 1000

#: The rows the admin loaders take: column -> (kind, nullable); checked by
#: :func:`~desctom.elasticc.http.api.common.check_row` and described by :func:`row_schema`.
OBJECT_SPEC = {"diaObjectId": ("int", False), "simVersion": ("text", True), "ra": ("float", False),
               "decl": ("float", False), **{c: ("float", True) for c in OBJECT_FLOATS}}
SOURCE_SPEC = {"diaSourceId": ("int", False), "ccdVisitId": ("int", False), "diaObjectId": ("int", True),
               "parentDiaSourceId": ("int", True), "midPointTai": ("float", False),
               "filterName": ("text", False), "ra": ("float", False), "decl": ("float", False),
               "psFlux": ("float", False), "psFluxErr": ("float", False), "snr": ("float", False),
               "nobs": ("float", True)}
FORCED_SPEC = {"diaForcedSourceId": ("int", False), "ccdVisitId": ("int", False),
               "diaObjectId": ("int", False), "midPointTai": ("float", False), "filterName": ("text", False),
               "psFlux": ("float", False),
               "psFluxErr": ("float", False), "totFlux": ("float", True), "totFluxErr": ("float", True)}
TRUTH_SPEC = {"diaSourceId": ("int", False), "diaObjectId": ("int", True), "mjd": ("float", True),
              "detect": ("bool", True), "gentype": ("int32", True), "genmag": ("float", True)}
TRUTH_KEYS = {"SourceID": "diaSourceId", "SNID": "diaObjectId", "MJD": "mjd", "DETECT": "detect",
              "TRUE_GENTYPE": "gentype", "TRUE_GENMAG": "genmag"}
OBJECT_TRUTH_SPEC = {c: (("int" if c in ("diaObjectId", "galid") else "int32") if c in OBJECT_TRUTH_INTEGERS
                         else "float", c.startswith("gal")) for c in OBJECT_TRUTH_COLUMNS}
ALERT_KEYS = {"alertId", "diaSource", "prvDiaSources", "prvDiaForcedSources", "prvDiaNondetectionLimits",
              "diaObject", "cutoutDifference", "cutoutTemplate"}
_KINDS = {
    "int32": {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1},
    "int": INT64,
    "float": NUMBER,
    "text": {**STRING, "pattern": "^[^\\u0000]*$"},
    "bool": BOOLEAN,
}


def row_schema(spec: dict, keymap: dict | None = None) -> dict:
    """The JSON Schema of a row ``check_row`` accepts under ``spec`` (column -> (kind, nullable))."""
    names = {v: k for k, v in (keymap or {}).items()}
    props = {
        names.get(c, c): (nullable(_KINDS[kind]) if null else _KINDS[kind])
        for c, (kind, null) in spec.items()
    }
    return obj(props, [names.get(c, c) for c, (_, null) in spec.items() if not null])


def one_or_list(schema: dict) -> dict:
    return {"oneOf": [schema, array(schema, minItems=1)]}


ALERT_IN = obj(
    {
        "alertId": INT64,
        "diaSource": row_schema(SOURCE_SPEC),
        "diaObject": nullable(row_schema(OBJECT_SPEC)),
        "prvDiaSources": nullable(array(row_schema(SOURCE_SPEC))),
        "prvDiaForcedSources": nullable(array(row_schema(FORCED_SPEC))),
        "prvDiaNondetectionLimits": {},
        "cutoutDifference": {},
        "cutoutTemplate": {},
    },
    ["alertId", "diaSource"],
    description="A v0.9 alert; sources must belong to known objects or this batch's.",
)
_admin = {
    403: error(
        "Not an ELAsTiCC admin (group `elasticc_admin`, permission elasticc.elasticc_admin or "
        "superuser), or a session without the CSRF header."
    ),
    404: error("Unknown alertId (markalertsent)."),
}


def _loader(summary: str, body: dict, ok: dict, writes: tuple[str, ...],
            unknown_alert: bool = False) -> ApiDoc:
    errors = {k: v for k, v in _admin.items() if k == 403 or unknown_alert}
    return ApiDoc(
        TAG,
        (
            post_only(
                summary, Response("Stored (rows already present are skipped).", ok), errors=errors, body=body
            ),
        ),
        writes=writes,
    )


def _ok(message: dict, **extra) -> dict:
    return obj({"status": OK, "message": message, **extra}, ["status", "message", *extra])


ALERT_OUT = obj(
    {
        "alertId": INT64,
        "diaSource": ANY_OBJECT,
        "prvDiaSources": array(ANY_OBJECT),
        "prvDiaForcedSources": array(ANY_OBJECT),
        "prvDiaNondetectionLimits": array(ANY_OBJECT),
        "diaObject": nullable(ANY_OBJECT),
        "cutoutDifference": nullable(STRING),
        "cutoutTemplate": nullable(STRING),
    },
    ["alertId", "diaSource", "prvDiaSources", "prvDiaForcedSources", "diaObject"],
)
PAGING = obj(
    {
        "offset": {"type": "integer", "minimum": 0, "maximum": 2**62, "default": 0},
        "num": {"type": "integer", "minimum": 0, "maximum": MAX_NUM, "default": 100},
    }
)
ALERTS_OK = obj(
    {
        "status": OK,
        "offset": {"type": "integer"},
        "num": {"type": "integer"},
        "totnum": {"type": "integer"},
        "alerts": array(ALERT_OUT),
    },
    ["status", "offset", "num", "totnum", "alerts"],
)
TRUTH_OK = obj(
    {
        **ALERTS_OK["properties"],
        "truth": obj({}, additional=ANY_OBJECT),
        "objecttruth": obj({}, additional=ANY_OBJECT),
    },
    [*ALERTS_OK["required"], "truth", "objecttruth"],
)
CLASSIFICATION_OUT = obj(
    {
        "classifierId": nullable(INT64),
        "classifierName": nullable(STRING),
        "classifierParams": nullable(STRING),
        "classId": nullable({"type": "integer"}),
        "probability": nullable(NUMBER),
    },
    ["classifierId", "classifierName", "classifierParams", "classId", "probability"],
)
_MESSAGE_KEYS = ("brokerMessageId", "streamMessageId", "topicName", "alertId", "diaSourceId")
_STAMPS = ("msgHdrTimestamp", "descIngestTimestamp", "elasticcPublishTimestamp", "brokerIngestTimestamp")
MESSAGE_OUT = obj(
    {
        **{k: nullable(STRING if k == "topicName" else INT64) for k in _MESSAGE_KEYS},
        **{k: nullable(DATETIME) for k in _STAMPS},
        "brokerName": nullable(STRING),
        "brokerVersion": nullable(STRING),
        "classifications": array(CLASSIFICATION_OUT),
    },
    [*_MESSAGE_KEYS, *_STAMPS, "brokerName", "brokerVersion", "classifications"],
)

_bad = error("Bad query: none or several of the selectors, an id that is not an integer, ...")
_closed = {403: error("ELAsTiCC is over: posting classifications is disabled.")}


def _queries(summary: str) -> tuple[Operation, ...]:
    ok = Response("A page of messages in id order.", page_of(MESSAGE_OUT))
    get = Operation("get", summary, {200: ok, 400: _bad}, query=SELECTOR_PARAMS + PAGING_PARAMS)
    return get, Operation(
        "post", summary + " (POST)", {200: ok, 400: _bad}, query=SELECTOR_PARAMS + PAGING_PARAMS
    )


_one_ok = Response(
    "The message (for an id) or a page of messages (for a query).",
    {"oneOf": [MESSAGE_OUT, page_of(MESSAGE_OUT)]},
)
_one = {200: _one_ok, 400: _bad, 404: error("No broker message with that id.")}

ADD_OBJECT_DOC = _loader("Add a diaObject", row_schema(OBJECT_SPEC), _ok(STRING), ("elasticc_diaobject",))
ADD_ALERT_DOC = _loader(
    "Add alerts",
    one_or_list(ALERT_IN),
    _ok(obj({k: {"type": "integer"} for k in ("objects", "sources", "forcedsources", "alerts")},
            ["objects", "sources", "forcedsources", "alerts"])),
    ("elasticc_diaobject", "elasticc_diasource", "elasticc_diaforcedsource", "elasticc_diaalert"),
)
ADD_TRUTH_DOC = _loader("Add per-epoch truth", one_or_list(row_schema(TRUTH_SPEC, TRUTH_KEYS)),
                        _ok(array(INT64), missing=array(INT64)), ("elasticc_diatruth",))
ADD_OBJECT_TRUTH_DOC = _loader("Add object truth", one_or_list(row_schema(OBJECT_TRUTH_SPEC)),
                               _ok(array(INT64)), ("elasticc_diaobjecttruth",))
MARK_SENT_DOC = _loader(
    "Mark alerts sent",
    {"oneOf": [INT64, array(INT64, minItems=1)]},
    obj({"status": OK, "alertIds": array(INT64), "timestamp": DATETIME}, ["status", "alertIds", "timestamp"]),
    ("elasticc_diaalert",),
    unknown_alert=True,
)
GETALERTS_DOC = ApiDoc(TAG, json_api_pair(
    "A page of alerts", Response("Reconstructed v0.9 alerts in alertId order.", ALERTS_OK), body=PAGING))
GETALERTSANDTRUTH_DOC = ApiDoc(TAG, json_api_pair(
    "A page of alerts with their truth",
    Response("As getalerts, plus `truth` (by diaSourceId) and `objecttruth` (by diaObjectId).", TRUTH_OK),
    errors={403: error("Not an ELAsTiCC admin: the truth is for `elasticc_admin` and superusers.")},
    body=PAGING))
_ONE_OPS = (
    Operation("get", "One ELAsTiCC 1 broker message, or a query as the path", _one,
              query=SELECTOR_PARAMS + PAGING_PARAMS),
    Operation("post", "One ELAsTiCC 1 broker message (POST)", _one, query=SELECTOR_PARAMS + PAGING_PARAMS),
)
#: By URL name: the view is routed at the list and at ``<info>/`` (an id or a query).
BROKERMESSAGE_DOCS = {
    "brokermessage": ApiDoc(TAG, (*_queries("ELAsTiCC 1 broker messages"),
                                  Operation("put", "Disabled: ELAsTiCC is over", _closed, body={}))),
    "brokermessage_id": ApiDoc(TAG, _ONE_OPS, path_params=(INFO,)),
    "brokermessage_query": ApiDoc(TAG, _ONE_OPS, path_params=(INFO,)),
}
