"""A follow-up answer from the answer cache when the data did not change, else streamed and kept
(:mod:`desctom.elasticc2.queries.answercache`). The kept answer is also kept gzip-compressed (level 1,
as ``desctom.web.gzip`` compresses), so a repeated answer costs neither a query nor a compression.

One computation per question: while a thread of this process computes an answer, the other
requests for it wait (up to :data:`FLIGHT_WAIT` seconds) and are then given the kept answer, so a
burst of clients asking the same new question costs one query, not one each.

An answer that depends on the wall clock (``spectrawanted``'s cuts "requested in the last 14 days",
"planned in the last 7 days") is keyed without the clock and kept with the instant until which a
later "now" gives the same answer (``expires``); after it, the answer is computed again.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import zlib
from collections.abc import Callable, Iterator

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from desctom.core.jsonstream import streaming_json_response
from desctom.elasticc2.queries.answercache import answer_key, cached_answer, keeping

_ACCEPTS_GZIP = re.compile(r"\bgzip\b")
#: Seconds a request waits for another thread computing the same answer before computing it itself.
FLIGHT_WAIT = 60.0
_flights: dict[str, threading.Lock] = {}
_flights_guard = threading.Lock()


def _flight(key: str) -> threading.Lock:
    with _flights_guard:
        return _flights.setdefault(key, threading.Lock())


def _released_after(pieces: Iterator[bytes], lock: threading.Lock, key: str) -> Iterator[bytes]:
    try:
        yield from pieces
    finally:
        with _flights_guard:
            if _flights.get(key) is lock:
                del _flights[key]
        lock.release()


def _usable(kept) -> bool:
    return kept is not None and (kept[2] is None or dt.datetime.now(dt.UTC) < kept[2])


def _kept_response(request, kept) -> HttpResponse:
    body, compressed, _ = kept
    if _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) and len(compressed) < len(body):
        response = HttpResponse(compressed, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type="application/json")
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


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
    if _usable(kept):
        return _kept_response(request, kept)
    lock = _flight(key)
    if not lock.acquire(timeout=FLIGHT_WAIT):  # the other computation takes too long: do it too
        until = expires() if expires is not None else None
        return streaming_json_response(keeping(key, pieces(), _kept_form(until)), endpoint)
    try:
        kept = cached_answer(key)  # kept by the thread we waited for?
        if _usable(kept):
            lock.release()
            return _kept_response(request, kept)
        until = expires() if expires is not None else None  # read before the answer's snapshot too
        stream = _released_after(keeping(key, pieces(), _kept_form(until)), lock, key)
    except BaseException:
        lock.release()
        raise
    return streaming_json_response(stream, endpoint)
