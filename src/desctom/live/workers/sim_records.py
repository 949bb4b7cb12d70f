"""Records and Avro bytes of the live-survey simulator: LSST alerts and DESC ``BrokerMessage``s.

An alert's body is built from pieces encoded once and reused: every diaSource and forced source is
encoded once per schema version (it then appears in the alert of its own detection and in the
``prvDiaSources`` / ``prvDiaForcedSources`` of later alerts), and a ``BrokerMessage`` is the alert's
body followed by the broker's fields (the Avro binary encoding of a record is its fields' encodings
one after the other). The pieces are written by encoders compiled from the version's own
sub-schemas (:func:`compile_record`); the tests decode every kind of message with fastavro.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from desctom.survey.avro_wire import avro_string
from desctom.survey.avro_wire import zigzag_long as zigzag
from desctom.survey.lsst_schemas import alert_schema

#: LSST writes bands in lower case.
LSST_BANDS = ("u", "g", "r", "i", "z", "y")
RELIABILITY_VERSION = "sim-rb-1.0"


def avro_array(items: list[bytes]) -> bytes:
    """An array of already-encoded items, as one block."""
    if not items:
        return b"\x00"
    return zigzag(len(items)) + b"".join(items) + b"\x00"


def classifications_bytes(pairs: list[tuple[int, float]]) -> bytes:
    """The ``classifications`` field: a list of ``{classId: int, probability: float}``."""
    return avro_array([zigzag(cid) + struct.pack("<f", p) for cid, p in pairs])


def broker_suffix(broker: str, classifier: str, version: str, pairs: list[tuple[int, float]]) -> bytes:
    """The bytes a ``BrokerMessage`` adds after the alert's fields."""
    return avro_string(broker) + avro_string(classifier) + avro_string(version) + classifications_bytes(pairs)


def _record_of(field_type):
    """The record schema in a field type (a record, a nullable record or a nullable array of records)."""
    if isinstance(field_type, dict):
        if field_type.get("type") == "record":
            return field_type
        if field_type.get("type") == "array":
            return _record_of(field_type["items"])
    if isinstance(field_type, list):
        for branch in field_type:
            if isinstance(branch, dict):
                return _record_of(branch)
    return None


def encode_columns(schema: dict, columns: dict, n: int) -> list[bytes]:
    """The Avro encodings of ``n`` records of a flat ``schema`` at once (numpy, no per-field Python).

    ``columns`` maps a field to a numpy array of ``n`` values, a scalar (the same for every record) or
    ``None`` (null); fields not given are null. Fields are primitives or ``["null", primitive]``.
    """
    pieces: list[tuple[np.ndarray, np.ndarray | int]] = []
    for f in schema["fields"]:
        kind, value = f["type"], columns.get(f["name"])
        if isinstance(kind, list):
            if len(kind) != 2 or "null" not in kind:
                raise ValueError(f"cannot encode the union {kind} of {f['name']}")
            null = kind.index("null")
            if value is None:
                pieces.append((np.full((n, 1), null * 2, np.uint8), 1))
                continue
            kind = kind[1 - null]
            missing = np.isnan(value) if isinstance(value, np.ndarray) and value.dtype.kind == "f" else None
            if missing is None or not missing.any():
                pieces.append((np.full((n, 1), (1 - null) * 2, np.uint8), 1))
                pieces.extend(_column_pieces(kind, value, n, f["name"]))
                continue
            branch = np.where(missing, null, 1 - null).astype(np.uint8) * 2
            pieces.append((branch.reshape(n, 1), 1))
            for data, ln in _column_pieces(kind, np.where(missing, 0.0, value), n, f["name"]):
                pieces.append((data, np.where(missing, 0, ln)))
            continue
        if value is None:
            raise ValueError(f"the field {f['name']} cannot be null")
        pieces.extend(_column_pieces(kind, value, n, f["name"]))
    lengths = sum(ln if isinstance(ln, int) else ln.astype(np.int64) for _, ln in pieces)
    lengths = np.broadcast_to(np.asarray(lengths, np.int64), (n,))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    buf = np.zeros(int(ends[-1]) if n else 0, np.uint8)
    pos = starts.copy()
    for data, ln in pieces:
        for k in range(data.shape[1]):
            if isinstance(ln, int):
                buf[pos + k] = data[:, k]
            else:
                m = ln > k
                buf[(pos + k)[m]] = data[m, k]
        pos += ln
    raw = buf.tobytes()
    return [raw[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _column_pieces(kind: str, value, n: int, name: str) -> list[tuple[np.ndarray, np.ndarray | int]]:
    if kind in ("long", "int"):
        return [_varints(np.broadcast_to(np.asarray(value, np.int64), (n,)))]
    if kind in ("double", "float"):
        dtype = "<f8" if kind == "double" else "<f4"
        col = np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype), (n,)))
        return [(col.view(np.uint8).reshape(n, -1), 8 if kind == "double" else 4)]
    if kind == "boolean":
        return [(np.broadcast_to(np.asarray(value, bool), (n,)).astype(np.uint8).reshape(n, 1), 1)]
    if kind == "string":
        raw = np.broadcast_to(np.asarray(value, dtype="S"), (n,))
        width = max(raw.dtype.itemsize, 1)
        lengths = np.char.str_len(raw).astype(np.int64)
        data = np.ascontiguousarray(raw).view(np.uint8).reshape(n, width) if n else np.zeros((0, 1), np.uint8)
        return [_varints(lengths), (data, lengths)]
    raise ValueError(f"cannot encode the type {kind} of {name}")


def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Avro zigzag varints of int64 ``values``: ((n, 10) bytes, lengths)."""
    zz = ((values << 1) ^ (values >> 63)).view(np.uint64)
    data = np.empty((len(values), 10), np.uint8)
    lengths = np.ones(len(values), np.int64)
    for k in range(10):
        data[:, k] = (zz >> np.uint64(7 * k)) & np.uint64(0x7F)
        if k:
            more = zz >= (np.uint64(1) << np.uint64(7 * k))
            lengths += more
            data[more, k - 1] |= 0x80
    return data, lengths


class VersionEncoder:
    """Encodes the parts of alerts of one schema version, caching the diaSources and forced sources."""

    def __init__(self, version: str):
        self.version = version
        schema = alert_schema(version)
        self.top = schema["fields"]
        records = {f["name"]: _record_of(f["type"]) for f in self.top}
        self.source_schema, self.forced_schema = records["diaSource"], records["prvDiaForcedSources"]
        self.object_schema = records["diaObject"]
        self.forced_fields = json.dumps(records["prvDiaForcedSources"]["fields"], sort_keys=True)
        self.source_fields = [f["name"] for f in records["diaSource"]["fields"]]
        # Union branch prefixes of the top-level fields: (null, value).
        self.prefix = {}
        for f in self.top:
            if isinstance(f["type"], list):
                null = f["type"].index("null")
                self.prefix[f["name"]] = (zigzag(null), zigzag(1 - null))
        self.sources: list[bytes] | None = None
        self.forced: list[bytes] | None = None
        self.objects: list[bytes] | None = None

    def encode_plan(self, plan) -> None:
        """Encode every detection and forced source of ``plan`` (once; the forced sources may be
        shared with another version's encoder)."""
        if self.sources is None:
            cols, n = source_columns(plan)
            for name in self.source_fields:
                if name.startswith("pixelFlags"):
                    cols[name] = False
            self.sources = encode_columns(self.source_schema, cols, n)
        if self.forced is None:
            cols, n = forced_columns(plan)
            self.forced = encode_columns(self.forced_schema, cols, n)
        self.objects = encode_columns(self.object_schema, *object_columns(plan))

    def alert_body(self, diasource_id: int, source: bytes, prv_sources: list[bytes],
                   prv_forced: list[bytes], dia_object: bytes) -> bytes:
        """The alert's Avro body; fields not given (cutouts, ssSource, ...) are null."""
        given = {"diaSource": source, "prvDiaSources": avro_array(prv_sources),
                 "prvDiaForcedSources": avro_array(prv_forced), "diaObject": dia_object}
        out = []
        for f in self.top:
            name = f["name"]
            if name == "diaSourceId":
                out.append(zigzag(diasource_id))
            elif name == "diaSource":
                out.append(source)
            elif name in given:
                out.append(self.prefix[name][1] + given[name])
            else:
                out.append(self.prefix[name][0])
        return b"".join(out)


def source_columns(p) -> dict:
    """Every detection of the plan ``p`` as diaSource columns (what LSST fills; the rest is null)."""
    n = len(p.s_id)
    flux, err = p.s_flux, p.s_err
    cols = {
        "diaSourceId": p.s_id, "visit": p.s_visit, "detector": p.s_det, "diaObjectId": p.s_obj,
        "midpointMjdTai": p.s_t, "exposureTime": 30.0,
        "ra": p.s_ra, "raErr": 2.0e-5, "dec": p.s_dec, "decErr": 2.0e-5, "ra_dec_Cov": 1.0e-11,
        "x": p.s_x, "xErr": 0.05, "y": p.s_y, "yErr": 0.05, "centroid_flag": False,
        "apFlux": flux * 1.02, "apFluxErr": err * 1.1, "apFlux_flag": False,
        "apFlux_flag_apertureTruncated": False, "isNegative": flux < 0, "snr": p.s_snr,
        "psfFlux": flux, "psfFluxErr": err, "psfLnL": -0.5 * p.s_chi2, "psfChi2": p.s_chi2,
        "psfNdata": 441, "psfFlux_flag": False, "psfFlux_flag_edge": False,
        "psfFlux_flag_noGoodPixels": False, "trailNdata": 0, "trail_flag": False,
        "dipoleNdata": 0, "dipoleFitAttempted": False, "isDipole": False,
        "scienceFlux": flux + p.s_template, "scienceFluxErr": err * 1.05,
        "forced_PsfFlux_flag": False, "forced_PsfFlux_flag_edge": False,
        "forced_PsfFlux_flag_noGoodPixels": False,
        "templateFlux": p.s_template, "templateFluxErr": err * 0.4,
        "ixx": 4.1, "iyy": 4.0, "ixy": 0.1, "ixxPSF": 4.0, "iyyPSF": 4.0, "ixyPSF": 0.05,
        "shape_flag": False, "extendedness": p.s_ext, "reliability": p.s_rel,
        "reliabilityVersion": RELIABILITY_VERSION, "band": np.array(LSST_BANDS)[p.s_band],
        "timeProcessedMjdTai": p.s_processed, "bboxSize": p.s_bbox, "glint_trail": False,
    }
    return cols, n


def forced_columns(p) -> dict:
    """Every forced measurement of the plan ``p`` as diaForcedSource columns."""
    pos = np.array([p.obj_pos[int(o)] for o in p.f_obj]).reshape(len(p.f_obj), 2)
    cols = {"diaForcedSourceId": p.f_id, "diaObjectId": p.f_obj, "ra": pos[:, 0], "dec": pos[:, 1],
            "visit": p.f_visit, "detector": p.f_det, "psfFlux": p.f_flux, "psfFluxErr": p.f_err,
            "midpointMjdTai": p.f_t, "scienceFlux": p.f_flux + p.f_template, "scienceFluxErr": p.f_err * 1.05,
            "band": np.array(LSST_BANDS)[p.f_band], "timeProcessedMjdTai": p.f_processed}
    return cols, len(p.f_id)


def object_columns(p) -> tuple[dict, int]:
    """The diaObject of every alert of the plan ``p``, as LSST computes it at the alert's time: from all
    the object's detections up to and including the alert's, and the forced photometry the alert
    carries. Per-band values of bands without data are null (NaN)."""
    i = p.a_src
    n = len(i)
    lo = p.a_seg_lo
    stop = i + 1
    f_lo, f_hi = p.a_forced_lo, p.a_forced_hi
    objs = p.s_obj[i]
    pos = np.array([p.obj_pos[int(o)] for o in objs]).reshape(n, 2)
    cols = {"diaObjectId": objs, "validityStartMjdTai": p.s_t[lo], "ra": pos[:, 0], "raErr": 1.5e-5,
            "dec": pos[:, 1], "decErr": 1.5e-5, "ra_dec_Cov": 5.0e-12, "nDiaSources": stop - lo,
            "firstDiaSourceMjdTai": p.s_t[lo], "lastDiaSourceMjdTai": p.s_t[i]}

    def window(values, a, b):
        c = np.concatenate([[0.0], np.cumsum(values)])
        return c[b] - c[a]

    with np.errstate(invalid="ignore", divide="ignore"):
        for b, name in enumerate(LSST_BANDS):
            mine = (p.s_band == b).astype(float)
            k = window(mine, lo, stop)
            flux, err = p.s_flux * mine, p.s_err * mine
            mean = window(flux, lo, stop) / k
            cols[f"{name}_psfFluxNdata"] = k.astype(np.int64)
            cols[f"{name}_psfFluxMean"] = mean
            cols[f"{name}_psfFluxMeanErr"] = np.sqrt(window(err * err, lo, stop)) / k
            cols[f"{name}_psfFluxSigma"] = np.sqrt(np.maximum(window(flux * flux, lo, stop) / k - mean**2, 0))
            cols[f"{name}_psfFluxErrMean"] = window(err, lo, stop) / k
            low, high = p.running_extremes(b)
            cols[f"{name}_psfFluxMin"] = np.where(k > 0, low[i], np.nan)
            cols[f"{name}_psfFluxMax"] = np.where(k > 0, high[i], np.nan)
            fmine = (p.f_band == b).astype(float)
            fk = window(fmine, f_lo, f_hi)
            cols[f"{name}_fpFluxMean"] = window(p.f_flux * fmine, f_lo, f_hi) / fk
            cols[f"{name}_fpFluxMeanErr"] = np.sqrt(window((p.f_err * fmine) ** 2, f_lo, f_hi)) / fk
    return cols, n
