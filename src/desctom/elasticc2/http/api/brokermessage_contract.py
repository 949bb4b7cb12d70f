"""ELAsTiCC2 broker messages: brokers PUT classifications, anyone logged in reads them
(docs/api_elasticc2.md; the view is :mod:`.brokermessages`)."""

from desctom.core.apidoc import (
    INT64,
    NUMBER,
    STRING,
    ApiDoc,
    Operation,
    Response,
    array,
    error,
    nullable,
    obj,
)
from desctom.core.messagequery import SELECTORS
from desctom.core.messagequery_doc import INFO, PAGING_PARAMS, SELECTOR_PARAMS, page_of
from desctom.elasticc2.http.api import brokermessage_validation as v

TAG = "elasticc2 broker messages"
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"

MS = {
    **NUMBER,
    "minimum": 0,
    "exclusiveMaximum": True,
    "maximum": v.MAX_MS,
    "description": "Milliseconds since 1970-01-01 UTC (rounded to the ms).",
}
CLASSIFICATION_IN = obj(
    {
        "classId": {"type": "integer", "minimum": v.SMALLINT[0], "maximum": v.SMALLINT[1]},
        "probability": {**NUMBER, "minimum": 0, "maximum": 1},
    },
    v.CLASSIFICATION_KEYS,
)
MESSAGE_IN = obj(
    {
        "alertId": INT64,
        "diaSourceId": INT64,
        "elasticcPublishTimestamp": MS,
        "brokerIngestTimestamp": nullable(MS),
        "brokerPublishTimestamp": nullable(MS),
        **{
            k: {
                **STRING,
                "maxLength": v.MAX_CHARS[k],
                "pattern": NOT_BLANK if k in v.NONEMPTY_KEYS else NO_NUL,
            }
            for k in v.STRING_KEYS
        },
        "classifications": array(
            CLASSIFICATION_IN, maxItems=v.MAX_CLASSIFICATIONS, description="classIds must be distinct."
        ),
    },
    v.REQUIRED_KEYS,
    description="A brokerClassification record. The four classifier strings together must "
    f"be at most {v.MAX_CLASSIFIER_BYTES} bytes of UTF-8.",
)
PUT_BODY = {"oneOf": [MESSAGE_IN, array(MESSAGE_IN, minItems=1, maxItems=v.MAX_MESSAGES)]}
PUT_OK = obj(
    {"brokerMessageId": INT64, "num_loaded": {"type": "integer"}, "num_duplicates": {"type": "integer"}},
    ["brokerMessageId", "num_loaded", "num_duplicates"],
    description="`brokerMessageId`: the first stored message's id (-1 if all were duplicates).",
)

CLASSIFICATION_OUT = obj({"classId": {"type": "integer"}, "probability": NUMBER}, ["classId", "probability"])
_MESSAGE_KEYS = (
    "brokerMessageId",
    "streamMessageId",
    "topicName",
    "kafkaPartition",
    "alertId",
    "diaSourceId",
    "msgHdrTimestamp",
    "descIngestTimestamp",
    "elasticcPublishTimestamp",
    "brokerIngestTimestamp",
    "classifierId",
    "brokerName",
    "brokerVersion",
    "classifierName",
    "classifierParams",
)
_INTS = {"brokerMessageId", "streamMessageId", "kafkaPartition", "alertId", "diaSourceId", "classifierId"}
_STAMPS = {"msgHdrTimestamp", "descIngestTimestamp", "elasticcPublishTimestamp", "brokerIngestTimestamp"}
MESSAGE_OUT = obj(
    {
        **{
            k: nullable(
                INT64 if k in _INTS else {"type": "string", "format": "date-time"} if k in _STAMPS else STRING
            )
            for k in _MESSAGE_KEYS
        },
        "classifications": array(CLASSIFICATION_OUT),
    },
    [*_MESSAGE_KEYS, "classifications"],
)


_bad = error("Bad query: none or several of the selectors, an id that is not an integer, ...")
_list = Operation(
    "get",
    "Broker messages of alerts, sources or objects",
    {200: Response("A page of messages in id order.", page_of(MESSAGE_OUT)), 400: _bad},
    f"Give exactly one of {', '.join(SELECTORS)} (the spellings with and without `dia` are synonyms).",
    query=SELECTOR_PARAMS + PAGING_PARAMS,
)
_one = Operation(
    "get",
    "One broker message, or a query given as the path",
    {
        200: Response(
            "The message (for an id) or a page of messages (for a query).",
            {"oneOf": [MESSAGE_OUT, page_of(MESSAGE_OUT)]},
        ),
        400: _bad,
        404: error("No broker message with that id."),
    },
    query=SELECTOR_PARAMS + PAGING_PARAMS,
)
_put = Operation(
    "put",
    "Store classifications (push brokers)",
    {
        201: Response("Stored (duplicates of stored messages are skipped).", PUT_OK, headers=("Location",)),
        400: error("A message is malformed: `message <index>: <field> ...` (nothing is stored)."),
        403: error(
            "Not a member of `elasticc_broker` (nor a superuser), a `brokerName` the account is not bound "
            "to (nothing is stored), or a session without the CSRF header."
        ),
        413: error("More than 10,000 messages, or a body over 64 MB (refused before it is read)."),
    },
    "One brokerClassification record or a list of them. Every message is checked before anything is "
    "stored; the same idempotent path as the Kafka poller stores them.",
    body=PUT_BODY,
    body_required=True,
)

#: ``metrics_newmessage``: the metrics' log of stored messages, written by a trigger (migration metrics 0005).
LIST_DOC = ApiDoc(TAG, (_list, _put), writes=("elasticc2_brokermessage", "elasticc2_brokerclassifier",
                                               "elasticc2_brokersourceids", "metrics_newmessage"))
ONE_DOC = ApiDoc(TAG, (_one,), path_params=(INFO,))
#: By URL name: the view is routed at the list and at ``<info>/`` (an id or a query).
BROKERMESSAGE_DOCS = {"brokermessage": LIST_DOC, "brokermessage_id": ONE_DOC, "brokermessage_query": ONE_DOC}
