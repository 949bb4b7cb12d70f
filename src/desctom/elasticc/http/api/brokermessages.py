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

from django.db import connection

from desctom.core.bounds import INT64_MAX, INT64_MIN
from desctom.core.jsonapi import ApiError, strict_json_response
from desctom.core.jsonauth import JsonLoginRequiredMixin, json_error
from desctom.core.messagequery import parse_query

CLOSED = "ELAsTiCC is over, posting classifications is disabled."
_MESSAGE_COLUMNS = ("brokerMessageId", "streamMessageId", "topicName", "alertId", "diaSourceId",
                    "msgHdrTimestamp", "descIngestTimestamp", "elasticcPublishTimestamp",
                    "brokerIngestTimestamp")
_WHERE = {
    "alert": 'm."alertId" = ANY(%(ids)s)',
    "source": 'm."diaSourceId" = ANY(%(ids)s)',
    "object": ('m."diaSourceId" IN (SELECT s."diaSourceId" FROM elasticc_diasource s '
               'WHERE s."diaObjectId" = ANY(%(ids)s))'),
}
_SELECT = "SELECT " + ", ".join(f'm."{c}"' for c in _MESSAGE_COLUMNS) + " FROM elasticc_brokermessage m"


def _with_classifications(rows) -> list[dict]:
    """Message rows -> message dicts with their classifications (one query for all)."""
    messages = [dict(zip(_MESSAGE_COLUMNS, r, strict=True)) for r in rows]
    by_id = {m["brokerMessageId"]: m for m in messages}
    for m in messages:
        m.update(brokerName=None, brokerVersion=None, classifications=[])
    if not messages:
        return messages
    with connection.cursor() as cur:
        cur.execute('SELECT b."brokerMessageId", c."classifierId", c."brokerName", c."brokerVersion", '
                    'c."classifierName", c."classifierParams", b."classId", b.probability '
                    "FROM elasticc_brokerclassification b "
                    'LEFT JOIN elasticc_brokerclassifier c ON c."classifierId" = b."classifierId" '
                    'WHERE b."brokerMessageId" = ANY(%s) ORDER BY b."classificationId"', [list(by_id)])
        for mid, cid, broker, version, name, params, classid, prob in cur.fetchall():
            msg = by_id[mid]
            msg["brokerName"], msg["brokerVersion"] = broker, version
            msg["classifications"].append({"classifierId": cid, "classifierName": name,
                                           "classifierParams": params, "classId": classid,
                                           "probability": prob})
    return messages


def query_messages(kind: str, ids: list[int], offset: int, num: int) -> tuple[int, list[dict]]:
    """``(totalcount, page)`` of the messages selected by ``kind`` in ``ids``, in id order."""
    where = _WHERE[kind]
    params = {"ids": sorted(set(ids)), "offset": offset, "num": num}
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM elasticc_brokermessage m WHERE {where}", params)
        total = cur.fetchone()[0]
        rows = []
        if num and offset < total:
            cur.execute(f'{_SELECT} WHERE {where} ORDER BY m."brokerMessageId" '
                        "LIMIT %(num)s OFFSET %(offset)s", params)
            rows = cur.fetchall()
    return total, _with_classifications(rows)


class BrokerMessageView(JsonLoginRequiredMixin):
    """Any logged-in user may read; nobody may PUT any more."""

    def get(self, request, info=None):
        try:
            if isinstance(info, int) or (info is not None and re.fullmatch(r"-?\d{1,30}", info)):
                message_id = int(info)
                rows = []
                if INT64_MIN <= message_id <= INT64_MAX:
                    with connection.cursor() as cur:
                        cur.execute(f'{_SELECT} WHERE m."brokerMessageId" = %s', [message_id])
                        rows = cur.fetchall()
                if not rows:
                    return json_error(f"No broker message with id {message_id}", 404)
                return strict_json_response(_with_classifications(rows)[0])
            kind, ids, offset, num = parse_query(info, request.META.get("QUERY_STRING", ""))
            total, page = query_messages(kind, ids, offset, num)
        except ApiError as exc:
            return json_error(exc.message, exc.status)
        return strict_json_response({"offset": offset, "num": num, "totalcount": total, "count": len(page),
                                     "brokermessages": page})

    post = get

    def put(self, request, info=None):
        return json_error(CLOSED, 403)
