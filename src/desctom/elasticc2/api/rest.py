"""Read-only DRF REST views of the simulated PPDB (reference §1.4.3).

``ppdbdiaobject/``, ``ppdbdiasource/``, ``ppdbdiaforcedsource/``: list (limit/offset, 100 a
page) and detail; JSON keys are the lower-case column names, foreign keys appear as
``"diaobject": <id>``. ``ppdbdiaobjectwithsources/<id>/`` and ``ppdbdiaobjectofsource/<id>/``
return an object with its photometry.

On tables of a billion rows two things keep unfiltered lists fast: rows come in primary-key
order (an index scan that stops after ``offset + limit`` rows), and the ``count`` of a large
unfiltered table is PostgreSQL's own row estimate (``pg_class.reltuples``, kept by
autovacuum/ANALYZE) instead of a full ``COUNT(*)``.
"""

from __future__ import annotations

import math

from django.db import connection, models
from django.http import Http404
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from desctom.elasticc2.models import PPDBDiaForcedSource, PPDBDiaObject, PPDBDiaSource


class FiniteFloatField(serializers.FloatField):
    """A float that is ``null`` when not finite (strict JSON has no NaN)."""

    def to_representation(self, value):
        value = float(value)
        return value if math.isfinite(value) else None


class _ColumnsSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.FloatField: FiniteFloatField}


class PPDBDiaObjectSerializer(_ColumnsSerializer):
    class Meta:
        model = PPDBDiaObject
        fields = "__all__"


class PPDBDiaSourceSerializer(_ColumnsSerializer):
    class Meta:
        model = PPDBDiaSource
        fields = "__all__"


class PPDBDiaForcedSourceSerializer(_ColumnsSerializer):
    class Meta:
        model = PPDBDiaForcedSource
        fields = "__all__"


def estimated_rows(table: str) -> int | None:
    """PostgreSQL's estimate of the rows of ``table``, or None if it has never been analysed."""
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cur.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class PPDBPagination(LimitOffsetPagination):
    """Limit/offset pages of 100 (at most ``max_limit``); ``count`` is estimated on huge tables."""

    default_limit = 100
    max_limit = 10000
    #: Unfiltered tables whose estimated size reaches this many rows report the estimate as count.
    estimate_count_above = 1_000_000

    def get_count(self, queryset):
        if not queryset.query.where:
            estimate = estimated_rows(queryset.model._meta.db_table)
            if estimate is not None and estimate >= self.estimate_count_above:
                return estimate
        return super().get_count(queryset)


class _JsonOnlyMixin:
    """JSON only (errors too, whatever the Accept header), and unknown (or malformed) primary keys
    answer 404 ``{"detail": "Not found."}`` as the original did."""

    renderer_classes = [JSONRenderer]

    def get_object(self):
        try:
            return super().get_object()
        except Http404 as exc:
            raise NotFound() from exc


class PPDBDiaObjectViewSet(_JsonOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """``/elasticc2/ppdbdiaobject/`` and ``/elasticc2/ppdbdiaobject/<diaobject_id>/``."""

    queryset = PPDBDiaObject.objects.order_by("diaobject_id")
    serializer_class = PPDBDiaObjectSerializer
    pagination_class = PPDBPagination


class PPDBDiaSourceViewSet(_JsonOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """``/elasticc2/ppdbdiasource/`` and ``/elasticc2/ppdbdiasource/<diasource_id>/``."""

    queryset = PPDBDiaSource.objects.order_by("diasource_id")
    serializer_class = PPDBDiaSourceSerializer
    pagination_class = PPDBPagination


class PPDBDiaForcedSourceViewSet(_JsonOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """``/elasticc2/ppdbdiaforcedsource/`` and ``/elasticc2/ppdbdiaforcedsource/<diaforcedsource_id>/``."""

    queryset = PPDBDiaForcedSource.objects.order_by("diaforcedsource_id")
    serializer_class = PPDBDiaForcedSourceSerializer
    pagination_class = PPDBPagination


def object_with_photometry(obj: PPDBDiaObject, through_mjd: float | None = None) -> dict:
    """The object's columns plus ``diasources`` and ``diaforcedsources`` (time order, ``<= through_mjd``)."""
    sources = PPDBDiaSource.objects.filter(diaobject_id=obj.diaobject_id)
    forced = PPDBDiaForcedSource.objects.filter(diaobject_id=obj.diaobject_id)
    if through_mjd is not None:
        sources = sources.filter(midpointtai__lte=through_mjd)
        forced = forced.filter(midpointtai__lte=through_mjd)
    result = dict(PPDBDiaObjectSerializer(obj).data)
    result["diasources"] = PPDBDiaSourceSerializer(
        sources.order_by("midpointtai", "diasource_id"), many=True).data
    result["diaforcedsources"] = PPDBDiaForcedSourceSerializer(
        forced.order_by("midpointtai", "diaforcedsource_id"), many=True).data
    return result


class PPDBDiaObjectWithSourcesViewSet(_JsonOnlyMixin, viewsets.GenericViewSet):
    """``/elasticc2/ppdbdiaobjectwithsources/<diaobject_id>/``: the object and all its photometry."""

    queryset = PPDBDiaObject.objects.order_by("diaobject_id")
    serializer_class = PPDBDiaObjectSerializer

    def list(self, request, *args, **kwargs):
        return Response({"error": "Must give an object id"}, status=400)

    def retrieve(self, request, *args, **kwargs):
        return Response(object_with_photometry(self.get_object()))


class PPDBDiaObjectOfSourceViewSet(_JsonOnlyMixin, viewsets.GenericViewSet):
    """``/elasticc2/ppdbdiaobjectofsource/<diasource_id>/``: the source's object and its photometry
    up to and including the source's time."""

    queryset = PPDBDiaSource.objects.order_by("diasource_id")
    serializer_class = PPDBDiaSourceSerializer

    def list(self, request, *args, **kwargs):
        return Response({"error": "Must give a source id"}, status=400)

    def retrieve(self, request, *args, **kwargs):
        source = self.get_object()
        obj = PPDBDiaObject.objects.filter(diaobject_id=source.diaobject_id).first()
        if obj is None:  # a source without an object: nothing to show
            raise NotFound()
        return Response(object_with_photometry(obj, through_mjd=source.midpointtai))


class _RouterWithoutRoot(DefaultRouter):
    """DRF's default router (``.json`` suffixes and all) without its API-root page: ``/elasticc2/``
    is the campaign's HTML front page."""

    include_root_view = False


router = _RouterWithoutRoot()
for _prefix, _viewset in (("ppdbdiaobject", PPDBDiaObjectViewSet), ("ppdbdiasource", PPDBDiaSourceViewSet),
                          ("ppdbdiaforcedsource", PPDBDiaForcedSourceViewSet),
                          ("ppdbdiaobjectwithsources", PPDBDiaObjectWithSourcesViewSet),
                          ("ppdbdiaobjectofsource", PPDBDiaObjectOfSourceViewSet)):
    router.register(_prefix, _viewset, basename=_prefix)
