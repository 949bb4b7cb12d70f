"""``/elasticc/getalerts`` and ``/elasticc/getalertsandtruth`` (reference §1.5).

Body ``{"offset": int, "num": int}`` (defaults 0 and 100, ``num`` at most 1000): a page of alerts
in ``alertId`` order → ``{"status": "ok", "offset", "num", "totnum", "alerts": [...]}``; the
``andtruth`` form adds ``truth`` (keyed by diaSourceId) and ``objecttruth`` (keyed by diaObjectId).
"""

from __future__ import annotations

from desctom.core.jsonapi import ApiError, JsonApiView, unknown_keys_text
from desctom.core.jsonauth import json_error
from desctom.core.permissions import ADMIN_GROUP, is_admin
from desctom.elasticc.http.api.contract import GETALERTS_DOC, GETALERTSANDTRUTH_DOC, MAX_NUM
from desctom.elasticc.models import DiaAlert
from desctom.elasticc.queries.alerts import build_alerts, truth_of


def paging(data: dict) -> tuple[int, int]:
    """``(offset, num)`` from the body; 400 for unknown keys or values that are not small integers."""
    unknown = set(data) - {"offset", "num"}
    if unknown:
        raise ApiError(f"Unknown parameters: {unknown_keys_text(unknown)}; give offset and num")
    values = {}
    for name, default, high in (("offset", 0, 2**62), ("num", 100, MAX_NUM)):
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise ApiError(f"{name} must be an integer from 0 to {high}, not {value!r}")
        values[name] = value
    return values["offset"], values["num"]


class GetAlertsView(JsonApiView):
    """A page of reconstructed alerts (logged-in users)."""

    api_doc = GETALERTS_DOC

    with_truth = False

    def handle(self, data):
        offset, num = paging(data)
        qs = DiaAlert.objects.select_related("diaSource").order_by("alertId")
        page = list(qs[offset:offset + num]) if num else []
        result = {"status": "ok", "offset": offset, "num": num, "totnum": qs.count(),
                  "alerts": build_alerts(page)}
        if self.with_truth:
            result["truth"], result["objecttruth"] = truth_of(page)
        return result


class GetAlertsAndTruthView(GetAlertsView):
    """As :class:`GetAlertsView`, plus the truth of each alert's source and object (ELAsTiCC admins only)."""

    api_doc = GETALERTSANDTRUTH_DOC

    with_truth = True

    def post(self, request, *args, **kwargs):
        if not is_admin(request.user):
            return json_error(f"User {request.user.get_username()!r} may not read the simulation truth: only "
                              f"ELAsTiCC admins (group {ADMIN_GROUP!r}) may.", 403)
        return super().post(request, *args, **kwargs)
