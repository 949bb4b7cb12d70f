"""Follow-up answers cached under the data version of the tables they read: fast, and never stale.

Many clients ask the same question (``gethottransients`` of the last day at the campaign's clock,
``spectrawanted`` with the defaults) while the data they read changes only when the source updater
or a follow-up endpoint commits. Each of those tables has a version counter that every writing
statement bumps in its own transaction (migration ``0015_data_versions``). An answer's key is its
endpoint, its resolved arguments and the versions, read *before* the answer's snapshot is taken:
the answer is then at least as new as the versions say, so a later request that reads the same
versions may be given it. Any commit to one of the tables changes the versions, and the next
request computes a new answer.

Answers up to :data:`MAX_CACHED_BYTES` are kept, in each web process's memory (the ``answers``
cache of ``settings.CACHES``: least recently used entries go first); bigger ones stream as before
and are not kept. A response is cached only once it was produced whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from django.core.cache import caches
from django.db import connection

#: The tables the follow-up answers read (each has a version row; see the migration).
FOLLOWUP_TABLES = (
    "elasticc2_diaobject", "elasticc2_diasource", "elasticc2_diaforcedsource",
    "elasticc2_diaobjectpackedphotometry", "elasticc2_spectruminfo",
    "elasticc2_wantedspectra", "elasticc2_plannedspectra", "elasticc2_diaobjectconsensus",
    "elasticc2_diaobjectconsensusasof", "elasticc2_diaobjectlatestclassification",
    "elasticc2_diasourcelatestclassification", "elasticc2_diaobjectinfo", "elasticc2_diaobjectclassification",
)
#: Bigger answers are streamed and not kept (a 1-day ``gethottransients`` of a 100,000-object survey
#: at mid-survey is 11.7 MB; kept with its gzip form, ≈ 15 MB).
MAX_CACHED_BYTES = 16_000_000
#: A kept answer is dropped after this many seconds even if nothing changed (memory hygiene only:
#: a change of the data changes the key at once).
CACHE_SECONDS = 600
CACHE_ALIAS = "answers"


def data_version(tables: Iterable[str] = FOLLOWUP_TABLES) -> str:
    """The versions of ``tables`` as one string (read in its own statement: call it before the answer)."""
    with connection.cursor() as cur:
        cur.execute("SELECT string_agg(table_name || '=' || version, ',' ORDER BY table_name) "
                    "FROM elasticc2_dataversion WHERE table_name = ANY(%s)", [list(tables)])
        row = cur.fetchone()
    return row[0] or ""


def answer_key(endpoint: str, arguments: dict, tables: Iterable[str] = FOLLOWUP_TABLES) -> str:
    """The cache key of ``endpoint`` asked with ``arguments`` at the current data version."""
    raw = json.dumps([endpoint, data_version(tables), arguments], sort_keys=True, default=str)
    return f"{endpoint}:{hashlib.sha256(raw.encode()).hexdigest()}"


def cached_answer(key: str):
    """What was kept under ``key``, or ``None``."""
    return caches[CACHE_ALIAS].get(key)


def keeping(key: str, pieces: Iterable[bytes], stored=lambda body: body) -> Iterator[bytes]:
    """``pieces`` passed through; once they all went out (and weigh at most :data:`MAX_CACHED_BYTES`),
    ``stored(answer)`` is kept under ``key``."""
    kept: list[bytes] | None = []
    size = 0
    for piece in pieces:
        if kept is not None:
            size += len(piece)
            if size > MAX_CACHED_BYTES:
                kept = None
            else:
                kept.append(piece)
        yield piece
    if kept is not None:
        caches[CACHE_ALIAS].set(key, stored(b"".join(kept)), CACHE_SECONDS)
