"""Trailing slashes that do not matter, and 404s that programs can read.

The original's JSON endpoints mix spellings: ``/db/runsqlquery/`` has a trailing slash,
``/elasticc2/gethottransients`` has none. Django's ``APPEND_SLASH`` answers a missing slash with a
301 redirect, and a client that follows it turns a POST into a GET and a PUT loses its body: the
caller then sees ``405 Method GET not allowed`` or "the request body is empty", not its mistake.

:class:`SlashTolerantMiddleware` serves such a request at the route it evidently meant, without a
redirect: when the path does not resolve but the same path with the trailing slash added (or
removed) does, the request is handled there. A GET or HEAD that lacks a slash still gets the
usual 301 (browsers and every HTTP library follow it unchanged), so pages keep one canonical URL.

:func:`not_found` is the site's 404 handler: a program (a path under the API prefixes, or an
``Accept`` header without ``text/html``) gets ``{"error": "..."}`` naming the path, a browser the
HTML page.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import Resolver404, get_resolver
from django.views import defaults

from desctom.core.jsonapi import wants_json

#: Methods that a redirect keeps intact: those requests are left to ``APPEND_SLASH``.
REDIRECT_SAFE = ("GET", "HEAD")


def _resolves(path: str) -> bool:
    try:
        get_resolver().resolve(path)
    except Resolver404:
        return False
    return True


def meant_path(path: str, method: str) -> str | None:
    """The path to serve instead of ``path``, or ``None`` to leave the request as it is."""
    if not path or path == "/" or _resolves(path):
        return None
    if path.endswith("/"):
        stripped = path.rstrip("/")
        return stripped if stripped and _resolves(stripped) else None
    if method not in REDIRECT_SAFE and _resolves(path + "/"):
        return path + "/"
    return None


class SlashTolerantMiddleware:
    """Serve a JSON endpoint whatever its trailing slash (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meant = meant_path(request.path_info, request.method)
        if meant is not None:
            script = request.path[: len(request.path) - len(request.path_info)]
            request.path_info = meant
            request.path = script + meant
        return self.get_response(request)


def not_found(request, exception=None):
    """The 404 answer: JSON for programs (naming the path), Django's page for browsers."""
    if wants_json(request):
        args = getattr(exception, "args", ())
        if args and isinstance(args[0], str) and args[0].strip():
            message = args[0]  # a view's own "not found" (an unknown object, query, ...)
        else:  # no route matched: Resolver404 carries a dict of the patterns tried
            message = f"no such endpoint: {request.method} {request.path}"
        return JsonResponse({"error": message, "path": request.path}, status=404)
    return defaults.page_not_found(request, exception)
