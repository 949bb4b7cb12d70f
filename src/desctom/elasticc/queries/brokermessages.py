"""Reads of the ELAsTiCC 1 broker messages (``elasticc_brokermessage`` and its classifications)."""

from __future__ import annotations

from django.db import connection

from desctom.core.messagequery import query_page

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
    total, rows = query_page(f"SELECT count(*) FROM elasticc_brokermessage m WHERE {where}",
                             f'{_SELECT} WHERE {where} ORDER BY m."brokerMessageId"', ids, offset, num)
    return total, _with_classifications(rows)


def one_message(message_id: int) -> dict | None:
    """The message ``message_id`` with its classifications, or ``None``."""
    with connection.cursor() as cur:
        cur.execute(f'{_SELECT} WHERE m."brokerMessageId" = %s', [message_id])
        rows = cur.fetchall()
    return _with_classifications(rows)[0] if rows else None
