"""A follow-up answer from the answer cache when the data did not change, else streamed and kept
(:mod:`desctom.elasticc2.queries.answercache`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import HttpResponse

from desctom.core.jsonstream import streaming_json_response
from desctom.elasticc2.queries.answercache import answer_key, cached_answer, keeping


def cached_or_streamed(endpoint: str, arguments: dict, pieces: Callable[[], Iterator[bytes]]):
    """The answer of ``endpoint`` for ``arguments`` (resolved: no "now" left in them)."""
    key = answer_key(endpoint, arguments)  # the data version, read before the answer's snapshot
    body = cached_answer(key)
    if body is not None:
        return HttpResponse(body, content_type="application/json")
    return streaming_json_response(keeping(key, pieces()), endpoint)
