"""``spectrawanted``'s answer streamed: the same bytes as :func:`spectra.wanted_spectra` writes whole.

Each object's request (its highest priority) is read first, in the answer's order (a few bytes per
request); the tests of the object (not claimed, not observed, detected lately) are left to the chunks,
since they depend on the object alone: ``WANTED_CHUNK`` objects at a time in that order, PostgreSQL
keeps those that pass and writes the chunk's JSON list (latest S/N > 3 magnitude per band, the
``lim_mag`` test); the chunks are joined as ``json_agg`` joins items (``", "``). The first piece goes
out once the requests are read, after one chunk of tests, whatever the number of requests (issue 17:
first byte in < 300 ms at every campaign size). All reads see one snapshot
(:func:`desctom.core.jsonstream.one_snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterator

from desctom.core.jsonstream import chunks, one_snapshot
from desctom.elasticc2.queries.followup import fast_plans
from desctom.elasticc2.queries.spectra import (
    WANTED_ANSWER,
    WANTED_OBJECT_TESTS,
    WANTED_REQUESTS,
    wanted_sql_parts,
)

#: Objects per statement of the streamed answer.
WANTED_CHUNK = 1000

_ORDERED = ("SELECT * FROM (" + WANTED_REQUESTS.replace("{tests}", "") + ") r "
            "ORDER BY r.priority DESC, r.diaobject_id")
_CHUNK = ("WITH wanted AS MATERIALIZED (SELECT * FROM unnest(%(w_ids)s::bigint[], %(w_req)s::text[], "
          "%(w_prio)s::int[], %(w_user)s::int[]) AS w(diaobject_id, requester, priority, user_id) "
          "WHERE true " + WANTED_OBJECT_TESTS + ")" + WANTED_ANSWER)


def _items(array: str) -> str:
    """The items of a JSON list PostgreSQL wrote (``[...]``), or ``""`` for an empty one."""
    return "" if array == "[]" else array[1:-1]


def wanted_spectra_pieces(*, chunk_size: int | None = None, conn=None, **question) -> Iterator[bytes]:
    """``{"status":"ok","wantedspectra":[...]}`` in pieces; ``question``: the keyword arguments of
    :func:`desctom.elasticc2.queries.spectra.wanted_spectra`."""
    parts, params = wanted_sql_parts(**question)
    with one_snapshot(conn) as db, db.cursor() as cur:
        fast_plans(cur)
        cur.execute(_ORDERED.format(**parts), params)
        wanted = cur.fetchall()
        written = False
        yield b'{"status":"ok","wantedspectra":['
        for rows in chunks(wanted, chunk_size or WANTED_CHUNK):
            ids, requesters, priorities, users = (list(c) for c in zip(*rows, strict=True))
            cur.execute(_CHUNK.format(**parts), {**params, "w_ids": ids, "w_req": requesters,
                                                 "w_prio": priorities, "w_user": users})
            items = _items(cur.fetchone()[0])
            if items:
                yield ((", " if written else "") + items).encode()
                written = True
    yield b"]}"
