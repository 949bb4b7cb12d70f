"""A follow-up answer from the answer cache when the data did not change, else streamed and kept
(:mod:`desctom.elasticc2.queries.answercache`). The kept answer is also kept gzip-compressed (level 1,
as ``desctom.web.gzip`` compresses), so a repeated answer costs neither a query nor a compression.

An answer that depends on the wall clock (``spectrawanted``'s cuts "requested in the last 14 days",
"planned in the last 7 days") is keyed without the clock and kept with the instant until which a
later "now" gives the same answer (``expires``); after it, the answer is computed again.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Callable, Iterator

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from desctom.core.jsonstream import streaming_json_response
from desctom.elasticc2.queries.answercache import answer_key, cached_answer, keeping

_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _kept_form(expires: dt.datetime | None):
    def form(body: bytes):
        c = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return body, c.compress(body) + c.flush(), expires
    return form


def cached_or_streamed(request, endpoint: str, key_arguments: dict, pieces: Callable[[], Iterator[bytes]],
                       expires: Callable[[], dt.datetime | None] | None = None):
    """The answer of ``endpoint`` for ``key_arguments`` (resolved: nothing of the wall clock left in
    them unless ``expires`` says until when the answer holds)."""
    key = answer_key(endpoint, key_arguments)  # the data version, read before the answer's snapshot
    kept = cached_answer(key)
    if kept is not None and (kept[2] is None or dt.datetime.now(dt.UTC) < kept[2]):
        body, compressed, _ = kept
        if _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) and len(compressed) < len(body):
            response = HttpResponse(compressed, content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(body, content_type="application/json")
        patch_vary_headers(response, ("Accept-Encoding",))
        return response
    until = expires() if expires is not None else None  # read before the answer's snapshot too
    return streaming_json_response(keeping(key, pieces(), _kept_form(until)), endpoint)
