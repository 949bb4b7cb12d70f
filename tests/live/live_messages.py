"""Hand-made LSST alerts and BrokerMessages for the ingest tests (independent of the simulator)."""

from __future__ import annotations

import io

import fastavro

from desctom.survey.lsst_schemas import alert_schema, broker_message_schema, confluent_frame, schema_id


def _blank(record_schema: dict) -> dict:
    """Every field of a record: nulls where allowed, zeros otherwise."""
    out = {}
    for f in record_schema["fields"]:
        t = f["type"]
        if isinstance(t, list) and "null" in t:
            out[f["name"]] = None
        elif t in ("int", "long"):
            out[f["name"]] = 0
        elif t in ("float", "double"):
            out[f["name"]] = 0.0
        elif t == "boolean":
            out[f["name"]] = False
        elif t == "string":
            out[f["name"]] = ""
        else:
            out[f["name"]] = None
    return out


def _part(version: str, name: str) -> dict:
    for f in alert_schema(version)["fields"]:
        t = f["type"]
        for cand in (t if isinstance(t, list) else [t]):
            if isinstance(cand, dict) and cand.get("type") == "array":
                cand = cand["items"]
            if isinstance(cand, dict) and cand.get("name", "").split("_")[0] == name:
                return cand
    raise KeyError(name)


def source(version, sid, oid, mjd, ra, dec, flux=1000.0, band="r"):
    rec = _blank(_part(version, "diaSource"))
    rec.update(diaSourceId=sid, diaObjectId=oid, visit=sid // 10, detector=5, midpointMjdTai=mjd, ra=ra,
               dec=dec, psfFlux=flux, psfFluxErr=flux / 20, band=band, timeProcessedMjdTai=mjd + 0.01,
               x=1.0, y=2.0)
    return rec


def forced(version, fid, oid, mjd, ra, dec, flux=500.0, band="g"):
    rec = _blank(_part(version, "diaForcedSource"))
    rec.update(diaForcedSourceId=fid, diaObjectId=oid, visit=fid // 10, detector=5, midpointMjdTai=mjd, ra=ra,
               dec=dec, psfFlux=flux, psfFluxErr=flux / 20, band=band, timeProcessedMjdTai=mjd + 0.01)
    return rec


def dia_object(version, oid, ra, dec):
    rec = _blank(_part(version, "diaObject"))
    rec.update(diaObjectId=oid, ra=ra, dec=dec, validityStartMjdTai=60000.0)
    return rec


def alert(version, src, prv=(), prv_forced=(), obj=None):
    return {"diaSourceId": src["diaSourceId"], "observation_reason": None, "target_name": None,
            "diaSource": src, "prvDiaSources": list(prv), "prvDiaForcedSources": list(prv_forced),
            "diaObject": obj, "ssSource": None, "mpc_orbits": None, "cutoutDifference": None,
            "cutoutScience": None, "cutoutTemplate": None}


def broker_message(version, alert_record, broker="B1", classifier="C1", cversion="1.0",
                   classes=((111, 0.7), (200, 0.3))):
    return {**alert_record, "brokerName": broker, "classifierName": classifier, "classifierVersion": cversion,
            "classifications": [{"classId": c, "probability": p} for c, p in classes]}


def encode(record: dict, version: str = "lsst.v11_1", kind: str = "brokermessage",
           framed: bool = False) -> bytes:
    schema = broker_message_schema(version) if kind == "brokermessage" else alert_schema(version)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    body = buf.getvalue()
    return confluent_frame(schema_id(version), body) if framed else body
