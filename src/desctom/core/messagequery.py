"""The query grammar (and the paging) of the broker-message list endpoints (``/elasticc/brokermessage/`` and
``/elasticc2/brokermessage/``): ``?alertid=1,2`` (or ``objectid``/``diaobjectid``,
``sourceid``/``diasourceid``, also as the path ``alertid=1,2/``) with ``offset`` and ``num``."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from django.db import connection
from django.urls import path

from desctom.core.bounds import INT64_MAX, INT64_MIN
from desctom.core.jsonapi import ApiError

DEFAULT_NUM, MAX_NUM = 100, 1000
#: At most this many ids in one query.
MAX_IDS = 10_000
#: Query key -> what it selects; the two spellings of objectid/sourceid are synonyms.
SELECTORS = {"alertid": "alert", "sourceid": "source", "diasourceid": "source",
             "objectid": "object", "diaobjectid": "object"}
_INT = re.compile(r"[+-]?\d{1,19}")


def _int(text: str, name: str, lowest: int = INT64_MIN) -> int:
    text = text.strip()
    if not _INT.fullmatch(text) or not lowest <= int(text) <= INT64_MAX:
        kind = "a non-negative integer" if lowest == 0 else "an integer"
        raise ApiError(f"{name} must be {kind}, not \"{text}\"")
    return int(text)


def parse_query(info: str | None, query_string: str) -> tuple[str, list[int], int, int]:
    """``(kind, ids, offset, num)`` of a list query given as the path ``info`` and/or the query string."""
    argstring = "&".join(s for s in (info, unquote(query_string)) if s)
    cant_parse = (f"Can't parse argument string \"{argstring}\". Give one of "
                  f"{', '.join(SELECTORS)} (comma-separated integers), and optionally offset and num.")
    try:
        pairs = parse_qsl(info or "", keep_blank_values=True, strict_parsing=bool(info))
        pairs += parse_qsl(query_string, keep_blank_values=True)
    except ValueError as exc:
        raise ApiError(cant_parse) from exc
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    if set(values) - set(SELECTORS) - {"offset", "num"}:
        raise ApiError(cant_parse)
    given = [k for k in SELECTORS if k in values]
    if not given:
        raise ApiError(cant_parse)
    if len(given) > 1:
        raise ApiError(f"Give only one of {', '.join(SELECTORS)}, not {' and '.join(given)}")
    key = given[0]
    texts = [t for v in values[key] for t in v.split(",")]
    if len(texts) > MAX_IDS:
        raise ApiError(f"At most {MAX_IDS} ids in one query, not {len(texts)}")
    ids = [_int(t, f"every {key}") for t in texts]
    paging = {}
    for name, default in (("offset", 0), ("num", DEFAULT_NUM)):
        given_values = values.get(name, [])
        if len(given_values) > 1:
            raise ApiError(f"{name} given {len(given_values)} times")
        paging[name] = _int(given_values[0], name, 0) if given_values else default
    return SELECTORS[key], ids, paging["offset"], min(paging["num"], MAX_NUM)


def query_page(count_sql: str, page_sql: str, ids: list[int], offset: int,
               num: int) -> tuple[int, list[tuple]]:
    """``(total, rows)``: how many rows ``count_sql`` counts, and the page ``offset``/``num`` of
    ``page_sql`` (both take ``%(ids)s``; ``page_sql`` is ordered and gets LIMIT/OFFSET here)."""
    params = {"ids": sorted(set(ids)), "offset": offset, "num": num}
    with connection.cursor() as cur:
        cur.execute(count_sql, params)
        total = cur.fetchone()[0]
        rows = []
        if num and offset < total:
            cur.execute(f"{page_sql} LIMIT %(num)s OFFSET %(offset)s", params)
            rows = cur.fetchall()
    return total, rows


def message_routes(view) -> list:
    """The three routes of a campaign's broker-message view, as the original named them: the list
    (``brokermessage``), one message by id (``brokermessage_id``) and a query as the path
    (``brokermessage_query``)."""
    return [path("brokermessage/", view, name="brokermessage"),
            path("brokermessage/<int:info>/", view, name="brokermessage_id"),
            path("brokermessage/<path:info>/", view, name="brokermessage_query")]
