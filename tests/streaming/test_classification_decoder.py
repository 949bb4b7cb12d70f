"""The vectorised brokerClassification decoder agrees with fastavro and flags every malformed message."""

import io

import fastavro
import numpy as np
import pytest

from desctom.survey import schemas
from desctom.survey.avro_columns import varint
from desctom.survey.classification_decoder import decode_classifications


def record(i, rng, nclasses=20, ingest=True, names=("FakeBroker", "v1.0", "RandomSNType", "Perfect")):
    p = rng.random(nclasses).astype(np.float32)
    return {"alertId": int(rng.integers(-2**62, 2**62)), "diaSourceId": i * 7 - 3,
            "elasticcPublishTimestamp": 1_700_000_000_000 + i,
            "brokerIngestTimestamp": 1_700_000_000_500 + i if ingest else None,
            "brokerName": names[0], "brokerVersion": names[1], "classifierName": names[2],
            "classifierParams": names[3],
            "classifications": [{"classId": int(c), "probability": float(q)}
                                for c, q in zip(rng.integers(-32768, 32767, nclasses), p, strict=True)]}


def encode(rec):
    """Schemaless Avro, timestamps passed as raw ms (the schema's logical types dropped)."""
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, _raw_schema(), rec)
    return buf.getvalue()


def _raw_schema():
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "logicalType"}
        return [strip(v) for v in x] if isinstance(x, list) else x
    return fastavro.parse_schema(strip(schemas.broker_classification_schema_dict()))


def test_decodes_what_fastavro_wrote():
    rng = np.random.default_rng(3)
    recs = [record(i, rng, nclasses=int(rng.integers(0, 25)), ingest=bool(i % 3),
                   names=("Bröker", "", f"clf{i % 4}", "p" * (i % 200))) for i in range(500)]
    out = decode_classifications([encode(r) for r in recs])
    assert out.valid.all()
    for i, rec in enumerate(recs):
        assert out.alert_id[i] == rec["alertId"] and out.diasource_id[i] == rec["diaSourceId"]
        assert out.elasticc_publish_ms[i] == rec["elasticcPublishTimestamp"]
        ingest = rec["brokerIngestTimestamp"]
        assert (out.broker_ingest_ms.mask[i] and ingest is None) or out.broker_ingest_ms[i] == ingest
        assert out.classifiers[out.classifier[i]] == (rec["brokerName"], rec["brokerVersion"],
                                                      rec["classifierName"], rec["classifierParams"])
        k = out.nclasses[i]
        assert k == len(rec["classifications"])
        assert out.classid[i, :k].tolist() == [c["classId"] for c in rec["classifications"]]
        assert np.array_equal(out.probability[i, :k],
                              np.array([c["probability"] for c in rec["classifications"]], np.float32))
    assert len(out.classifiers) == len({(r["classifierName"], r["classifierParams"]) for r in recs})


def test_negative_block_counts_and_several_blocks():
    rng = np.random.default_rng(1)
    rec = record(1, rng, nclasses=3)
    whole = encode(rec)
    head = whole[:whole.index(b"Perfect") + len(b"Perfect")]
    items = [varint(c["classId"]) + np.float32(c["probability"]).tobytes() for c in rec["classifications"]]
    # block of 2 with negative count + byte size, then a block of 1, then the end
    body = varint(-2) + varint(len(items[0] + items[1])) + items[0] + items[1] + varint(1) + items[2] + b"\0"
    out = decode_classifications([head + body, whole])
    assert out.valid.all()
    assert out.classid[0, :3].tolist() == out.classid[1, :3].tolist()
    assert out.nclasses.tolist() == [3, 3]


@pytest.mark.parametrize("mangle, reason", [
    (lambda b: b[:-3], "truncated"),
    (lambda b: b + b"\0", "trailing bytes"),
    (lambda b: b[:2], "truncated"),
    (lambda b: b.replace(b"FakeBroker", b"Fake\xffroker"), "not valid UTF-8"),
    (lambda b: b.replace(b"FakeBroker", b"Fake\x00roker"), "NUL character"),
    (lambda b: b.replace(b"\x18RandomSNType", b"\xa4\x03" + b"R" * 210), "classifierName longer than 200"),
    (lambda b: b.replace(b"\x0ePerfect", b"\xa0\x1f" + b"P" * 2000), "longer than 2000 bytes together"),
])
def test_malformed_messages_are_flagged_not_guessed(mangle, reason):
    rng = np.random.default_rng(2)
    good = encode(record(1, rng))
    out = decode_classifications([good, mangle(good), good])
    assert out.valid.tolist() == [True, False, True]
    assert reason in out.error[1]
    assert out.error[0] is None and out.alert_id[2] == out.alert_id[0]


def test_bad_union_index_and_absurd_counts():
    rng = np.random.default_rng(4)
    good = encode(record(1, rng, ingest=False))
    prefix = varint(1) + varint(2) + varint(3)
    bad_union = prefix + varint(5) + good[len(prefix) + 1:]
    huge = good[:-1] + varint(10**9) + b"\0"
    out = decode_classifications([bad_union, huge, b""])
    assert not out.valid.any()
    assert "union" in out.error[0] and "count exceeds" in out.error[1] and "truncated" in out.error[2]


def test_speed_is_not_asserted_but_large_batches_work():
    rng = np.random.default_rng(5)
    recs = [encode(record(i, rng)) for i in range(20_000)]
    out = decode_classifications(recs)
    assert out.valid.all() and out.classid.shape == (20_000, 20) and len(out.classifiers) == 1
