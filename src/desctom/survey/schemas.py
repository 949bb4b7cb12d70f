"""The Avro schemas of the messages DESC TOM sends and receives (``elasticc.v0_9_1``).

Built here from the field lists (the wire contract, reference §6) rather than kept as copies of
``.avsc`` files, so the alert schema and the database columns come from one place. The
messages are schemaless Avro: raw binary encoding, no container header, no registry prefix.
"""

from __future__ import annotations

import io
from functools import cache

import fastavro

from desctom.survey.columns import OBJECT_COLUMNS, avro_name

NAMESPACE = "elasticc.v0_9_1"


def _nullable(name: str, kind: str) -> dict:
    return {"name": name, "type": ["null", kind], "default": None}


def _dia_object_fields() -> list[dict]:
    fields = [{"name": "diaObjectId", "type": "long"},
              {"name": "simVersion", "type": ["null", "string"]},
              {"name": "ra", "type": "double"}, {"name": "decl", "type": "double"}]
    for column in OBJECT_COLUMNS[4:-1]:  # everything between decl and isddf: nullable floats
        fields.append(_nullable(avro_name(column), "float"))
    return fields


def alert_schema_dict() -> dict:
    """The ``elasticc.v0_9_1.alert`` schema with its named types inline."""
    dia_source = {"type": "record", "name": "diaSource", "namespace": NAMESPACE, "fields": [
        {"name": "diaSourceId", "type": "long"}, {"name": "diaObjectId", "type": ["null", "long"]},
        {"name": "midPointTai", "type": "double"}, {"name": "filterName", "type": "string"},
        {"name": "ra", "type": "double"}, {"name": "decl", "type": "double"},
        {"name": "psFlux", "type": "float"}, {"name": "psFluxErr", "type": "float"},
        {"name": "snr", "type": "float"}]}
    dia_forced = {"type": "record", "name": "diaForcedSource", "namespace": NAMESPACE, "fields": [
        {"name": "diaForcedSourceId", "type": "long"}, {"name": "diaObjectId", "type": "long"},
        {"name": "midPointTai", "type": "double"}, {"name": "filterName", "type": "string"},
        {"name": "psFlux", "type": "float"}, {"name": "psFluxErr", "type": "float"}]}
    dia_object = {"type": "record", "name": "diaObject", "namespace": NAMESPACE,
                  "fields": _dia_object_fields()}
    return {"type": "record", "name": "alert", "namespace": NAMESPACE, "fields": [
        {"name": "alertId", "type": "long"},
        {"name": "diaSource", "type": dia_source},
        {"name": "prvDiaSources", "type": ["null", {"type": "array", "items": f"{NAMESPACE}.diaSource"}],
         "default": None},
        {"name": "prvDiaForcedSources", "type": ["null", {"type": "array", "items": dia_forced}],
         "default": None},
        {"name": "diaObject", "type": ["null", dia_object], "default": None}]}


def broker_classification_schema_dict() -> dict:
    """The ``elasticc.v0_9_1.brokerClassification`` schema (record name spelled ``brokerClassfication``)."""
    millis = {"type": "long", "logicalType": "timestamp-millis"}
    return {"type": "record", "name": "brokerClassfication", "namespace": NAMESPACE, "fields": [
        {"name": "alertId", "type": "long"}, {"name": "diaSourceId", "type": "long"},
        {"name": "elasticcPublishTimestamp", "type": millis},
        {"name": "brokerIngestTimestamp", "type": ["null", millis]},
        {"name": "brokerName", "type": "string"}, {"name": "brokerVersion", "type": "string"},
        {"name": "classifierName", "type": "string"}, {"name": "classifierParams", "type": "string"},
        {"name": "classifications", "type": {"type": "array", "items": {
            "type": "record", "name": "classificationDict",
            "fields": [{"name": "classId", "type": "int"}, {"name": "probability", "type": "float"}]}}}]}


@cache
def alert_schema():
    """The parsed alert schema (fastavro)."""
    return fastavro.parse_schema(alert_schema_dict())


@cache
def dia_object_schema():
    """The parsed ``diaObject`` record schema on its own (for encoding objects once per batch)."""
    return fastavro.parse_schema({"type": "record", "name": "diaObject", "namespace": NAMESPACE,
                                  "fields": _dia_object_fields()})


@cache
def broker_classification_schema():
    """The parsed broker-classification schema (fastavro)."""
    return fastavro.parse_schema(broker_classification_schema_dict())


def encode(schema, record: dict) -> bytes:
    """Schemaless Avro bytes of ``record``."""
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record)
    return buf.getvalue()


def decode(schema, data: bytes) -> dict:
    """The record in schemaless Avro ``data``."""
    return fastavro.schemaless_reader(io.BytesIO(data), schema)
