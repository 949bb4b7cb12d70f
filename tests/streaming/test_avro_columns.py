"""Column-wise Avro encoding gives exactly the bytes of fastavro's record-by-record encoding."""

import io
import random

import fastavro
import numpy as np
import pytest

from desctom.survey.avro_columns import array_bytes, encode_records, varint

SCHEMA = fastavro.parse_schema({"type": "record", "name": "r", "fields": [
    {"name": "a", "type": "long"}, {"name": "b", "type": ["null", "long"]}, {"name": "c", "type": "double"},
    {"name": "d", "type": "string"}, {"name": "e", "type": "float"}]})


def reference(record):
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, SCHEMA, record)
    return buf.getvalue()


@pytest.mark.parametrize("value", [0, 1, -1, 63, 64, -64, -65, 2**31, 155218500131, -(2**63), 2**63 - 1])
def test_varint(value):
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, "long", value)
    assert varint(value) == buf.getvalue()


def test_records_match_fastavro():
    rng = random.Random(3)
    n = 500
    records = [{"a": rng.choice([0, -1, 5, rng.randint(-(2**62), 2**62)]), "b": rng.randint(0, 2**40),
                "c": rng.uniform(-1e5, 1e5), "d": rng.choice(["u", "g", "Y", "", "wide-band ü"]),
                "e": rng.uniform(-1e6, 1e6)} for _ in range(n)]
    enc = encode_records([("long", [r["a"] for r in records]), ("nullable-long", [r["b"] for r in records]),
                          ("double", [r["c"] for r in records]), ("string", [r["d"] for r in records]),
                          ("float", [r["e"] for r in records])])
    assert len(enc) == n
    for i, record in enumerate(records):
        assert enc.record(i) == reference(record)
    assert enc.span(10, 20) == b"".join(reference(r) for r in records[10:20])


def test_empty_and_arrays():
    enc = encode_records([("long", np.array([], dtype=np.int64)), ("double", [])])
    assert len(enc) == 0 and enc.span(0, 0) == b""
    assert array_bytes(0, b"") == b"\x00"
    assert array_bytes(2, b"xy") == b"\x04xy\x00"
