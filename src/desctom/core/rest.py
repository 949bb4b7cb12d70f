"""What the DRF REST endpoints of the campaign apps share: finite floats, big-table pagination,
JSON-only read-only views, a router without its root page."""

from __future__ import annotations

import math

from django.db import connection, models
from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.routers import DefaultRouter


class FiniteFloatField(serializers.FloatField):
    """A float that is ``null`` when not finite (strict JSON has no NaN)."""

    def to_representation(self, value):
        value = float(value)
        return value if math.isfinite(value) else None


def columns_serializer(model_class) -> type[serializers.ModelSerializer]:
    """A serializer of every column of ``model_class``; non-finite floats become ``null``."""
    meta = type("Meta", (), {"model": model_class, "fields": "__all__"})
    mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.FloatField: FiniteFloatField}
    return type(f"{model_class.__name__}Serializer", (serializers.ModelSerializer,),
                {"Meta": meta, "serializer_field_mapping": mapping})


def estimated_rows(table: str) -> int | None:
    """PostgreSQL's estimate of the rows of ``table``, or None if it has never been analysed."""
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cur.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPagination(LimitOffsetPagination):
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


class JsonOnlyMixin:
    """JSON only (errors too, whatever the Accept header), and unknown (or malformed) primary keys
    answer 404 ``{"detail": "Not found."}`` as the original did."""

    renderer_classes = [JSONRenderer]

    def get_object(self):
        try:
            return super().get_object()
        except (Http404, ValueError) as exc:
            raise NotFound() from exc


class RouterWithoutRoot(DefaultRouter):
    """DRF's default router (``.json`` suffixes and all) without its API-root page: the campaign's
    prefix is its HTML front page."""

    include_root_view = False
