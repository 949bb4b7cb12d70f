"""Decode batches of LSST alerts and DESC ``BrokerMessage``s into columns, fast.

A batch of messages of one schema is wrapped into an in-memory Avro container (the schema's
header, then every message body in one block) and read by polars' Avro reader, in Rust: about
5,000 alerts/s with 30 previous sources and 100 forced sources each, against ~400/s for fastavro
decoding them one by one. What comes out is four tables: one row per message, the detections
(each alert's ``diaSource`` and ``prvDiaSources``), the forced sources and the objects.

One undecodable message must not cost the batch: the decoded rows are checked (the alert's
``diaSourceId`` is its ``diaSource``'s, positions and times are in range); if the block fails or a
check fails, each message is checked alone with fastavro (which also catches trailing bytes), the
bad ones are reported with the reason, and the rest are decoded again together.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import fastavro
import polars as pl

from desctom.survey.avro_wire import zigzag_long
from desctom.survey.lsst_schemas import (
    DEFAULT_VERSION,
    SchemaError,
    alert_schema,
    broker_message_schema,
    split_confluent,
    version_of_id,
)

#: diaSource columns kept (Avro name -> column name in ``diasource``).
SOURCE_COLUMNS = {
    "diaSourceId": "diasourceid", "diaObjectId": "diaobjectid", "visit": "visit", "detector": "detector",
    "midpointMjdTai": "midpointmjdtai", "band": "band", "ra": "ra", "dec": "dec", "psfFlux": "psfflux",
    "psfFluxErr": "psffluxerr", "scienceFlux": "scienceflux", "scienceFluxErr": "sciencefluxerr",
    "snr": "snr", "reliability": "reliability", "extendedness": "extendedness", "isDipole": "isdipole",
    "timeProcessedMjdTai": "timeprocessedmjdtai", "timeWithdrawnMjdTai": "timewithdrawnmjdtai"}
#: diaForcedSource columns kept.
FORCED_COLUMNS = {
    "diaForcedSourceId": "diaforcedsourceid", "diaObjectId": "diaobjectid", "visit": "visit",
    "detector": "detector", "midpointMjdTai": "midpointmjdtai", "band": "band", "ra": "ra", "dec": "dec",
    "psfFlux": "psfflux", "psfFluxErr": "psffluxerr", "scienceFlux": "scienceflux",
    "scienceFluxErr": "sciencefluxerr", "timeProcessedMjdTai": "timeprocessedmjdtai",
    "timeWithdrawnMjdTai": "timewithdrawnmjdtai"}
#: diaObject columns kept.
OBJECT_COLUMNS = {"diaObjectId": "diaobjectid", "ra": "ra", "dec": "dec",
                  "validityStartMjdTai": "validitystartmjdtai"}
#: Message kinds: plain LSST alerts, or DESC BrokerMessages (alert + classifications).
KINDS = ("alert", "brokermessage")
MJD_RANGE = (40000.0, 100000.0)
_TOP = ["diaSourceId", "diaSource", "prvDiaSources", "prvDiaForcedSources", "diaObject"]
_BROKER = ["brokerName", "classifierName", "classifierVersion", "classifications"]


@dataclass
class DecodedBatch:
    """A decoded batch. ``messages.index`` is each message's position in the input list."""

    messages: pl.DataFrame
    sources: pl.DataFrame
    forced: pl.DataFrame
    objects: pl.DataFrame
    bad: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.messages.height


class _Container:
    """An Avro container header for one schema (made once) and its sync marker."""

    def __init__(self, schema: dict):
        self.parsed = fastavro.parse_schema(schema)
        buf = io.BytesIO()
        fastavro.writer(buf, self.parsed, [], codec="null")
        self.header = buf.getvalue()
        self.sync = self.header[-16:]

    def wrap(self, bodies: list[bytes]) -> bytes:
        payload = b"".join(bodies)
        count, size = zigzag_long(len(bodies)), zigzag_long(len(payload))
        return b"".join((self.header, count, size, payload, self.sync))


@cache
def _container_for(kind: str, version: str) -> _Container:
    schema = broker_message_schema(version) if kind == "brokermessage" else alert_schema(version)
    return _Container(schema)


class AlertDecoder:
    """Decodes one stream's messages.

    ``wire``: ``"schemaless"`` (bare Avro bodies of ``version``), ``"confluent"`` (framed with a schema
    id) or ``"auto"`` (framed if it starts with byte 0). ``schema_for_id(id)`` returns the schema of a
    registry id (a dict, named types inline) or ``None``; without it, ids are Rubin's
    (``major * 100 + minor``) and the schemas come from ``lsst-alert-packet``.
    """

    def __init__(self, kind: str = "alert", *, version: str = DEFAULT_VERSION, wire: str = "auto",
                 schema_for_id: Callable[[int], dict | None] | None = None):
        if kind not in KINDS:
            raise SchemaError(f"unknown message kind {kind!r} (known: {', '.join(KINDS)})")
        if wire not in ("auto", "schemaless", "confluent"):
            raise SchemaError(f"unknown wire format {wire!r} (auto, schemaless or confluent)")
        self.kind = kind
        self.version = version
        self.wire = wire
        self.schema_for_id = schema_for_id
        _container_for(kind, version)  # an unknown version fails now, not on the first message
        self._by_id: dict[int, tuple[_Container, str] | None] = {}

    # -- which schema ----------------------------------------------------------------------------
    def _container_of_id(self, registry_id: int) -> tuple[_Container, str] | None:
        if registry_id not in self._by_id:
            found = None
            if self.schema_for_id is not None:
                schema = self.schema_for_id(registry_id)
                if schema is not None:
                    found = (_Container(schema), str(schema.get("name", registry_id)))
            else:
                version = version_of_id(registry_id)
                try:
                    found = (_container_for(self.kind, version), version)
                except SchemaError:
                    found = None
            self._by_id[registry_id] = found
        return self._by_id[registry_id]

    def _route(self, payload: bytes) -> tuple[tuple, bytes] | str:
        """``((group key), body)`` or an error text."""
        framed = split_confluent(payload) if self.wire != "schemaless" else None
        if framed is None:
            if self.wire == "confluent":
                return "not in the Confluent wire format (no magic byte 0 and schema id)"
            if not payload:
                return "empty message"
            return (("version", self.version), payload)
        registry_id, body = framed
        if self._container_of_id(registry_id) is None:
            return f"unknown schema id {registry_id}"
        return (("id", registry_id), body)

    def _group_container(self, key: tuple) -> tuple[_Container, str, int | None]:
        if key[0] == "version":
            return _container_for(self.kind, key[1]), key[1], None
        container, version = self._container_of_id(key[1])
        return container, version, key[1]

    # -- decoding ---------------------------------------------------------------------------------
    def decode(self, payloads: list[bytes]) -> DecodedBatch:
        """Decode ``payloads``; the bad ones are left out and named in ``bad`` ({index: reason})."""
        bad: dict[int, str] = {}
        groups: dict[tuple, list[tuple[int, bytes]]] = {}
        for i, payload in enumerate(payloads):
            routed = self._route(payload)
            if isinstance(routed, str):
                bad[i] = routed
            else:
                groups.setdefault(routed[0], []).append((i, routed[1]))
        frames = []
        for key, members in groups.items():
            container, version, registry_id = self._group_container(key)
            frame, errors = self._decode_group(container, members)
            bad.update(errors)
            if frame is not None and frame.height:
                frames.append(frame.with_columns(pl.lit(version).alias("schemaversion"),
                                                 pl.lit(registry_id, dtype=pl.Int32).alias("schemaid")))
        return self._tables(frames, bad)

    def _read(self, container: _Container, bodies: list[bytes]) -> pl.DataFrame:
        columns = _TOP + (_BROKER if self.kind == "brokermessage" else [])
        present = [f["name"] for f in container.parsed["fields"]]
        return pl.read_avro(io.BytesIO(container.wrap(bodies)), columns=[c for c in columns if c in present])

    def _decode_group(self, container: _Container,
                      members: list[tuple[int, bytes]]) -> tuple[pl.DataFrame | None, dict[int, str]]:
        index = [i for i, _ in members]
        try:
            frame = self._read(container, [b for _, b in members])
            if frame.height == len(members) and _problems(frame).is_empty():
                return frame.with_columns(pl.Series("index", index, dtype=pl.Int64)), {}
        except BaseException as exc:  # polars raises ComputeError, or a PanicException (BaseException)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
        errors = {}
        good = []
        for i, body in members:
            problem = _check_alone(container, body)
            if problem:
                errors[i] = problem
            else:
                good.append((i, body))
        if not good:
            return None, errors
        frame = self._read(container, [b for _, b in good])
        return frame.with_columns(pl.Series("index", [i for i, _ in good], dtype=pl.Int64)), errors

    def _tables(self, frames: list[pl.DataFrame], bad: dict[int, str]) -> DecodedBatch:
        if not frames:
            return _empty(self.kind, bad)
        sources, forced, objects, messages = [], [], [], []
        for frame in frames:
            src = frame.select(pl.col("diaSource").struct.unnest())
            prv = frame.select(pl.col("prvDiaSources")).explode("prvDiaSources").drop_nulls()
            if prv.height:
                src = pl.concat([src, prv.select(pl.col("prvDiaSources").struct.unnest())], how="diagonal")
            sources.append(_pick(src, SOURCE_COLUMNS))
            fs = frame.select(pl.col("prvDiaForcedSources")).explode("prvDiaForcedSources").drop_nulls()
            if fs.height:
                forced.append(_pick(fs.select(pl.col("prvDiaForcedSources").struct.unnest()), FORCED_COLUMNS))
            ob = frame.select(pl.col("diaObject")).drop_nulls()
            if ob.height:
                objects.append(_pick(ob.select(pl.col("diaObject").struct.unnest()), OBJECT_COLUMNS))
            msg = frame.select(
                "index", pl.col("diaSourceId").alias("diasourceid"),
                pl.col("diaSource").struct.field("diaObjectId").alias("diaobjectid"),
                pl.col("diaSource").struct.field("ra").alias("ra"),
                pl.col("diaSource").struct.field("dec").alias("dec"),
                pl.col("diaSource").struct.field("midpointMjdTai").alias("midpointmjdtai"),
                "schemaversion", "schemaid")
            if self.kind == "brokermessage":
                msg = msg.with_columns(
                    frame["brokerName"].alias("brokername"), frame["classifierName"].alias("classifiername"),
                    frame["classifierVersion"].alias("classifierversion"),
                    frame["classifications"].list.eval(pl.element().struct.field("classId")).alias("classid"),
                    frame["classifications"].list.eval(pl.element().struct.field("probability"))
                    .alias("probability"))
            messages.append(msg)
        return DecodedBatch(
            messages=pl.concat(messages, how="vertical_relaxed").sort("index"),
            sources=pl.concat(sources, how="vertical_relaxed").unique("diasourceid", keep="first"),
            forced=(pl.concat(forced, how="vertical_relaxed").unique("diaforcedsourceid", keep="first")
                    if forced else _empty_frame(FORCED_COLUMNS)),
            objects=(pl.concat(objects, how="vertical_relaxed").unique("diaobjectid", keep="last")
                     if objects else _empty_frame(OBJECT_COLUMNS)),
            bad=bad)


_TYPES = {"diasourceid": pl.Int64, "diaforcedsourceid": pl.Int64, "diaobjectid": pl.Int64,
          "visit": pl.Int64, "detector": pl.Int32, "band": pl.Utf8, "isdipole": pl.Boolean,
          "midpointmjdtai": pl.Float64, "ra": pl.Float64, "dec": pl.Float64,
          "timeprocessedmjdtai": pl.Float64, "timewithdrawnmjdtai": pl.Float64,
          "validitystartmjdtai": pl.Float64}


def _pick(frame: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    """``columns`` of ``frame`` renamed, typed; a field an older schema lacks is null."""
    return frame.select([
        (pl.col(avro) if avro in frame.columns else pl.lit(None))
        .cast(_TYPES.get(name, pl.Float32)).alias(name) for avro, name in columns.items()])


def _empty_frame(columns: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame(schema={name: _TYPES.get(name, pl.Float32) for name in columns.values()})


def _empty(kind: str, bad: dict[int, str]) -> DecodedBatch:
    schema = {"index": pl.Int64, "diasourceid": pl.Int64, "diaobjectid": pl.Int64, "ra": pl.Float64,
              "dec": pl.Float64, "midpointmjdtai": pl.Float64, "schemaversion": pl.Utf8, "schemaid": pl.Int32}
    if kind == "brokermessage":
        schema.update(brokername=pl.Utf8, classifiername=pl.Utf8, classifierversion=pl.Utf8,
                      classid=pl.List(pl.Int32), probability=pl.List(pl.Float32))
    return DecodedBatch(messages=pl.DataFrame(schema=schema), sources=_empty_frame(SOURCE_COLUMNS),
                        forced=_empty_frame(FORCED_COLUMNS), objects=_empty_frame(OBJECT_COLUMNS), bad=bad)


def _problems(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose values betray a misread (or a message that lies)."""
    src = pl.col("diaSource")
    return frame.filter(
        (pl.col("diaSourceId") != src.struct.field("diaSourceId"))
        | ~src.struct.field("midpointMjdTai").is_between(*MJD_RANGE)
        | ~src.struct.field("ra").is_between(0.0, 360.0)
        | ~src.struct.field("dec").is_between(-90.0, 90.0))


def _check_alone(container: _Container, body: bytes) -> str | None:
    """Why ``body`` is not one good message of ``container``'s schema, or ``None``."""
    stream = io.BytesIO(body)
    try:
        record = fastavro.schemaless_reader(stream, container.parsed)
    except Exception as exc:
        return f"not a valid Avro message of this schema: {type(exc).__name__}: {exc}"[:300]
    if stream.tell() != len(body):
        return f"{len(body) - stream.tell()} bytes left after the message"
    source = record.get("diaSource") or {}
    if record.get("diaSourceId") != source.get("diaSourceId"):
        return "diaSourceId differs from its diaSource's"
    mjd = source.get("midpointMjdTai")
    if mjd is None or not MJD_RANGE[0] <= mjd <= MJD_RANGE[1]:
        return f"midpointMjdTai out of range: {mjd}"
    if not (0.0 <= source.get("ra", -1) <= 360.0 and -90.0 <= source.get("dec", -99) <= 90.0):
        return "ra/dec out of range"
    return None
