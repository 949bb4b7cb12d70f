"""Reads of ``elasticc2_brokermessage``: one message, or a page of the messages of some alerts,
sources or objects, as the broker-message API shows them."""

from __future__ import annotations

import numpy as np
from django.db import connection

from desctom.core.messagequery import query_page

_WHERE = {
    "alert": "m.alert_id = ANY(%(ids)s)",
    "source": "m.diasource_id = ANY(%(ids)s)",
    "object": ("m.diasource_id IN (SELECT s.diasource_id FROM elasticc2_ppdbdiasource s "
               "WHERE s.diaobject_id = ANY(%(ids)s))"),
}
_COLUMNS = ("brokerMessageId", "streamMessageId", "topicName", "kafkaPartition", "alertId", "diaSourceId",
            "msgHdrTimestamp", "descIngestTimestamp", "elasticcPublishTimestamp", "brokerIngestTimestamp",
            "classifierId", "brokerName", "brokerVersion", "classifierName", "classifierParams")
_SELECT = """
    SELECT m.brokermessage_id, m.streammessage_id, m.topicname, m.kafkapartition, m.alert_id,
           m.diasource_id, m.msghdrtimestamp, m.descingesttimestamp, m.elasticcpublishtimestamp,
           m.brokeringesttimestamp, m.classifier_id, c.brokername, c.brokerversion, c.classifiername,
           c.classifierparams, m.classid, m.probability
    FROM elasticc2_brokermessage m
    LEFT JOIN elasticc2_brokerclassifier c ON c.classifier_id = m.classifier_id"""


def message_dict(row) -> dict:
    """One ``_SELECT`` row as the API shows it (probabilities at float4 precision, shortest form)."""
    result = dict(zip(_COLUMNS, row[:-2], strict=True))
    result["classifications"] = [{"classId": c, "probability": float(str(np.float32(p)))}
                                 for c, p in zip(row[-2] or [], row[-1] or [], strict=True)]
    return result


def query_messages(kind: str, ids: list[int], offset: int, num: int) -> tuple[int, list[dict]]:
    """``(totalcount, page of message dicts)`` of the messages ``kind`` in ``ids`` selects."""
    where = _WHERE[kind]
    total, rows = query_page(f"SELECT count(*) FROM elasticc2_brokermessage m WHERE {where}",
                             f"{_SELECT} WHERE {where} ORDER BY m.brokermessage_id", ids, offset, num)
    return total, [message_dict(r) for r in rows]


def one_message(message_id: int) -> dict | None:
    """The message ``message_id``, or ``None``."""
    with connection.cursor() as cur:
        cur.execute(f"{_SELECT} WHERE m.brokermessage_id = %s", [message_id])
        row = cur.fetchone()
    return None if row is None else message_dict(row)
