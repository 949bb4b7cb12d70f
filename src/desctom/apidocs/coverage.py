"""Which JSON routes of the URLconf the OpenAPI description leaves out (tests/apidocs uses it).

A JSON route is one whose view is a DRF view, a :class:`JsonLoginRequiredMixin` view, or
``/healthz``. Routes are compared with the description's paths with every parameter written
``{}``; for the plain views every HTTP method the view implements must be described on one of
its paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from desctom.core.jsonauth import JsonLoginRequiredMixin
from desctom.web.views import healthz

_REGEX_PARAM = re.compile(r"\(\?P<\w+>[^)]*\)")
_ROUTE_PARAM = re.compile(r"<(?:\w+:)?\w+>")
_SCHEMA_PARAM = re.compile(r"\{[^}]+\}")
IGNORED_METHODS = {"head", "options", "trace"}


def routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, object]]:
    """``(route text, view callback)`` of every pattern below ``patterns`` (default: the root URLconf)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            yield text, pattern.callback


def normalized(route: str) -> str:
    """A route (``path()`` syntax or a regex) as ``/a/{}/b/``."""
    text = route.replace("^", "").replace("$", "").replace("\\", "")
    text = _ROUTE_PARAM.sub("{}", _REGEX_PARAM.sub("{}", text))
    return "/" + text if not text.startswith("/") else text


def schema_paths(schema: dict) -> dict[str, set[str]]:
    """Normalized path -> described methods."""
    result: dict[str, set[str]] = {}
    for path, item in schema["paths"].items():
        result.setdefault(_SCHEMA_PARAM.sub("{}", path), set()).update(item)
    return result


def json_view_kind(callback) -> str | None:
    """``"drf"``, ``"plain"`` or ``None`` (an HTML page or something else)."""
    cls = getattr(callback, "cls", None)
    if isinstance(cls, type) and issubclass(cls, APIView):
        return None if cls.__module__.startswith("drf_spectacular.") else "drf"  # the description itself
    view_class = getattr(callback, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, JsonLoginRequiredMixin):
        return "plain"
    if callback is healthz:
        return "plain"
    return None


def view_methods(callback) -> set[str]:
    """The HTTP methods a plain view implements (GET for a function view)."""
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return {"get"}
    return {m for m in view_class.http_method_names if hasattr(view_class, m)} - IGNORED_METHODS


def undescribed(schema: dict, patterns=None) -> list[str]:
    """Every JSON route (or method of a plain view) of the URLconf that ``schema`` does not describe."""
    described = schema_paths(schema)
    missing, methods_of_view = [], {}
    for route, callback in routes(patterns):
        kind = json_view_kind(callback)
        if kind is None or "(?P<format>" in route or "<drf_format_suffix" in route:
            continue  # not JSON, or DRF's ``.json`` suffix twin of a described route
        path = normalized(route)
        if path not in described:
            missing.append(f"{path} ({kind} view {getattr(callback, '__name__', callback)})")
            continue
        if kind == "plain":
            key = getattr(callback, "view_class", callback)
            seen, wanted = methods_of_view.setdefault(key, (set(), view_methods(callback)))
            seen.update(described[path])
    for key, (seen, wanted) in methods_of_view.items():
        for method in sorted(wanted - seen):
            missing.append(f"{method.upper()} of {getattr(key, '__name__', key)}")
    return missing
