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

from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from desctom.core.rest import EstimatedCountPagination, JsonOnlyMixin, RouterWithoutRoot, columns_serializer
from desctom.elasticc2.models import PPDBDiaForcedSource, PPDBDiaObject, PPDBDiaSource

PPDBDiaObjectSerializer = columns_serializer(PPDBDiaObject)
PPDBDiaSourceSerializer = columns_serializer(PPDBDiaSource)
PPDBDiaForcedSourceSerializer = columns_serializer(PPDBDiaForcedSource)
PPDBPagination = EstimatedCountPagination


class PPDBDiaObjectViewSet(JsonOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """``/elasticc2/ppdbdiaobject/`` and ``/elasticc2/ppdbdiaobject/<diaobject_id>/``."""

    queryset = PPDBDiaObject.objects.order_by("diaobject_id")
    serializer_class = PPDBDiaObjectSerializer
    pagination_class = PPDBPagination


class PPDBDiaSourceViewSet(JsonOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """``/elasticc2/ppdbdiasource/`` and ``/elasticc2/ppdbdiasource/<diasource_id>/``."""

    queryset = PPDBDiaSource.objects.order_by("diasource_id")
    serializer_class = PPDBDiaSourceSerializer
    pagination_class = PPDBPagination


class PPDBDiaForcedSourceViewSet(JsonOnlyMixin, viewsets.ReadOnlyModelViewSet):
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


class PPDBDiaObjectWithSourcesViewSet(JsonOnlyMixin, viewsets.GenericViewSet):
    """``/elasticc2/ppdbdiaobjectwithsources/<diaobject_id>/``: the object and all its photometry."""

    queryset = PPDBDiaObject.objects.order_by("diaobject_id")
    serializer_class = PPDBDiaObjectSerializer

    def list(self, request, *args, **kwargs):
        return Response({"error": "Must give an object id"}, status=400)

    def retrieve(self, request, *args, **kwargs):
        return Response(object_with_photometry(self.get_object()))


class PPDBDiaObjectOfSourceViewSet(JsonOnlyMixin, viewsets.GenericViewSet):
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


router = RouterWithoutRoot()
for _prefix, _viewset in (("ppdbdiaobject", PPDBDiaObjectViewSet), ("ppdbdiasource", PPDBDiaSourceViewSet),
                          ("ppdbdiaforcedsource", PPDBDiaForcedSourceViewSet),
                          ("ppdbdiaobjectwithsources", PPDBDiaObjectWithSourcesViewSet),
                          ("ppdbdiaobjectofsource", PPDBDiaObjectOfSourceViewSet)):
    router.register(_prefix, _viewset, basename=_prefix)
