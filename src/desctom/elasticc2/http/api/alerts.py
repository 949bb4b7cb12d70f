"""``/elasticc2/getalert`` (reference §1.4.4): the alert a detection produced (or will produce).

Alerts are rebuilt from the PPDB tables by :mod:`desctom.elasticc2.queries.alerts` with the original's
defaults (365 days of previous photometry, no limit on the number of points); this works for
alerts not sent yet too. The request is declared in :mod:`.alerts_contract`.
"""

from __future__ import annotations

from desctom.core.jsonapi import JsonApiView
from desctom.elasticc2.http.api.alerts_contract import GETALERT_DOC, GETALERT_MISSING
from desctom.elasticc2.queries.detection_alert import alert_of_detection


class GetAlertView(JsonApiView):
    """POST (or GET) ``/elasticc2/getalert`` with ``{"alertid": int}`` or ``{"sourceid": int}``."""

    error_prefix = "Exception in GetAlert: "
    not_object_message = GETALERT_MISSING
    api_doc = GETALERT_DOC

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data, self.error_prefix)
        if values["alertid"] is not None:  # alertid wins if both are given
            alert = alert_of_detection(alert_id=values["alertid"])
            if alert is None:
                raise self.error("PPDBAlert matching query does not exist.", 404)
            return alert
        alert = alert_of_detection(source_id=values["sourceid"])
        if alert is None:
            raise self.error(f"Unknown sourceid {values['sourceid']}", 404)
        return alert
