"""The plain JSON views' part of the OpenAPI description, from the contract each view carries.

Every routed view whose class has an ``api_doc`` (:class:`desctom.core.apidoc.ApiDoc`) is described
at its route; its request body comes from its :class:`~desctom.core.contract.RequestContract`,
mapped by drf-spectacular (types, ranges, lengths, nullability) and completed with what the
contract adds (no unknown keys, no NUL characters, rules between fields).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.openapi import AutoSchema
from rest_framework.views import APIView

from desctom.core.contract import Text

_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
#: Text fields: no NUL character (PostgreSQL cannot store one).
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def named_routes(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, object]]:
    """``(route, namespaced URL name, view callback)`` of every pattern below ``patterns``."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}_{pattern.namespace}" if namespace and pattern.namespace else (
                pattern.namespace or namespace)
            yield from named_routes(pattern.url_patterns, text, inner or "")
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}_{pattern.name}" if namespace else (pattern.name or "")
            yield text, name, pattern.callback


def openapi_path(route: str) -> str:
    """A ``path()`` route as an OpenAPI path: ``/elasticc2/brokermessage/{info}/``."""
    return "/" + _ROUTE_PARAM.sub(r"{\1}", route).lstrip("/")


def api_doc_of(callback, url_name: str | None = None):
    """The ``api_doc`` of a routed view (class-based or function), or ``None``. A view routed under
    several URL names with different operations has a dict of them by URL name."""
    doc = getattr(getattr(callback, "view_class", callback), "api_doc", None)
    if isinstance(doc, dict):
        # keys are the patterns' own names; ``url_name`` is namespaced (``elasticc2_brokermessage_id``)
        matches = [k for k in doc if url_name == k or (url_name or "").endswith("_" + k)]
        return doc[max(matches, key=len)] if matches else None
    return doc


class _ContractSchema(AutoSchema):
    """drf-spectacular's serializer mapping, used outside a DRF view."""

    def __init__(self, generator):
        super().__init__()
        self.registry = generator.registry if generator is not None else None
        view = APIView()
        view.request, view.format_kwarg = None, None
        self.view, self.method, self.path = view, "POST", "/"


def request_schema(contract, generator=None) -> dict:
    """The JSON Schema of a contract's request body."""
    schema = _ContractSchema(generator)._map_serializer(contract, "request")
    schema.pop("description", None)
    if contract.__doc__:
        schema["description"] = " ".join(contract.__doc__.split())
    for name, field in contract().fields.items():
        prop = schema["properties"][name]
        if isinstance(field, Text):
            prop["pattern"] = NOT_BLANK if field.blank_message is not None else NO_NUL
        extra = getattr(field, "schema", {})
        if "oneOf" in extra:  # a replacement (e.g. "one id or a list of ids")
            prop = schema["properties"][name] = {k: v for k, v in prop.items() if k in ("nullable",
                                                                                       "description")}
        prop.update(extra)
    if getattr(contract, "refuse_unknown", True):
        schema["additionalProperties"] = False
    schema.update(getattr(contract, "schema_extra", {}))
    return schema


def plain_view_paths(generator=None) -> dict[str, dict]:
    """OpenAPI path -> operations of every routed view with an ``api_doc``; a view routed twice at
    the same OpenAPI path (an ``int`` and a ``path`` converter) is described once."""
    paths: dict[str, dict] = {}
    for route, name, callback in named_routes():
        doc = api_doc_of(callback, name)
        if doc is None:
            continue
        path = openapi_path(route)
        if path in paths:
            continue
        body = request_schema(doc.request, generator) if doc.request is not None else None
        paths[path] = {op.method: op.as_openapi(doc.tag, f"{name}_{op.method}", doc.path_params, body)
                       for op in doc.operations}
    return paths


def writes_by_path() -> dict[str, tuple[str, ...]]:
    """OpenAPI path -> tables a successful call of its writing operations may change."""
    result = {}
    for route, name, callback in named_routes():
        doc = api_doc_of(callback, name)
        if doc is not None and doc.writes:
            result.setdefault(openapi_path(route), doc.writes)
    return result
