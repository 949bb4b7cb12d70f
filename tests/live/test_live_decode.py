"""The live decoder: polars' batch reading equals fastavro's, bad messages are singled out, schemas."""

import io
import json

import fastavro
import pytest
from live_helpers import decode as fastavro_decode

from desctom.live.workers.adapters import JsonBrokerMessageAdapter
from desctom.survey.lsst_decode import FORCED_COLUMNS, SOURCE_COLUMNS, AlertDecoder
from desctom.survey.lsst_schemas import (
    SchemaError,
    broker_message_schema,
    confluent_frame,
    flatten_registry_schema,
    known_versions,
    parse_version,
    schema_id,
    split_confluent,
    version_of_id,
)


def test_schema_versions_ids_and_frames():
    assert parse_version("lsst.v11_1") == (11, 1) and schema_id("lsst.v11_1") == 1101
    assert version_of_id(1100) == "lsst.v11_0" and version_of_id(902) == "lsst.v9_2"
    assert {"lsst.v11_0", "lsst.v11_1"} <= set(known_versions())
    with pytest.raises(SchemaError, match="not an LSST alert schema version"):
        parse_version("v11")
    with pytest.raises(SchemaError, match="unknown LSST alert schema lsst.v99_0"):
        AlertDecoder("alert", version="lsst.v99_0")
    assert split_confluent(confluent_frame(1101, b"body")) == (1101, b"body")
    assert split_confluent(b"\x02body") is None


def test_the_desc_broker_message_schema_is_the_shared_one():
    """Our BrokerMessage for lsst.v11_1 encodes exactly as DESC's published .avsc file."""
    from desctom.testing.paths import SHARED_DATA

    path = SHARED_DATA / "schema" / "fastdb" / "fastdb.v11_1_0.BrokerMessage.avsc"
    theirs = json.loads(path.read_text())
    ours = broker_message_schema("lsst.v11_1")
    assert [f["name"] for f in ours["fields"]] == [f["name"] for f in theirs["fields"]]
    def shape(fields):
        return [(f["name"], f["type"]) for f in fields]

    assert shape(ours["fields"][-1]["type"]["items"]["fields"]) == \
        shape(theirs["fields"][-1]["type"]["items"]["fields"])
    assert shape(ours["fields"][-4:-1]) == shape(theirs["fields"][-4:-1])


def test_polars_reads_every_value_fastavro_reads(hard_stream):
    sim, messages = hard_stream
    for kind in ("alert", "brokermessage"):
        chosen = [m for m in messages if m.kind == kind][:400]
        batch = AlertDecoder(kind).decode([m.value for m in chosen])
        assert not batch.bad and len(batch) == len(chosen)
        sources, forced, expected_msgs = {}, {}, []
        for m in chosen:
            _, rec = fastavro_decode(m.value, kind)
            for s in [rec["diaSource"], *(rec["prvDiaSources"] or [])]:
                sources[s["diaSourceId"]] = s
            for f in rec["prvDiaForcedSources"] or []:
                forced[f["diaForcedSourceId"]] = f
            expected_msgs.append(rec)
        got = {r["diasourceid"]: r for r in batch.sources.to_dicts()}
        assert set(got) == set(sources)
        for sid, rec in sources.items():
            for avro, col in SOURCE_COLUMNS.items():
                assert got[sid][col] == pytest.approx(rec.get(avro), rel=1e-6), (sid, avro)
        got_f = {r["diaforcedsourceid"]: r for r in batch.forced.to_dicts()}
        assert set(got_f) == set(forced)
        for fid, rec in list(forced.items())[:2000]:
            for avro, col in FORCED_COLUMNS.items():
                assert got_f[fid][col] == pytest.approx(rec.get(avro), rel=1e-6), (fid, avro)
        rows = batch.messages.to_dicts()
        assert [r["diasourceid"] for r in rows] == [rec["diaSourceId"] for rec in expected_msgs]
        if kind == "brokermessage":
            for r, rec in zip(rows, expected_msgs, strict=True):
                assert r["classifiername"] == rec["classifierName"]
                assert r["classid"] == [c["classId"] for c in rec["classifications"]]
                assert r["probability"] == pytest.approx([c["probability"] for c in rec["classifications"]])


def test_bad_messages_are_named_and_the_rest_decoded(hard_stream):
    _, messages = hard_stream
    good = [m.value for m in messages if m.kind == "brokermessage"][:50]
    body = split_confluent(good[0])[1]
    payloads = [*good[:10], b"", b"\x00\x00\x00\x03\xe7" + body, good[10][:len(good[10]) // 2],
                good[11] + b"\x01\x02", b"\x07" * 300, *good[12:]]
    batch = AlertDecoder("brokermessage").decode(payloads)
    assert sorted(batch.bad) == [10, 11, 12, 13, 14]
    assert batch.bad[10] == "empty message" and "unknown schema id 999" in batch.bad[11]
    assert "bytes left after the message" in batch.bad[13]
    assert len(batch) == 48 and 10 not in batch.messages["index"].to_list()


def test_a_registry_schema_with_named_references_is_flattened():
    schema = broker_message_schema("lsst.v11_1")
    # a registry returns named types defined once and referenced by name afterwards
    text = json.dumps({**schema, "fields": [
        *schema["fields"][:3],
        {"name": "diaSource",
         "type": {**schema["fields"][3]["type"], "name": "diaSource", "namespace": "lsst.v11_1"}},
        {"name": "prvDiaSources", "type": ["null", {"type": "array", "items": "lsst.v11_1.diaSource"}]},
        *schema["fields"][5:]]})
    flat = flatten_registry_schema(text)
    assert flat["fields"][4]["type"][1]["items"]["fields"] == schema["fields"][3]["type"]["fields"]
    fastavro.parse_schema(flat)
    with pytest.raises(SchemaError, match="not JSON"):
        flatten_registry_schema("{nope")


def test_the_json_adapter_makes_broker_messages(hard_stream):
    _, messages = hard_stream
    m = next(m for m in messages if m.kind == "alert")
    _, alert = fastavro_decode(m.value, "alert")
    alert = {k: v for k, v in alert.items()
             if k in ("diaSourceId", "diaSource", "prvDiaSources", "diaObject")}
    doc = {"alert": alert, "broker": "J", "classifier": "JC", "classifier_version": "3",
           "probabilities": {"111": 0.5, "2222": 0.25}}
    values = [json.dumps(doc).encode(), b"{not json", json.dumps({**doc, "probabilities": {}}).encode(),
              json.dumps({**doc, "probabilities": {"111": 1.5}}).encode()]
    bodies, bad = JsonBrokerMessageAdapter().convert(values)
    assert sorted(bad) == [1, 2, 3] and "not JSON" in bad[1] and "outside [0, 1]" in bad[3]
    batch = AlertDecoder("brokermessage", wire="schemaless").decode(bodies[:1])
    row = batch.messages.to_dicts()[0]
    assert (row["brokername"], row["classifiername"], row["classifierversion"]) == ("J", "JC", "3")
    assert row["classid"] == [111, 2222, 200] and row["probability"] == pytest.approx([0.5, 0.25, 0.25])
    assert row["diasourceid"] == alert["diaSourceId"]
    reread = fastavro.schemaless_reader(io.BytesIO(bodies[0]),
                                        fastavro.parse_schema(broker_message_schema("lsst.v11_1")))
    # (a lsst.v11_0 alert: the fields v11_1 added are null)
    assert {k: reread["diaSource"][k] for k in alert["diaSource"]} == alert["diaSource"]
