"""``/elasticc2/getalert`` (reference §1.4.4): the alert a detection produced (or will produce).

Alerts are rebuilt from the PPDB tables by :mod:`desctom.elasticc2.queries.alerts` with the original's
defaults (365 days of previous photometry, no limit on the number of points); this works for
alerts not sent yet too.
"""

from __future__ import annotations

from desctom.core.jsonapi import JsonApiView, as_int
from desctom.elasticc2.queries.alerts import alert_ids_of_sources, reconstruct_alerts


class GetAlertView(JsonApiView):
    """POST (or GET) ``/elasticc2/getalert`` with ``{"alertid": int}`` or ``{"sourceid": int}``."""

    error_prefix = "Exception in GetAlert: "
    not_object_message = "Must supply either alertid or sourceid"

    def handle(self, data: dict):
        if "alertid" in data:  # alertid wins if both are given
            alert_id = as_int(data["alertid"], "alertid", self.error_prefix)
            alert = reconstruct_alerts([alert_id]).get(alert_id)
            if alert is None:
                raise self.error("PPDBAlert matching query does not exist.", 404)
            return alert
        if "sourceid" in data:
            source_id = as_int(data["sourceid"], "sourceid", self.error_prefix)
            alert_id = alert_ids_of_sources([source_id]).get(source_id)
            alert = None if alert_id is None else reconstruct_alerts([alert_id]).get(alert_id)
            if alert is None:
                raise self.error(f"Unknown sourceid {source_id}", 404)
            return alert
        raise self.error("Must supply either alertid or sourceid")
