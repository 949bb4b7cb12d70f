"""Read-only DRF views of the ELAsTiCC 1 tables (reference §1.5): diaobject, diasource, diatruth, diaalert.

List: limit/offset pages of 100 (``count``, ``next``, ``previous``, ``results``), key order.
Detail: ``<diaObjectId>/``, ``<diaSourceId>/`` (also for diatruth), ``<alertId>/``. JSON keys
are the camelCase field names; a foreign key shows as its relation (``"diaObject": <id>``).
``diaalert`` rows are whole v0.9 alerts (source, object and previous photometry filled in).
"""

from __future__ import annotations

from django.db import models
from django.http import Http404
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from desctom.elasticc.alerts import build_alerts
from desctom.elasticc.api.common import is_admin
from desctom.elasticc.models import DiaAlert, DiaObject, DiaSource, DiaTruth
from desctom.elasticc2.api.base import finite_or_none
from desctom.elasticc2.api.rest import FiniteFloatField, PPDBPagination


def _serializer(model_class):
    meta = type("Meta", (), {"model": model_class, "fields": "__all__"})
    mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.FloatField: FiniteFloatField}
    return type(f"{model_class.__name__}Serializer", (serializers.ModelSerializer,),
                {"Meta": meta, "serializer_field_mapping": mapping})


class _ReadOnly(viewsets.ReadOnlyModelViewSet):
    """JSON only; an unknown or malformed key is 404 ``{"detail": "Not found."}``."""

    renderer_classes = [JSONRenderer]
    pagination_class = PPDBPagination

    def get_object(self):
        try:
            return super().get_object()
        except (Http404, ValueError) as exc:
            raise NotFound() from exc


class DiaObjectViewSet(_ReadOnly):
    queryset = DiaObject.objects.order_by("diaObjectId")
    serializer_class = _serializer(DiaObject)


class DiaSourceViewSet(_ReadOnly):
    queryset = DiaSource.objects.order_by("diaSourceId")
    serializer_class = _serializer(DiaSource)


class IsElasticcAdmin(BasePermission):
    """Truth is for ELAsTiCC admins only (others: 403; anonymous callers: 401 first)."""

    message = "Only ELAsTiCC admins (group 'elasticc_admin') may read the simulation truth."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and is_admin(request.user))


class DiaTruthViewSet(_ReadOnly):
    permission_classes = [IsAuthenticated, IsElasticcAdmin]
    queryset = DiaTruth.objects.order_by("diaSourceId")
    serializer_class = _serializer(DiaTruth)


class DiaAlertViewSet(_ReadOnly):
    queryset = DiaAlert.objects.select_related("diaSource").order_by("alertId")
    serializer_class = _serializer(DiaAlert)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(finite_or_none(build_alerts(page)))

    def retrieve(self, request, *args, **kwargs):
        return Response(finite_or_none(build_alerts([self.get_object()])[0]))


class _RouterWithoutRoot(DefaultRouter):
    include_root_view = False  # /elasticc/ is the HTML front page


router = _RouterWithoutRoot()
for _prefix, _viewset in (("diaobject", DiaObjectViewSet), ("diasource", DiaSourceViewSet),
                          ("diatruth", DiaTruthViewSet), ("diaalert", DiaAlertViewSet)):
    router.register(_prefix, _viewset, basename=f"elasticc-{_prefix}")
