"""Storing ELAsTiCC 1 (v0.9) broker classification messages.

A v0.9 ``brokerClassification`` message names the broker at message level and the classifier in
each classification: ``{"alertId", "diaSourceId", "elasticcPublishTimestamp",
"brokerIngestTimestamp", "brokerName", "brokerVersion", "classifications": [{"classifierName",
"classifierParams", "classId", "probability"}, ...]}`` (timestamps in ms since the epoch, as
Avro ``timestamp-millis``; ``brokerPublishTimestamp``, optional, becomes ``msgHdrTimestamp``).

Each message becomes one ``elasticc_brokermessage`` row and one ``elasticc_brokerclassification``
row per (classifier, class). A message already stored under the same (topic, stream message id)
is skipped, so loading a file twice adds nothing. The PUT endpoint is closed (the campaign is
over); :func:`load_messages` is how messages get in (``load_elasticc_brokermessages``).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db import connection, transaction

from desctom.core import bulkcopy
from desctom.core.bounds import INT64
from desctom.elasticc.models import BrokerClassifier, BrokerMessage

_MSG_KEYS = {"alertId", "diaSourceId", "elasticcPublishTimestamp", "brokerIngestTimestamp", "brokerName",
             "brokerVersion", "classifications", "brokerPublishTimestamp"}
_REQUIRED = _MSG_KEYS - {"brokerPublishTimestamp", "brokerIngestTimestamp"}
_CLASS_KEYS = {"classifierName", "classifierParams", "classId", "probability"}
_CLASS_COLUMNS = ["classifierId", "classId", "probability", "modified", "brokerMessageId"]


class MessageError(ValueError):
    """A message that cannot be stored; the text says which one and why."""


@dataclass
class LoadResult:
    """What :func:`load_messages` did."""

    messages: int = 0
    classifications: int = 0
    duplicates: int = 0
    new_classifiers: int = 0


def _int(value, where: str, low: int = INT64[0]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= INT64[1]:
        raise MessageError(f"{where} must be an integer, not {value!r}")
    return value


def _text(value, where: str) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise MessageError(f"{where} must be a string, not {value!r}")
    return value


def _time(value, where: str, required: bool = True) -> datetime.datetime | None:
    """Milliseconds since the epoch (a number) -> aware UTC datetime."""
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MessageError(f"{where} must be milliseconds since 1970 (a number), not {value!r}")
    try:
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    except (OverflowError, ValueError, OSError):
        raise MessageError(f"{where} is out of range: {value!r}") from None


def check_message(msg, index: int) -> dict:
    """A checked, normalised copy of message ``index``; :class:`MessageError` if it is malformed."""
    where = f"message {index}"
    if not isinstance(msg, dict):
        raise MessageError(f"{where} is not a JSON object")
    unknown, missing = set(msg) - _MSG_KEYS, _REQUIRED - set(msg)
    if unknown:
        raise MessageError(f"{where}: unknown keys {sorted(unknown)}")
    if missing:
        raise MessageError(f"{where}: missing keys {sorted(missing)}")
    out = {"alertId": _int(msg["alertId"], f"{where}: alertId"),
           "diaSourceId": _int(msg["diaSourceId"], f"{where}: diaSourceId"),
           "elasticcPublishTimestamp": _time(msg["elasticcPublishTimestamp"],
                                             f"{where}: elasticcPublishTimestamp"),
           "brokerIngestTimestamp": _time(msg.get("brokerIngestTimestamp"), f"{where}: brokerIngestTimestamp",
                                          required=False),
           "msgHdrTimestamp": _time(msg.get("brokerPublishTimestamp"), f"{where}: brokerPublishTimestamp",
                                    required=False),
           "brokerName": _text(msg["brokerName"], f"{where}: brokerName"),
           "brokerVersion": _text(msg["brokerVersion"], f"{where}: brokerVersion")}
    classes = msg["classifications"]
    if not isinstance(classes, list):
        raise MessageError(f"{where}: classifications must be a list")
    out["classifications"] = []
    for j, cls in enumerate(classes):
        cwhere = f"{where}: classification {j}"
        if not isinstance(cls, dict) or set(cls) != _CLASS_KEYS:
            raise MessageError(f"{cwhere} must have exactly the keys {sorted(_CLASS_KEYS)}")
        prob = cls["probability"]
        if isinstance(prob, bool) or not isinstance(prob, (int, float)) or not 0 <= prob <= 1:
            raise MessageError(f"{cwhere}: probability must be a number from 0 to 1, not {prob!r}")
        out["classifications"].append((_text(cls["classifierName"], f"{cwhere}: classifierName"),
                                       _text(cls["classifierParams"], f"{cwhere}: classifierParams"),
                                       _int(cls["classId"], f"{cwhere}: classId", -(2**31)),
                                       float(prob)))
    return out


def ensure_classifier(key: tuple[str, str, str, str], cache: dict) -> tuple[int, bool]:
    """The id of classifier ``(broker, version, name, params)``, registered (with its partition) if new."""
    if key in cache:
        return cache[key], False
    broker, version, name, params = key
    found = BrokerClassifier.objects.filter(brokerName=broker, brokerVersion=version, classifierName=name,
                                            classifierParams=params).order_by("classifierId").first()
    created = found is None
    if created:
        found = BrokerClassifier.objects.create(brokerName=broker, brokerVersion=version, classifierName=name,
                                                classifierParams=params)
        with connection.cursor() as cur:
            cur.execute(f'CREATE TABLE IF NOT EXISTS "elasticc_brokerclassification_{int(found.pk)}" '
                        f'PARTITION OF "elasticc_brokerclassification" FOR VALUES IN ({int(found.pk)})')
    cache[key] = found.pk
    return found.pk, created


def load_messages(messages: list, topic: str, first_offset: int = 0) -> LoadResult:
    """Check every message, then store them all in one transaction (nothing if any is malformed).

    Message ``i`` gets ``topicName = topic`` and ``streamMessageId = first_offset + i``.
    """
    checked = [check_message(m, i) for i, m in enumerate(messages)]
    result = LoadResult()
    with transaction.atomic():
        offsets = [first_offset + i for i in range(len(checked))]
        present = set(BrokerMessage.objects.filter(topicName=topic, streamMessageId__in=offsets)
                      .values_list("streamMessageId", flat=True))
        rows, cache, now = [], {}, datetime.datetime.now(tz=datetime.UTC)
        for offset, msg in zip(offsets, checked, strict=True):
            if offset in present:
                result.duplicates += 1
                continue
            dbmsg = BrokerMessage.objects.create(
                streamMessageId=offset, topicName=topic, alertId=msg["alertId"],
                diaSourceId=msg["diaSourceId"], msgHdrTimestamp=msg["msgHdrTimestamp"],
                elasticcPublishTimestamp=msg["elasticcPublishTimestamp"],
                brokerIngestTimestamp=msg["brokerIngestTimestamp"])
            result.messages += 1
            for name, params, classid, prob in msg["classifications"]:
                key = (msg["brokerName"], msg["brokerVersion"], name, params)
                cid, created = ensure_classifier(key, cache)
                result.new_classifiers += created
                rows.append((cid, classid, prob, now, dbmsg.pk))
        if rows:
            connection.ensure_connection()
            result.classifications = bulkcopy.copy_rows(
                connection.connection, "elasticc_brokerclassification", _CLASS_COLUMNS, rows)
    return result
