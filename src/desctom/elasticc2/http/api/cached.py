"""A follow-up answer from the answer cache when the data did not change, else streamed and kept
(:mod:`desctom.elasticc2.queries.answercache`). The kept answer is also kept gzip-compressed (level 1,
as ``desctom.web.gzip`` compresses), so a repeated answer costs neither a query nor a compression."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from desctom.core.jsonstream import streaming_json_response
from desctom.elasticc2.queries.answercache import answer_key, cached_answer, keeping

_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _with_gzip(body: bytes) -> tuple[bytes, bytes]:
    c = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return body, c.compress(body) + c.flush()


def cached_or_streamed(request, endpoint: str, arguments: dict, pieces: Callable[[], Iterator[bytes]]):
    """The answer of ``endpoint`` for ``arguments`` (resolved: no "now" left in them)."""
    key = answer_key(endpoint, arguments)  # the data version, read before the answer's snapshot
    kept = cached_answer(key)
    if kept is None:
        return streaming_json_response(keeping(key, pieces(), _with_gzip), endpoint)
    body, compressed = kept
    if _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) and len(compressed) < len(body):
        response = HttpResponse(compressed, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type="application/json")
    patch_vary_headers(response, ("Accept-Encoding",))
    return response
