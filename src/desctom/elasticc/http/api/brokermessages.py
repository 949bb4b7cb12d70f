"""``/elasticc/brokermessage/`` (reference §1.5): the ELAsTiCC 1 broker-message query API.

* ``GET|POST <id>/``: one message with its classifications.
* ``GET|POST ?alertid=1,2`` (or ``objectid``/``diaobjectid``, ``sourceid``/``diasourceid``; also as
  the path ``alertid=1,2/``), with ``offset`` and ``num`` (default 0 and 100, at most 1000; the
  original ignored both): ``{"offset", "num", "totalcount", "count", "brokermessages": [...]}``.
* ``PUT``: 403 — ELAsTiCC is over.

A message dict: the message columns, ``brokerName``/``brokerVersion``, and ``classifications``:
one ``{"classifierId", "classifierName", "classifierParams", "classId", "probability"}`` per row.
"""

from __future__ import annotations

import re

from desctom.core.bounds import INT64_MAX, INT64_MIN
from desctom.core.jsonapi import ApiError, strict_json_response
from desctom.core.jsonauth import JsonLoginRequiredMixin, json_error
from desctom.core.messagequery import parse_query
from desctom.elasticc.http.api.contract import BROKERMESSAGE_DOCS
from desctom.elasticc.queries.brokermessages import one_message, query_messages

CLOSED = "ELAsTiCC is over, posting classifications is disabled."
class BrokerMessageView(JsonLoginRequiredMixin):
    """Any logged-in user may read; nobody may PUT any more."""

    api_doc = BROKERMESSAGE_DOCS  # by URL name

    def get(self, request, info=None):
        try:
            if isinstance(info, int) or (info is not None and re.fullmatch(r"-?\d{1,30}", info)):
                message_id = int(info)
                found = one_message(message_id) if INT64_MIN <= message_id <= INT64_MAX else None
                if found is None:
                    return json_error(f"No broker message with id {message_id}", 404)
                return strict_json_response(found)
            kind, ids, offset, num = parse_query(info, request.META.get("QUERY_STRING", ""))
            total, page = query_messages(kind, ids, offset, num)
        except ApiError as exc:
            return json_error(exc.message, exc.status)
        return strict_json_response({"offset": offset, "num": num, "totalcount": total, "count": len(page),
                                     "brokermessages": page})

    post = get

    def put(self, request, info=None):
        return json_error(CLOSED, 403)
