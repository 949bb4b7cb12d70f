"""The Avro schemas of the live Rubin stream: LSST alerts (``lsst.vM_m``) and DESC's ``BrokerMessage``.

The LSST alert schemas come from the ``lsst-alert-packet`` package (every version Rubin published,
one directory per ``major/minor``). DESC's ``BrokerMessage`` is the alert's fields followed by
``brokerName``, ``classifierName``, ``classifierVersion`` and ``classifications`` (a list of
``{classId, probability}`` in the ELAsTiCC2 taxonomy); it is built here for any alert version, so a
broker moving to a newer alert schema needs no new file.

Wire formats: *schemaless* (the bare Avro body) and *Confluent* (byte 0, a 4-byte big-endian schema
id, then the body). Rubin's registry numbers an alert schema ``major * 100 + minor`` (``lsst.v11_1``
is 1101), which is how a schema id is understood when no registry is configured.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

#: Names of the records an alert schema defines, in the order they must be declared.
ALERT_PARTS = ("diaSource", "diaForcedSource", "diaObject", "ssSource", "mpc_orbits", "ssObject")
#: The alert version assumed when a stream names none.
DEFAULT_VERSION = "lsst.v11_1"
#: The fields DESC adds to an alert to make a ``BrokerMessage``.
BROKER_FIELDS = [
    {"name": "brokerName", "type": "string"},
    {"name": "classifierName", "type": "string"},
    {"name": "classifierVersion", "type": "string"},
    {"name": "classifications", "type": {"type": "array", "items": {
        "type": "record", "name": "classificationDict",
        "fields": [{"name": "classId", "type": "int"}, {"name": "probability", "type": "float"}]}}},
]
_VERSION = re.compile(r"^lsst\.v(\d+)_(\d+)$")


class SchemaError(ValueError):
    """A schema version, id or definition that cannot be used; the text says which."""


def parse_version(version: str) -> tuple[int, int]:
    """``(major, minor)`` of ``"lsst.v11_1"``."""
    match = _VERSION.match(version or "")
    if not match:
        raise SchemaError(f"not an LSST alert schema version: {version!r} (expected e.g. lsst.v11_1)")
    return int(match.group(1)), int(match.group(2))


def schema_id(version: str) -> int:
    """Rubin's registry id of an alert schema version (``lsst.v11_1`` -> 1101)."""
    major, minor = parse_version(version)
    return major * 100 + minor


def version_of_id(registry_id: int) -> str:
    """The alert schema version Rubin's registry numbers ``registry_id`` (1101 -> ``lsst.v11_1``)."""
    return f"lsst.v{registry_id // 100}_{registry_id % 100}"


@cache
def _schema_root() -> Path:
    try:
        from lsst.alert.packet import get_schema_root
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise SchemaError(f"the lsst-alert-packet package is not installed ({exc})") from None
    return Path(get_schema_root())


def known_versions() -> list[str]:
    """Every alert schema version the installed ``lsst-alert-packet`` ships, oldest first."""
    found = []
    for path in _schema_root().glob("*/*/lsst.v*_*.alert.avsc"):
        found.append(path.name.removesuffix(".alert.avsc"))
    return sorted(set(found), key=parse_version)


@cache
def alert_schema(version: str) -> dict:
    """The ``lsst.vM_m.alert`` schema with every named type it uses declared inline (a fresh copy is
    cached; callers must not modify it)."""
    major, minor = parse_version(version)
    folder = _schema_root() / str(major) / str(minor)
    if not (folder / f"{version}.alert.avsc").exists():
        raise SchemaError(f"unknown LSST alert schema {version} (known: {', '.join(known_versions())})")
    parts = {}
    for name in ALERT_PARTS:
        path = folder / f"{version}.{name}.avsc"
        if path.exists():
            parts[f"{version}.{name}"] = json.loads(path.read_text())
    alert = json.loads((folder / f"{version}.alert.avsc").read_text())
    return inline_named_types(alert, parts)


@cache
def broker_message_schema(version: str) -> dict:
    """DESC's ``BrokerMessage`` for alerts of ``version``: the alert's fields plus the broker's."""
    alert = copy.deepcopy(alert_schema(version))
    return {"type": "record", "name": "BrokerMessage", "namespace": "fastdb.desctom",
            "fields": alert["fields"] + copy.deepcopy(BROKER_FIELDS)}


def inline_named_types(schema, definitions: dict[str, dict]):
    """``schema`` with every reference to a name of ``definitions`` replaced by the definition itself.

    Each inlined copy gets a name of its own (``diaSource``, ``diaSource_2``, ...): the binary
    encoding does not depend on names, and readers that do not resolve named references (polars)
    then read the schema too.
    """
    used: dict[str, int] = {}

    def expand(node):
        if isinstance(node, str):
            if node in definitions:
                return expand(copy.deepcopy(definitions[node]))
            return node
        if isinstance(node, list):
            return [expand(x) for x in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        if kind == "array":
            return {**node, "items": expand(node["items"])}
        if kind == "map":
            return {**node, "values": expand(node["values"])}
        if kind in ("record", "error"):
            base = node["name"].rsplit(".", 1)[-1]
            used[base] = used.get(base, 0) + 1
            name = base if used[base] == 1 else f"{base}_{used[base]}"
            out = {k: v for k, v in node.items() if k not in ("namespace", "name", "fields")}
            out["name"] = name
            out["fields"] = [{**f, "type": expand(f["type"])} for f in node["fields"]]
            return out
        if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind in definitions):
            return {**node, "type": expand(kind)}
        return node

    return expand(schema)


def flatten_registry_schema(text: str) -> dict:
    """A schema as a registry returns it (JSON text) with every named type defined once and
    referenced by name elsewhere, turned into the inline form :func:`inline_named_types` makes."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"the registry's schema is not JSON: {exc}") from None
    definitions: dict[str, dict] = {}

    def collect(node, namespace: str | None):
        if isinstance(node, list):
            for x in node:
                collect(x, namespace)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in ("record", "error", "enum", "fixed"):
                ns = node.get("namespace", namespace)
                name = node["name"] if "." in node["name"] or not ns else f"{ns}.{node['name']}"
                definitions[name] = node
                definitions.setdefault(node["name"].rsplit(".", 1)[-1], node)
                for f in node.get("fields", []):
                    collect(f["type"], ns)
            elif kind in ("array", "map"):
                collect(node.get("items", node.get("values")), namespace)
            elif isinstance(kind, (dict, list)):
                collect(kind, namespace)

    collect(schema, None)
    return inline_named_types(schema, {k: v for k, v in definitions.items() if k != schema.get("name")})


def split_confluent(payload: bytes) -> tuple[int, bytes] | None:
    """``(schema_id, body)`` of a message in the Confluent wire format, else ``None``.

    A schemaless LSST message never starts with byte 0: that would encode ``diaSourceId == 0``.
    """
    if len(payload) > 5 and payload[0] == 0:
        return int.from_bytes(payload[1:5], "big"), payload[5:]
    return None


def confluent_frame(registry_id: int, body: bytes) -> bytes:
    """``body`` in the Confluent wire format with schema id ``registry_id``."""
    return b"\x00" + registry_id.to_bytes(4, "big") + body
