"""``/elasticc2/clock``: the campaign's "now" (:mod:`desctom.elasticc2.queries.clock`).

A simulated campaign's time is its simulation clock, not the wall clock: a client that counts a
window back from "now" (``detected_in_last_days``, ``mjd_now``) reads it here. GET and POST
answer the same; the body is not read.
"""

from __future__ import annotations

from desctom.core.apidoc import NUMBER, STRING, ApiDoc, Operation, Response, nullable, obj
from desctom.core.jsonapi import JsonApiView, strict_json_response
from desctom.elasticc2.http.api.data_contract import TAG
from desctom.elasticc2.queries.clock import campaign_clock

CLOCK = obj(
    {
        "mode": {"type": "string", "enum": ["simulation", "wall"]},
        "mjd": NUMBER,
        "utc": STRING,
        "source": {"type": "string", "enum": ["sender", "detections", "wall"]},
        "setting": {"type": "string", "enum": ["auto", "simulation", "wall"]},
        "simulation_mjd": nullable(NUMBER),
        "wall_mjd": NUMBER,
    },
    ["mode", "mjd", "utc", "source", "setting", "simulation_mjd", "wall_mjd"],
)
_ok = Response(
    "The campaign's current time: `mjd` (and `utc`) is \"now\" for the defaults of `gethottransients` "
    "and `spectrawanted`; `mode` is `simulation` (the MJD of the latest sent alert, or of the latest "
    "known detection) or `wall`; `setting` is `DESCTOM_CLOCK`.",
    CLOCK,
)
CLOCK_DOC = ApiDoc(
    TAG,
    (
        Operation("get", "The campaign's clock", {200: _ok}, "No parameters; the body is not read."),
        Operation("post", "The campaign's clock (POST)", {200: _ok}, "The same as GET."),
    ),
)


class ClockView(JsonApiView):
    """GET|POST ``/elasticc2/clock``: the campaign's current MJD and which clock it is."""

    api_doc = CLOCK_DOC

    def post(self, request, *args, **kwargs):
        return strict_json_response(campaign_clock().as_json())
