"""What FASTDB's routes share here: login rule, CSRF rule, JSON in, JSON or text out, errors.

FASTDB's client (``client/fastdb_client.py``) keeps a ``requests`` session cookie and POSTs JSON
(or nothing) without a CSRF token. These views are CSRF-exempt and check instead:

* a session opened by FASTDB's challenge-response login (a program's session, flag
  :data:`~desctom.core.jsonauth.FASTDB_SESSION_FLAG`) may POST a body only as
  ``Content-Type: application/json`` (415 otherwise) or no body at all: a cross-site page cannot send
  JSON without a CORS preflight, which this server never grants, and an HTML form can only send
  form encodings or ``text/plain``;
* any other session (a browser's) must send Django's CSRF token, as on every DESC TOM JSON endpoint;
* an ``Authorization: Token``/``Basic`` header carries no ambient credential and needs nothing.

Errors are text, as FASTDB's: not logged in -> 401 ``Not logged in``; bad input -> 422 naming the
problem (FASTDB's client does not retry 409/422); never a 500 for bad input.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.decorators import classonlymethod
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from desctom.core.jsonapi import json_bytes, unstorable_text
from desctom.core.jsonauth import (
    FASTDB_SESSION_FLAG,
    _csrf_failure,
    authenticate_request,
    fastdb_json_request,
)

#: Processing versions FASTDB's users name; the live tables hold one version of everything.
PROCVERS = ("default", "realtime")
SAFE = ("GET", "HEAD", "OPTIONS", "TRACE")


class FastdbError(Exception):
    """Bad input: ``message`` goes back as text with ``status``."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


def text(message: str, status: int = 200) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _stringify_ints(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {k: _stringify_ints(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stringify_ints(v) for v in value]
    return value


def json_answer(request, data, status: int = 200) -> HttpResponse:
    """Strict JSON (NaN -> null); with header ``Fastdb-Stringifyints`` every integer as a string."""
    if "Fastdb-Stringifyints" in request.headers:
        data = _stringify_ints(data)
    return HttpResponse(json_bytes(data), status=status, content_type="application/json")


def check_procver(procver: str | None) -> str:
    """``default`` / ``realtime`` (all the live data); any other name is refused."""
    if procver is None:
        return "default"
    if procver not in PROCVERS:
        raise FastdbError(f"Unknown processing version {procver} (DESC TOM's live tables have one version "
                          f"of the data; use one of {', '.join(PROCVERS)})")
    return procver


def request_problem(request) -> HttpResponse | None:
    """The CSRF rule of the module docstring (None: the request may go on)."""
    if request.method in SAFE:
        return None
    if request.session.get(FASTDB_SESSION_FLAG) and not fastdb_json_request(request):
        return text(f"Content-Type must be application/json, not {request.content_type or 'none'}", 415)
    if request.user.is_authenticated and not request.session.get(FASTDB_SESSION_FLAG):
        reason = _csrf_failure(request)
        if reason:
            return text(f"CSRF check failed: {reason}. Send the csrftoken cookie's value in the "
                        "X-CSRFToken header.", 403)
    return None


def json_body(request, require_dict: bool = True):
    """The JSON body (``{}`` if empty); 422 if it is not JSON (or not an object)."""
    body = request.body
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FastdbError(f"Request body is not valid JSON ({exc.__class__.__name__})") from exc
    if require_dict and not isinstance(data, dict):
        raise FastdbError("Post data must be a JSON dict")
    where = unstorable_text(data)
    if where is not None:
        raise FastdbError(f"{where[0]} {where[1]}")
    return data


class FastdbView(View):
    """A FASTDB data route: logged-in only (401 ``Not logged in``), POST only unless ``http_method_names``
    says more; subclasses implement ``answer(request, data, **kwargs)`` returning a dict, list or response."""

    http_method_names = ["post", "options"]
    require_dict = True

    @classonlymethod
    def as_view(cls, **initkwargs):
        return csrf_exempt(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        try:
            user = authenticate_request(request)
        except AuthenticationFailed as exc:
            return text(str(exc.detail), 401)
        if user is None:
            return text("Not logged in", 401)
        problem = request_problem(request)
        if problem is not None:
            return problem
        request.user = user
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            data = json_body(request, self.require_dict)
            result = self.answer(request, data, **kwargs)
        except FastdbError as exc:
            return text(exc.message, exc.status)
        return result if isinstance(result, HttpResponse) else json_answer(request, result)

    def http_method_not_allowed(self, request, *args, **kwargs):
        allowed = [m.upper() for m in self.http_method_names if hasattr(self, m) and m != "options"]
        response = text(f"Method {request.method} not allowed here; use {', '.join(allowed)}.", 405)
        response["Allow"] = ", ".join(allowed)
        return response

    def answer(self, request, data, **kwargs):  # pragma: no cover - every route overrides it
        raise NotImplementedError


def refuse_unknown(data: dict, known) -> None:
    unknown = set(data) - set(known)
    if unknown:
        raise FastdbError("Unknown data parameters: {" + ", ".join(repr(k) for k in sorted(unknown)) + "}")
