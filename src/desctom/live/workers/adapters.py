"""Brokers whose messages are not DESC's Avro ``BrokerMessage``: one adapter class each.

An adapter turns one raw Kafka message into a ``BrokerMessage`` record (a dict with the fields
of :func:`desctom.survey.lsst_schemas.broker_message_schema`), or raises ``ValueError`` naming
what is wrong (the message is then quarantined and skipped). The poller encodes the records and
stores them like any other. A stream names its adapter in the broker configuration::

    [[brokers]]
    name = "jsonbroker"
    format = "desc-brokermessage"
    adapter = "desctom.live.workers.adapters:JsonBrokerMessageAdapter"
"""

from __future__ import annotations

import io
import json

import fastavro

from desctom.survey.lsst_schemas import DEFAULT_VERSION, broker_message_schema


class MessageAdapter:
    """Base class: ``to_record(value) -> dict`` is what a broker-specific adapter writes."""

    #: The alert schema version the records follow.
    version = DEFAULT_VERSION

    def __init__(self, stream=None):
        self.stream = stream
        self._schema = fastavro.parse_schema(broker_message_schema(self.version))

    def to_record(self, value: bytes) -> dict:
        raise NotImplementedError

    def convert(self, values: list[bytes]) -> tuple[list[bytes], dict[int, str]]:
        """Avro bodies (schemaless, :attr:`version`) of ``values``; ``{index: error}`` for the bad ones
        (their body is empty)."""
        out, bad = [], {}
        for i, value in enumerate(values):
            try:
                record = self.to_record(value)
                buf = io.BytesIO()
                fastavro.schemaless_writer(buf, self._schema, record)
                out.append(buf.getvalue())
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                bad[i] = f"{type(self).__name__}: {type(exc).__name__}: {exc}"[:300]
                out.append(b"")
        return out, bad


class JsonBrokerMessageAdapter(MessageAdapter):
    """A broker publishing JSON: ``{"alert": {LSST alert fields}, "broker": ..., "classifier": ...,
    "classifier_version": ..., "probabilities": {"<classId>": p, ...}}``.

    Missing nullable alert fields are filled with null; the probabilities become DESC's
    ``classifications`` list, with class 200 (Residual) taking what does not sum to 1.
    """

    def to_record(self, value: bytes) -> dict:
        try:
            doc = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("alert"), dict):
            raise ValueError("no 'alert' object")
        probs = doc.get("probabilities")
        if not isinstance(probs, dict) or not probs:
            raise ValueError("'probabilities' must be a non-empty object {classId: probability}")
        classes = [{"classId": int(k), "probability": float(v)} for k, v in probs.items()]
        if any(not 0.0 <= c["probability"] <= 1.0 for c in classes):
            raise ValueError("a probability is outside [0, 1]")
        rest = 1.0 - sum(c["probability"] for c in classes)
        if rest > 1e-6 and not any(c["classId"] == 200 for c in classes):
            classes.append({"classId": 200, "probability": rest})
        record = dict(doc["alert"])
        for name in ("observation_reason", "target_name", "prvDiaSources", "prvDiaForcedSources", "diaObject",
                     "ssSource", "mpc_orbits", "cutoutDifference", "cutoutScience", "cutoutTemplate"):
            record.setdefault(name, None)
        for key in ("broker", "classifier", "classifier_version"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise ValueError(f"'{key}' must be a non-empty string")
        record.update(brokerName=doc["broker"], classifierName=doc["classifier"],
                      classifierVersion=doc["classifier_version"], classifications=classes)
        return record
