"""Strict checks of the brokerClassification records brokers PUT to ``/elasticc2/brokermessage/``.

Every message of a request is checked before anything is stored; the first problem found is
reported as ``"message <index>: <field> ..."`` (index 0-based, also for a single object).
Timestamps are milliseconds since 1970-01-01 UTC, integers or floats (rounded to the ms). The value
limits are those of :mod:`desctom.elasticc2.models.messagerules`, shared with the Kafka poller.
"""

from __future__ import annotations

import json

from desctom.core.bounds import INT64
from desctom.elasticc2.models.messagerules import (
    MAX_CHARS,
    MAX_CLASSIFICATIONS,
    MAX_CLASSIFIER_BYTES,
    MAX_MS,
    NONEMPTY_KEYS,
    PROBABILITY_RULE,
    SMALLINT,
    STRING_KEYS,
    TIME_RULE,
    ms_ok,
    probability_ok,
)

#: At most this many messages in one PUT (more: 413).
MAX_MESSAGES = 10_000
__all__ = ["INT64", "MAX_CHARS", "MAX_CLASSIFICATIONS", "MAX_CLASSIFIER_BYTES", "MAX_MESSAGES", "MAX_MS",
           "SMALLINT", "MessageError", "check_body", "check_message"]
ID_KEYS = ("alertId", "diaSourceId")
TIME_KEYS = ("elasticcPublishTimestamp", "brokerIngestTimestamp")
NULLABLE_TIME_KEYS = ("brokerIngestTimestamp", "brokerPublishTimestamp")
REQUIRED_KEYS = (*ID_KEYS, *TIME_KEYS, *STRING_KEYS, "classifications")
OPTIONAL_KEYS = ("brokerPublishTimestamp",)
CLASSIFICATION_KEYS = ("classId", "probability")


class MessageError(ValueError):
    """A request body that cannot be stored; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def shown(value, limit: int = 60) -> str:
    """``value`` as JSON, shortened for an error message."""
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), "a number")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int(value, name: str, bounds: tuple[int, int] = INT64, what: str = "a 64-bit integer") -> int:
    """``value`` if it is an integer (not a boolean, not a float) within ``bounds``."""
    if not isinstance(value, int) or isinstance(value, bool) or not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{name} must be {what}, not {shown(value)}")
    return value


def check_ms(value, name: str, nullable: bool) -> int | None:
    """A timestamp in ms since the epoch (int or float, rounded to the ms), or ``None`` if allowed."""
    if value is None and nullable:
        return None
    if not _is_number(value) or not ms_ok(value):
        null = " or null" if nullable else ""
        raise ValueError(f"{name} must be {TIME_RULE}{null}, not {shown(value)}")
    return int(round(value))


def check_string(value, name: str) -> str:
    """A string PostgreSQL can store (no NUL, valid UTF-8), within its length limit."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {_kind(value)} ({shown(value)})")
    if name in NONEMPTY_KEYS and not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > MAX_CHARS[name]:
        raise ValueError(f"{name} must be at most {MAX_CHARS[name]} characters long, not {len(value)}")
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name} is not valid Unicode ({exc.reason})") from exc
    return value


def check_classifications(value) -> tuple[list[int], list[float]]:
    """``(classIds, probabilities)`` of a ``classifications`` list."""
    if not isinstance(value, list):
        raise ValueError(f"classifications must be a list, not {_kind(value)}")
    if len(value) > MAX_CLASSIFICATIONS:
        raise ValueError(f"classifications has {len(value)} entries, at most {MAX_CLASSIFICATIONS} allowed")
    ids, probs, seen = [], [], set()
    for k, entry in enumerate(value):
        where = f"classifications[{k}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be an object {{\"classId\": ..., \"probability\": ...}}, "
                             f"not {_kind(entry)}")
        _check_keys(entry, CLASSIFICATION_KEYS, (), where)
        class_id = check_int(entry["classId"], f"{where}.classId", SMALLINT,
                             "an integer from -32768 to 32767")
        if class_id in seen:
            raise ValueError(f"{where}.classId {class_id} appears more than once")
        seen.add(class_id)
        prob = entry["probability"]
        if not _is_number(prob) or not probability_ok(prob):
            raise ValueError(f"{where}.probability must be {PROBABILITY_RULE}, not {shown(prob)}")
        ids.append(class_id)
        probs.append(float(prob))
    return ids, probs


def _check_keys(obj: dict, required, optional, where: str = "") -> None:
    missing = [k for k in required if k not in obj]
    if missing:
        raise ValueError(f"missing {', '.join(f'{where}.{k}' if where else k for k in missing)}")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        known = ", ".join([*required, *optional])
        raise ValueError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(shown(k, 40) for k in unknown)}{f' in {where}' if where else ''} "
                         f"(known: {known})")


def check_message(msg: dict) -> tuple[dict, int | None]:
    """One message as ``MessageBatch.add`` takes it (timestamps in int ms), and its publish time."""
    _check_keys(msg, REQUIRED_KEYS, OPTIONAL_KEYS)
    clean = {k: check_int(msg[k], k) for k in ID_KEYS}
    for k in TIME_KEYS:
        clean[k] = check_ms(msg[k], k, k in NULLABLE_TIME_KEYS)
    for k in STRING_KEYS:
        clean[k] = check_string(msg[k], k)
    size = sum(len(clean[k].encode("utf-8")) for k in STRING_KEYS)
    if size > MAX_CLASSIFIER_BYTES:
        raise ValueError(f"{', '.join(STRING_KEYS)} together must be at most {MAX_CLASSIFIER_BYTES} "
                         f"bytes of UTF-8, not {size}")
    ids, probs = check_classifications(msg["classifications"])
    clean["classifications"] = [{"classId": c, "probability": p} for c, p in zip(ids, probs, strict=True)]
    published = check_ms(msg.get("brokerPublishTimestamp"), "brokerPublishTimestamp", True)
    return clean, published


def check_body(data) -> list[tuple[dict, int | None]]:
    """Every message of a PUT body (one object or a non-empty list), checked; else :class:`MessageError`."""
    if isinstance(data, dict):
        data = [data]
    elif not isinstance(data, list):
        raise MessageError(f"the body must be a message (a JSON object) or a list of them, not {_kind(data)}")
    if not data:
        raise MessageError("no messages: the body is an empty list")
    if len(data) > MAX_MESSAGES:
        raise MessageError(f"too many messages: {len(data)} in one request, at most {MAX_MESSAGES}; "
                           "send them in several requests", 413)
    result = []
    for index, msg in enumerate(data):
        if not isinstance(msg, dict):
            raise MessageError(f"message {index} must be a JSON object, not {_kind(msg)}")
        try:
            result.append(check_message(msg))
        except ValueError as exc:
            raise MessageError(f"message {index}: {exc}") from exc
    return result
