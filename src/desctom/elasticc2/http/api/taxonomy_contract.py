"""The contract of ``/elasticc2/classids`` and ``/elasticc2/classifiers_json`` (no parameters)."""

from __future__ import annotations

from desctom.core.apidoc import BOOLEAN, STRING, ApiDoc, Operation, Response, array, obj
from desctom.elasticc2.http.api.data_contract import TAG

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

_classids_ok = Response(
    "Every class id of the taxonomy, keyed by class id (as a string).", obj({}, additional=CLASS_ID)
)
_classifiers_ok = Response(
    "Every registered classifier keyed by its id (`{}` if none).", obj({}, additional=CLASSIFIER)
)

CLASSIDS_DOC = ApiDoc(
    TAG,
    (
        Operation("get", "Class taxonomy", {200: _classids_ok}, "No parameters; the body is not read."),
        Operation("post", "Class taxonomy (POST)", {200: _classids_ok}, "The same as GET."),
    ),
)
CLASSIFIERS_DOC = ApiDoc(
    TAG,
    (
        Operation("get", "Registered classifiers", {200: _classifiers_ok}),
        Operation("post", "Registered classifiers (POST)", {200: _classifiers_ok}),
    ),
)
