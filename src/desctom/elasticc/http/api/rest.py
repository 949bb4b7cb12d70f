"""Read-only DRF views of the ELAsTiCC 1 tables (reference §1.5): diaobject, diasource, diatruth, diaalert.

List: limit/offset pages of 100 (``count``, ``next``, ``previous``, ``results``), key order.
Detail: ``<diaObjectId>/``, ``<diaSourceId>/`` (also for diatruth), ``<alertId>/``. JSON keys
are the camelCase field names; a foreign key shows as its relation (``"diaObject": <id>``).
``diaalert`` rows are whole v0.9 alerts (source, object and previous photometry filled in).
"""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from desctom.core.jsonapi import finite_or_none
from desctom.core.permissions import is_admin
from desctom.core.rest import EstimatedCountPagination, JsonOnlyMixin, RouterWithoutRoot, columns_serializer
from desctom.elasticc.models import DiaAlert, DiaObject, DiaSource, DiaTruth
from desctom.elasticc.queries.alerts import build_alerts


class _ReadOnly(JsonOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """JSON only; an unknown or malformed key is 404 ``{"detail": "Not found."}``."""

    pagination_class = EstimatedCountPagination


class DiaObjectViewSet(_ReadOnly):
    queryset = DiaObject.objects.order_by("diaObjectId")
    serializer_class = columns_serializer(DiaObject)


class DiaSourceViewSet(_ReadOnly):
    queryset = DiaSource.objects.order_by("diaSourceId")
    serializer_class = columns_serializer(DiaSource)


class IsElasticcAdmin(BasePermission):
    """Truth is for ELAsTiCC admins only (others: 403; anonymous callers: 401 first)."""

    message = "Only ELAsTiCC admins (group 'elasticc_admin') may read the simulation truth."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and is_admin(request.user))


class DiaTruthViewSet(_ReadOnly):
    permission_classes = [IsAuthenticated, IsElasticcAdmin]
    queryset = DiaTruth.objects.order_by("diaSourceId")
    serializer_class = columns_serializer(DiaTruth)


class DiaAlertViewSet(_ReadOnly):
    queryset = DiaAlert.objects.select_related("diaSource").order_by("alertId")
    serializer_class = columns_serializer(DiaAlert)

    def serialize_chunk(self, rows: list) -> list:
        return finite_or_none(build_alerts(rows))

    def retrieve(self, request, *args, **kwargs):
        return Response(finite_or_none(build_alerts([self.get_object()])[0]))


router = RouterWithoutRoot()
for _prefix, _viewset in (("diaobject", DiaObjectViewSet), ("diasource", DiaSourceViewSet),
                          ("diatruth", DiaTruthViewSet), ("diaalert", DiaAlertViewSet)):
    router.register(_prefix, _viewset, basename=f"elasticc-{_prefix}")
