"""The contract of ``/elasticc2/getalert``: ``alertid`` or ``sourceid``, and the alert it answers."""

from __future__ import annotations

from desctom.core.apidoc import ANY_OBJECT, INT64, ApiDoc, Response, array, json_api_pair, nullable, open_obj
from desctom.core.contract import RequestContract
from desctom.elasticc2.http.api.data_contract import NOT_FOUND, TAG, Id

GETALERT_MISSING = "Must supply either alertid or sourceid"


class GetAlertRequest(RequestContract):
    """`alertid` or `sourceid` (alertid wins if both are given); other keys are ignored."""

    refuse_unknown = False
    schema_extra = {"minProperties": 1, "anyOf": [{"required": ["alertid"]}, {"required": ["sourceid"]}]}

    alertid = Id(required=False, help_text="The alert's id.")
    sourceid = Id(required=False, help_text="The detection's (DiaSource's) id.")

    def check_keys(self, data: dict) -> str | None:
        return None if {"alertid", "sourceid"} & set(data) else GETALERT_MISSING


ALERT = open_obj(
    {
        "alertId": INT64,
        "diaSource": ANY_OBJECT,
        "prvDiaSources": array(ANY_OBJECT),
        "prvDiaForcedSources": array(ANY_OBJECT),
        "diaObject": nullable(ANY_OBJECT),
    }
)

GETALERT_DOC = ApiDoc(
    TAG,
    json_api_pair(
        "The alert of a detection",
        Response("The alert (v0.9 Avro field names), rebuilt from the PPDB; works for unsent alerts too.",
                 ALERT),
        errors={404: NOT_FOUND},
    ),
    request=GetAlertRequest,
)
