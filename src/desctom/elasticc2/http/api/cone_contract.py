"""The contract of ``/elasticc2/conesearch``: a sky position, a radius and a limit; the objects found."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from desctom.core.apidoc import INT64, ApiDoc, Response, array, json_api_pair, obj
from desctom.core.contract import Int64, Number, RequestContract
from desctom.elasticc2.http.api.data_contract import NULLABLE_NUMBER, TAG

DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
#: One degree: the widest cone searched (the tables are big, the answer is capped by ``limit`` anyway).
MAX_RADIUS_ARCSEC = 3600.0


class Degrees(Number):
    """An angle in degrees within ``min_value..max_value`` (the original's range message)."""

    def range_message(self, data) -> str:
        return f"{self.name} must be between {self.low:g} and {self.high:g} degrees, not {float(data)}"


@extend_schema_field({"type": "number", "minimum": 0, "exclusiveMinimum": True,
                      "maximum": MAX_RADIUS_ARCSEC, "description": "Arcseconds."})
class Radius(Number):
    """A cone radius in arcseconds: above 0, at most :data:`MAX_RADIUS_ARCSEC`."""

    def __init__(self, **kwargs):
        # no min_value: its inclusive validator would hide the exclusive minimum in the description
        super().__init__(max_value=MAX_RADIUS_ARCSEC, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value <= 0.0:
            self.refuse(self.range_message(data))
        return value

    def range_message(self, data) -> str:
        return f"{self.name} must be > 0 and <= {self.high:g}, not {float(data)}"


class Limit(Int64):
    """The most rows to answer (the original's range message)."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            value = Int64(error_name=self.name).to_internal_value(data)  # not an integer: that message
            self.refuse(f"{self.name} must be between {self.min_value} and {self.max_value}, not {value}")


class ConeRequest(RequestContract):
    """A position (degrees), a radius (arcseconds) and at most `limit` objects."""

    ra = Degrees(min_value=0.0, max_value=360.0, help_text="Degrees.")
    dec = Degrees(min_value=-90.0, max_value=90.0, help_text="Degrees.")
    radius_arcsec = Radius()
    limit = Limit(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, allow_null=True,
                  help_text=f"At most this many objects (default {DEFAULT_LIMIT}).")

    def unknown_message(self, unknown: set[str]) -> str:
        return f"Unknown parameters: {sorted(unknown)}; known are {sorted(self.fields)}"

    def missing_message(self, missing: list[str]) -> str:
        return f"{missing[0]} is required"


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

CONE_DOC = ApiDoc(
    TAG,
    json_api_pair("Cone search in the PPDB",
                  Response("PPDB objects within the radius, nearest first.", CONE_OK)),
    request=ConeRequest,
)
