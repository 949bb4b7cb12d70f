"""gzip for JSON answers only, when the client accepts it (``Accept-Encoding: gzip``).

Whole and streamed answers are compressed (the latter piece by piece, so memory stays bounded). Only
``application/json`` is: the programs' answers, which can be hundreds of MB, carry no secret
reflected beside attacker-chosen text, so BREACH does not apply to them; HTML pages (which hold
CSRF tokens) and static files (WhiteNoise serves its own pre-compressed copies) are left alone.

Level 1 rather than Django's ``GZipMiddleware`` level 6: on these answers (repetitive JSON of
numbers) it compresses 4-5x instead of 5-6x at several times the speed, so a large streamed answer
is not slowed by its compression (issue 17).
"""

from __future__ import annotations

import re
import zlib

from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

LEVEL = 1
#: Below this many bytes a whole answer is sent as it is.
MIN_LENGTH = 200
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _compressor():
    return zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip header and trailer


def gzip_bytes(data: bytes) -> bytes:
    """``data`` as one gzip member."""
    c = _compressor()
    return c.compress(data) + c.flush()


def gzip_chunks(chunks):
    """The gzip stream of an iterable of byte chunks, as it goes."""
    c = _compressor()
    for chunk in chunks:
        out = c.compress(chunk)
        if out:
            yield out
    yield c.flush()


class JsonGZipMiddleware(MiddlewareMixin):
    """Compress ``application/json`` responses for clients that accept gzip."""

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.has_header("Content-Encoding"):
            return response
        if not response.streaming and len(response.content) < MIN_LENGTH:
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        if response.streaming:
            response.streaming_content = gzip_chunks(response.streaming_content)
            if response.has_header("Content-Length"):
                del response["Content-Length"]
        else:
            compressed = gzip_bytes(response.content)
            if len(compressed) >= len(response.content):
                return response
            response.content = compressed
            response["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response["ETag"] = "W/" + etag  # the bytes differ from the identity encoding's
        response["Content-Encoding"] = "gzip"
        return response
