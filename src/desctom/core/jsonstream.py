"""JSON answers written piece by piece, so a web worker's memory does not grow with the answer.

A streamed answer is byte for byte the JSON the whole answer would give: a list is written as
the items of its chunks' arrays joined by commas (:func:`join_arrays`), a dict of long lists as
each column spooled to a temporary file and then copied out (:class:`ColumnSpool`).

The view does everything that can fail with a client error, and the first database work, before
it answers (:func:`streaming_json_response` runs the generator up to its first piece): a 4xx stays
a 4xx, and a database down is still a 503. An error later (the database gone mid-answer) is logged
and ends the body early: the server closes the connection, the client sees a truncated body, and the
generator's ``transaction.atomic`` rolls back. Compression is left to
:class:`desctom.web.gzip.JsonGZipMiddleware`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import orjson
from django.db import connection, transaction
from django.http import StreamingHttpResponse

log = logging.getLogger(__name__)

#: Bytes per piece copied out of a :class:`ColumnSpool` file.
COPY_BLOCK = 1 << 20


def join_arrays(arrays: Iterable[bytes]) -> Iterator[bytes]:
    """One JSON array made of the items of ``arrays`` (each a compact JSON array, as orjson or
    DRF's JSONRenderer write them), in order."""
    yield b"["
    first = True
    for array in arrays:
        if array == b"[]":
            continue
        yield array[1:-1] if first else b"," + array[1:-1]
        first = False
    yield b"]"


class ColumnSpool:
    """A dict of lists written chunk by chunk: ``add(key, array)`` appends a chunk's compact JSON
    array to column ``key``; :meth:`pieces` then writes ``{"key":[...],...}`` (keys in the order
    given). The columns wait in temporary files (in memory up to ``COPY_BLOCK`` each)."""

    def __init__(self, keys: Iterable[str]):
        self.files = {k: tempfile.SpooledTemporaryFile(max_size=COPY_BLOCK) for k in keys}
        self.started = dict.fromkeys(self.files, False)

    def add(self, key: str, array: bytes) -> None:
        if array == b"[]":
            return
        self.files[key].write(array[1:-1] if not self.started[key] else b"," + array[1:-1])
        self.started[key] = True

    def pieces(self) -> Iterator[bytes]:
        try:
            for i, (key, spool) in enumerate(self.files.items()):
                yield (b"{" if i == 0 else b",") + orjson.dumps(key) + b":["
                spool.seek(0)
                while block := spool.read(COPY_BLOCK):
                    yield block
                yield b"]"
            yield b"{}" if not self.files else b"}"
        finally:
            self.close()

    def close(self) -> None:
        for spool in self.files.values():
            spool.close()


class JsonStreamResponse(StreamingHttpResponse):
    """A streamed JSON answer. ``content`` and ``text`` (for in-process callers such as Django's test
    client) read the whole stream once; over HTTP the body goes out piece by piece."""

    def __init__(self, pieces: Iterable[bytes], status: int = 200):
        super().__init__(pieces, status=status, content_type="application/json")

    @property
    def content(self) -> bytes:
        if not hasattr(self, "_joined"):
            self._joined = b"".join(self.streaming_content)
        return self._joined

    @property
    def text(self) -> str:
        return self.content.decode(self.charset)


def _logged(first: bytes, rest: Iterator[bytes], name: str) -> Iterator[bytes]:
    try:
        yield first
        yield from rest
    except Exception:
        log.exception("streamed answer of %s failed mid-stream: the client gets a truncated body", name)
        raise
    finally:
        rest.close()


def streaming_json_response(pieces: Iterator[bytes], name: str = "answer") -> JsonStreamResponse:
    """Answer with the JSON ``pieces`` (a generator), after running it up to its first piece here
    (so its first errors are the view's: client errors stay 4xx)."""
    try:
        first = next(pieces)
    except StopIteration:
        first = b""
    return JsonStreamResponse(_logged(first, pieces, name))


@contextmanager
def one_snapshot(conn=None):
    """A read-only transaction whose statements all see one snapshot (REPEATABLE READ), so an
    answer read in chunks is as consistent as one statement's; inside a caller's transaction,
    a savepoint of it (whose isolation is the caller's)."""
    conn = conn or connection
    outermost = not conn.in_atomic_block
    with transaction.atomic(using=conn.alias):
        if outermost:
            with conn.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield conn


def chunks(values: list, size: int) -> Iterator[list]:
    """``values`` in consecutive slices of ``size``."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
