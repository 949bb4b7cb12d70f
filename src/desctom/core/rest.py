"""What the DRF REST endpoints of the campaign apps share: finite floats, big-table pagination,
JSON-only read-only views whose lists stream, a router without its root page."""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import islice

from django.db import connection, models
from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.routers import DefaultRouter

from desctom.core.jsonstream import join_arrays, one_snapshot, streaming_json_response


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

    def paginate_lazily(self, queryset, request, view=None):
        """What ``paginate_queryset`` does (``count``, ``offset``, ``limit`` set), but the page is
        returned as an unevaluated queryset (or ``[]``), to be read in chunks."""
        self.request = request
        self.limit = self.get_limit(request)
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count == 0 or self.offset > self.count:
            return []
        return queryset[self.offset:self.offset + self.limit]


class JsonOnlyMixin:
    """JSON only (errors too, whatever the Accept header), and unknown (or malformed) primary keys
    answer 404 ``{"detail": "Not found."}`` as the original did.

    Lists paginated by :class:`EstimatedCountPagination` stream: the envelope (``count``,
    ``next``, ``previous``) is computed first, then the page's rows are read ``stream_chunk`` at a
    time from a server-side cursor, each chunk serialized (:meth:`serialize_chunk`) and rendered by
    DRF's JSONRenderer: the same bytes as the page rendered whole."""

    renderer_classes = [JSONRenderer]
    stream_chunk = 1000

    def serialize_chunk(self, rows: list) -> list:
        """The representation of some of a page's rows."""
        return self.get_serializer(rows, many=True).data

    def list(self, request, *args, **kwargs):
        renderer = JSONRenderer()
        paginator = self.paginator
        if not isinstance(paginator, EstimatedCountPagination) or renderer.get_indent(
                getattr(request, "accepted_media_type", None), {}):
            return super().list(request, *args, **kwargs)  # pretty-printed pages are not streamed
        page = paginator.paginate_lazily(self.filter_queryset(self.get_queryset()), request, self)
        envelope = renderer.render(paginator.get_paginated_response([]).data)
        if not envelope.endswith(b'"results":[]}'):  # pragma: no cover - DRF's envelope changed
            return super().list(request, *args, **kwargs)
        return streaming_json_response(self._pieces(envelope[:-3], page, renderer), request.path)

    def _pieces(self, head: bytes, page, renderer: JSONRenderer) -> Iterator[bytes]:
        if isinstance(page, list):
            yield head + b"[]}"
            return
        with one_snapshot():
            rows = page.iterator(chunk_size=self.stream_chunk)

            def arrays():
                while chunk := list(islice(rows, self.stream_chunk)):
                    yield renderer.render(self.serialize_chunk(chunk))

            body = join_arrays(arrays())
            opening = next(body)
            yield head + opening + next(body)
            yield from body
        yield b"}"

    def get_object(self):
        try:
            return super().get_object()
        except (Http404, ValueError) as exc:
            raise NotFound() from exc


class RouterWithoutRoot(DefaultRouter):
    """DRF's default router (``.json`` suffixes and all) without its API-root page: the campaign's
    prefix is its HTML front page."""

    include_root_view = False
