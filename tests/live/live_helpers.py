"""Helpers of the live-stream tests: decode what the simulator sends."""

from __future__ import annotations

import io
from functools import cache

import fastavro

from desctom.survey.lsst_schemas import alert_schema, broker_message_schema, split_confluent, version_of_id


@cache
def parsed(kind: str, version: str):
    """The parsed schema of an ``alert`` or ``brokermessage`` of ``version``."""
    return fastavro.parse_schema(alert_schema(version) if kind == "alert" else broker_message_schema(version))


def decode(value: bytes, kind: str, version: str | None = None) -> tuple[str, dict]:
    """``(version, record)`` of a message; the version comes from the Confluent frame, else ``version``.
    Fails if the body is not exactly one record of that schema."""
    framed = split_confluent(value)
    if framed:
        version, body = version_of_id(framed[0]), framed[1]
    else:
        body = value
    assert version, "a schemaless message needs its version"
    stream = io.BytesIO(body)
    record = fastavro.schemaless_reader(stream, parsed(kind, version))
    assert stream.tell() == len(body), "bytes left after the record"
    return version, record


def encode(record: dict, kind: str, version: str) -> bytes:
    """fastavro's own encoding of ``record`` (to compare with the simulator's)."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed(kind, version), record)
    return out.getvalue()
