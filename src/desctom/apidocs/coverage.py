"""Which JSON routes of the URLconf the OpenAPI description leaves out (tests/apidocs uses it).

A JSON route is one whose view is a DRF view, a :class:`JsonLoginRequiredMixin` view, or
``/healthz``. Routes are compared with the description's paths with every parameter written
``{}``; for the plain views every HTTP method the view implements must be described on one of
its paths.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
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


#: Calls that return the checked request: ``<contract>.parse(...)`` and a view's ``self.values(...)``.
PARSING_CALLS = ("parse", "values")


def _is_parsing_call(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in PARSING_CALLS)


def _parsed_names(tree: ast.AST) -> set[str]:
    """Names assigned from a parsing call."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_parsing_call(node.value):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def fields_read(view_class) -> set[str]:
    """The request fields a view's code reads: ``values["x"]`` / ``values.get("x")`` where ``values``
    came from its contract's ``parse``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(view_class)))
    names, read = _parsed_names(tree), set()
    # ``for k in ("a", "b"): values[k]``: the loop's strings count as read
    loops = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name) and \
                isinstance(node.iter, (ast.Tuple, ast.List)):
            loops[node.target.id] = {e.value for e in node.iter.elts
                                     if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in names
                and isinstance(node.slice, ast.Name) and node.slice.id in loops):
            read |= loops[node.slice.id]
        parsed = isinstance(node, ast.Subscript) and (
            (isinstance(node.value, ast.Name) and node.value.id in names) or _is_parsing_call(node.value))
        if parsed and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            read.add(node.slice.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and isinstance(node.func.value, ast.Name) and node.func.value.id in names and node.args
              and isinstance(node.args[0], ast.Constant)):
            read.add(node.args[0].value)
    return read


def contract_drift(view_class) -> list[str]:
    """Where a view's code and its described request disagree: a field read but not in the contract
    (so not described), or a described field the code never reads."""
    doc = getattr(view_class, "api_doc", None)
    if doc is None or doc.request is None:
        return []
    declared, read = set(doc.request().fields), fields_read(view_class)
    name = view_class.__name__
    return ([f"{name} reads {f!r}, which its contract does not describe" for f in sorted(read - declared)]
            + [f"{name}'s contract describes {f!r}, which the view never reads"
               for f in sorted(declared - read)])
