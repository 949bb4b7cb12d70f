"""The contracts of ``/elasticc2/ltcv`` and ``/elasticc2/ltcvfeatures``: requests and answers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from desctom.core.apidoc import ANY_OBJECT, INT64, NUMBER, ApiDoc, Response, array, json_api_pair, obj
from desctom.core.contract import Flag, Int64, Int64List, RequestContract, mjd, shown
from desctom.core.jsonapi import unknown_keys_text
from desctom.elasticc2.http.api.data_contract import HOST, ID, NOT_FOUND, NULLABLE_NUMBER, PHOTOMETRY, TAG, Id
from desctom.elasticc2.queries.features import FEATURE_NAMES

RETURN_FORMATS = (0, 1, 2)


@extend_schema_field({"oneOf": [ID, array(ID, minItems=1)]})
class ObjectIds(Int64List):
    """One object id or a non-empty list of them (both ``objectid`` and ``objectids`` take either)."""

    def fail(self, key, **kwargs):
        if key == "null":
            self.refuse(f"{self.name} must be an integer or a list of integers, not null")
        super().fail(key, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list):
            if not data:
                self.refuse(f"{self.name} is an empty list: give at least one object id")
            return super().to_internal_value(data)
        try:
            return [Int64(error_name=self.name).to_internal_value(data)]
        except serializers.ValidationError:
            self.refuse(f"{self.name} must be an integer or a list of integers, not {shown(data)}")


def _as_text(value) -> str:
    """``value`` as the original printed it (``str``), cut after 80 characters."""
    text = str(value) if isinstance(value, (str, int, float, bool)) else shown(value)
    return text if len(text) <= 80 else f"{text[:80]}... ({len(text)} characters)"


@extend_schema_field({"type": "integer", "enum": list(RETURN_FORMATS), "default": 0,
                      "description": "0: one dict per object with a `photometry` dict; 1: flat dicts; "
                                     "2: one dict of lists."})
class ReturnFormat(Int64):
    """0, 1 or 2; anything else is "Unknown return_format <value>"."""

    def __init__(self, **kwargs):
        super().__init__(min_value=min(RETURN_FORMATS), max_value=max(RETURN_FORMATS), **kwargs)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            self.refuse(f"Unknown {self.name} {_as_text(data)}")


class LtcvRequest(RequestContract):
    """Exactly one of `objectid` and `objectids` (each takes one id or a list of ids)."""

    schema_extra = {"oneOf": [{"required": ["objectid"]}, {"required": ["objectids"]}]}

    objectid = ObjectIds(required=False, help_text="An object id, or a list of them.")
    objectids = ObjectIds(required=False, help_text="A list of object ids (or one).")
    mjd_now = mjd(required=False, allow_null=True, help_text="Only photometry up to this MJD.")
    return_format = ReturnFormat(required=False, allow_null=True)
    include_hostinfo = Flag(required=False, allow_null=True, help_text="Add the first host galaxy's columns.")

    def unknown_message(self, unknown: set[str]) -> str:
        return f"Unknown parameters: {unknown_keys_text(unknown)}"

    def check_keys(self, data: dict) -> str | None:
        problem = super().check_keys(data)
        if problem is None and "objectid" not in data and "objectids" not in data:
            problem = "Must supply either objectid or objectids"
        if problem is None and "objectid" in data and "objectids" in data:
            problem = "Can't supply both objectid and objectids"
        return problem


FEATURES_MISSING = "Must supply either alertid or sourceid or objectid"


class FeaturesRequest(RequestContract):
    """One of `sourceid`, `alertid` (features up to that detection) or `objectid`; other keys are
    ignored, except `features` (a feature list is not implemented)."""

    refuse_unknown = False
    schema_extra = {
        "minProperties": 1,
        "anyOf": [{"required": ["objectid"]}, {"required": ["sourceid"]}, {"required": ["alertid"]}],
        "not": {"required": ["features"]},
    }

    objectid = Id(required=False, help_text="A PPDB object: all of its forced photometry.")
    sourceid = Id(required=False, help_text="A detection: its object's photometry up to it (wins).")
    alertid = Id(required=False, help_text="An alert: like its detection's `sourceid`.")
    through_mjd = mjd(required=False, allow_null=True, help_text="Only photometry up to this MJD.")
    per_band = Flag(required=False, allow_null=True, help_text="Features of each band separately.")
    includeltcv = Flag(required=False, allow_null=True, help_text="Add the light curve used.")

    def check_keys(self, data: dict) -> str | None:
        if not {"sourceid", "alertid", "objectid"} & set(data):
            return FEATURES_MISSING
        if "features" in data:
            return "Passing feature list not yet implemented"
        return None


CURVE_HEAD = {"objectid": INT64, "ra": NULLABLE_NUMBER, "dec": NULLABLE_NUMBER, "zp": NUMBER}
LTCV_FORMAT_0 = obj(
    {**CURVE_HEAD, "photometry": obj(PHOTOMETRY, list(PHOTOMETRY)), **HOST}, [*CURVE_HEAD, "photometry"]
)
LTCV_FORMAT_1 = obj({**CURVE_HEAD, **PHOTOMETRY, **HOST}, [*CURVE_HEAD, *PHOTOMETRY])
LTCV_FORMAT_2 = obj({k: array({}) for k in [*CURVE_HEAD, *PHOTOMETRY, *HOST]}, [*CURVE_HEAD, *PHOTOMETRY])
LTCV_OK = obj(
    {
        "status": {"type": "string", "enum": ["ok"]},
        "diaobject": {"oneOf": [array({"anyOf": [LTCV_FORMAT_0, LTCV_FORMAT_1]}), LTCV_FORMAT_2]},
    },
    ["status", "diaobject"],
)
FEATURES_FLAT = obj({name: NULLABLE_NUMBER for name in FEATURE_NAMES}, FEATURE_NAMES, additional=ANY_OBJECT)
FEATURES_PER_BAND = obj({}, additional=ANY_OBJECT)

LTCV_DOC = ApiDoc(
    TAG,
    json_api_pair(
        "Light curves of known objects",
        Response("Forced photometry (nJy, zp 31.4) of the known objects asked for (unknown ids omitted).",
                 LTCV_OK),
    ),
    request=LtcvRequest,
)
FEATURES_DOC = ApiDoc(
    TAG,
    json_api_pair(
        "Light-curve features of a PPDB object",
        Response(
            "The 13 features (null where a feature needs more points), per band if `per_band`; "
            "`lightcurve` added if `includeltcv`.",
            {"anyOf": [FEATURES_FLAT, FEATURES_PER_BAND]},
        ),
        errors={404: NOT_FOUND},
    ),
    request=FeaturesRequest,
)
