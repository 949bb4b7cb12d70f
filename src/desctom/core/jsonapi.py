"""What every ELAsTiCC2 JSON endpoint shares: login rule, JSON body, error shape, strict JSON out.

A view subclasses :class:`JsonApiView` and implements ``handle(data)``, which gets the parsed
body and returns something JSON-able, or raises :class:`ApiError` for a client error. The
original answered most errors with HTTP 500 and the text ``"Exception in <View>: <message>"``;
here the same text comes back as ``{"error": "Exception in <View>: <message>"}`` with a 4xx
status (``error_prefix`` holds the ``"Exception in <View>: "`` part).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import orjson
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseBase

from desctom.core.jsonauth import JsonLoginRequiredMixin, json_error

#: JSON escapes that may make a string PostgreSQL cannot store: NUL, and surrogates (lone ones).
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class ApiError(Exception):
    """A client error: ``message`` goes to the caller as ``{"error": ...}`` with ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def finite_or_none(value):
    """Replace non-finite floats (NaN, inf) by ``None``, all the way down; numpy scalars become Python's.

    JSON has no NaN: the original emitted a bare ``NaN`` (not JSON) for NULL host-galaxy values.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_or_none(value.tolist())
    if isinstance(value, np.floating):
        return finite_or_none(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


_DJANGO_JSON = DjangoJSONEncoder()
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _json_default(value):
    """What orjson leaves to us: datetimes (Django's format, as the original's answers had them),
    Decimal, lazy text, and numpy values it does not take directly (non-contiguous arrays)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return _DJANGO_JSON.default(value)


def json_bytes(data) -> bytes:
    """``data`` as strict JSON (NaN and infinities become ``null``; numpy arrays and scalars allowed,
    float32 values written with the digits float32 needs), UTF-8."""
    return orjson.dumps(data, default=_json_default, option=_JSON_OPTIONS)


def strict_json_response(data, status: int = 200) -> HttpResponse:
    """A JSON answer that is strict JSON (no NaN/Infinity), lists allowed at the top level."""
    return HttpResponse(json_bytes(data), status=status, content_type="application/json")


def parse_json_body(request, prefix: str = "", check_text: bool = True):
    """The request body parsed as JSON; an empty body is ``{}``. 400 if it is not JSON, or (with
    ``check_text``, for callers that do not check each string themselves) if a string in it holds
    what PostgreSQL cannot store (NUL, a lone surrogate): the message names where."""
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise ApiError(f"{prefix}request body is too large ({exc})", 413) from exc
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = str(exc) if not isinstance(exc, RecursionError) else "nested too deeply"
        raise ApiError(f"{prefix}request body is not valid JSON ({reason})") from exc
    if check_text and _SUSPECT_ESCAPE.search(body):
        where = unstorable_text(data)
        if where is not None:
            raise ApiError(f"{prefix}{where[0]} {where[1]}")
    return data


def storable_text_problem(text: str) -> str | None:
    """Why PostgreSQL could not store ``text`` (a NUL, a lone surrogate), or ``None``."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate ({text[exc.start]!r}), which is not text"
    return None


def unstorable_text(data, path: str = "") -> tuple[str, str] | None:
    """The first string of ``data`` (keys included) PostgreSQL cannot store, as ``(where, problem)``:
    ``where`` names it (``requester``, ``subdict.a``, ``objectids[2]``, ``the body``)."""
    stack = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            problem = storable_text_problem(value)
            if problem:
                return where or "the body", problem
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                inner = f"{where}.{key}" if where else str(key)
                problem = storable_text_problem(key)
                if problem:
                    return f"a key in {where or 'the body'}", problem
                stack.append((item, inner))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None


class JsonApiView(JsonLoginRequiredMixin):
    """A logged-in-only JSON endpoint; GET is an alias of POST, and both read a JSON body.

    Subclasses set ``error_prefix`` and implement ``handle(data)``. ``require_object`` (the
    default) answers a body that is not a JSON object with 400 ``not_object_message`` (or a
    generic message).
    """

    error_prefix = ""
    require_object = True
    not_object_message: str | None = None

    def post(self, request, *args, **kwargs):
        try:
            data = parse_json_body(request, self.error_prefix)
            if self.require_object and not isinstance(data, dict):
                raise ApiError(self.error_prefix + (self.not_object_message or
                                                    f"request body must be a JSON object, not {_kind(data)}"))
            answer = self.handle(data)
            # a streamed answer (desctom.core.jsonstream) is already a response
            return answer if isinstance(answer, HttpResponseBase) else strict_json_response(answer)
        except ApiError as exc:
            return json_error(exc.message, exc.status)

    def get(self, request, *args, **kwargs):
        return self.post(request, *args, **kwargs)

    def handle(self, data):  # pragma: no cover - every endpoint overrides it
        raise NotImplementedError

    def error(self, message: str, status: int = 400) -> ApiError:
        """An :class:`ApiError` whose text starts with this view's ``error_prefix``."""
        return ApiError(self.error_prefix + message, status)


def _kind(data) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(data), "a number")


def unknown_keys_text(keys) -> str:
    """The Python set repr of ``keys`` (as the original printed it), in sorted order."""
    return "{" + ", ".join(repr(k) for k in sorted(keys)) + "}"


#: FASTDB's routes (desctom.live.urls): programs' endpoints with FASTDB's own rules.
FASTDB_PREFIXES = ("/auth/", "/ltcv/", "/spectrum/", "/getprocvers", "/count/")
#: Path prefixes whose pages are programs' endpoints: errors there are JSON unless HTML is asked for.
JSON_PREFIXES = ("/api/", "/db/", "/elasticc2/", "/elasticc/", "/healthz", "/metrics/", *FASTDB_PREFIXES)


def wants_json(request) -> bool:
    """Whether ``request`` comes from a program that wants JSON (by Accept header or path)."""
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return True
    return request.path_info.startswith(JSON_PREFIXES) and "text/html" not in accept
