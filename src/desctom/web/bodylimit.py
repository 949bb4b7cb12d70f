"""Request-body limits: an oversize body is refused with 413 before any of it is read.

Limits per kind of request (settings ``DESCTOM_BODY_LIMITS``, from ``DESCTOM_MAX_*_BODY_BYTES``):

* ``PUT /elasticc2/brokermessage/``: ``brokermessage`` (default 64 MB; 10,000 messages with 40
  classifications each are about 26 MB);
* a ``multipart/form-data`` form of a TOM Toolkit page (file uploads, streamed to disk by Django): ``upload``;
* everything else (JSON API bodies, forms, logins): ``default`` (4 MB).

A body with ``Content-Length`` above the limit is refused at once from the header. A chunked body
(no ``Content-Length``) is read up to the limit and refused as soon as it goes past; a body that
fits is handed to Django as if it had had a ``Content-Length`` (Django alone would read it as empty).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse, JsonResponse

#: Bytes read at a time from a chunked body.
CHUNK = 64 * 1024
BROKERMESSAGE_PATH = "/elasticc2/brokermessage/"


def body_limit(request) -> tuple[str, int]:
    """``(kind, bytes)``: the body limit that applies to ``request``."""
    limits = settings.DESCTOM_BODY_LIMITS
    if request.method == "PUT" and request.path_info.startswith(BROKERMESSAGE_PATH):
        return "brokermessage", limits["brokermessage"]
    if request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data"):
        return "upload", limits["upload"]
    return "default", limits["default"]


def _mb(size: int) -> str:
    return f"{size / 1e6:g} MB" if size >= 100_000 else f"{size} bytes"


def too_large(request, kind: str, limit: int, size: int | None) -> HttpResponse:
    """413 naming the limit; JSON unless a browser asks for a page."""
    given = f"{size} bytes" if size is not None else f"more than {limit} bytes (chunked)"
    where = {"brokermessage": "a broker-message PUT", "upload": "a file-upload form"}
    hint = " Send the messages in several requests." if kind == "brokermessage" else ""
    message = (f"request body too large: {given}; the limit for {where.get(kind, 'this request')} is {limit} "
               f"bytes ({_mb(limit)}).{hint}")
    from desctom.core.jsonapi import wants_json  # one rule for JSON vs HTML answers

    if wants_json(request) or "text/html" not in request.headers.get("Accept", ""):
        return JsonResponse({"error": message, "limit": limit}, status=413)
    page = f"<!doctype html><title>Request too large</title><h1>Request too large</h1><p>{message}</p>"
    return HttpResponse(page, status=413, content_type="text/html; charset=utf-8")


class BodyLimitMiddleware:
    """Refuse request bodies over their limit (413) before Django reads them; bound chunked bodies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        kind, limit = body_limit(request)
        raw_length = request.META.get("CONTENT_LENGTH", "")
        if raw_length not in ("", None):
            try:
                length = int(raw_length)
            except ValueError:
                length = -1
            if length < 0:
                return JsonResponse({"error": f"invalid Content-Length header: {raw_length!r}"}, status=400)
            if length > limit:
                return too_large(request, kind, limit, length)
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            refused = self._read_chunked(request, kind, limit)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def _read_chunked(request, kind: str, limit: int):
        """Read a chunked body up to ``limit``; past it, the 413 (nothing more is read)."""
        stream = request.environ.get("wsgi.input")
        if stream is None:
            return None
        parts, size = [], 0
        while True:
            piece = stream.read(min(CHUNK, limit + 1 - size))
            if not piece:
                break
            parts.append(piece)
            size += len(piece)
            if size > limit:
                return too_large(request, kind, limit, None)
        body = b"".join(parts)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None
