"""Vectorised decoding of many schemaless ``brokerClassification`` Avro messages at once (numpy).

A record-by-record decoder (fastavro) manages ~25,000 of these 20-class messages per second per
core here, slower than the database can store them. Every message has the same field sequence,
so all messages of a batch are decoded together, field by field: each step reads one varint (or
float) at the current position of every message with a handful of array operations.

Wire layout (Avro binary, ``elasticc.v0_9_1.brokerClassification``): ``alertId`` long,
``diaSourceId`` long, ``elasticcPublishTimestamp`` long, ``brokerIngestTimestamp`` union
[null, long], four strings (``brokerName``, ``brokerVersion``, ``classifierName``,
``classifierParams``: varint length + UTF-8), ``classifications`` array of {``classId`` int,
``probability`` float} (blocks of ``count`` items — a negative count is followed by the block's
byte size — ended by a zero count). Longs and ints are zig-zag varints; floats 4 bytes
little-endian. A message that does not follow this layout exactly (truncated, trailing bytes,
bad union index, invalid UTF-8) is reported as invalid, never guessed at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_MAXVARINT = 10
_MIN_ITEM_BYTES = 5  # a classId varint (>= 1 byte) and a 4-byte float


@dataclass
class DecodedClassifications:
    """The decoded fields of ``n`` messages; rows where ``valid`` is False hold no meaning.

    ``classifier`` indexes ``classifiers`` (the distinct (broker name, version, classifier name,
    params) tuples); ``classid``/``probability`` are ``(n, kmax)`` with ``nclasses`` used per row.
    """

    valid: np.ndarray
    error: list[str | None]
    alert_id: np.ndarray
    diasource_id: np.ndarray
    elasticc_publish_ms: np.ndarray
    broker_ingest_ms: np.ma.MaskedArray
    classifier: np.ndarray
    classifiers: list[tuple[str, str, str, str]]
    nclasses: np.ndarray
    classid: np.ndarray
    probability: np.ndarray


class _Reader:
    """Positions of every message in one concatenated buffer, advanced field by field."""

    def __init__(self, values: Sequence[bytes]):
        lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
        self.ends = np.cumsum(lengths)
        self.pos = self.ends - lengths
        self.buf = np.frombuffer(b"".join(values) + bytes(_MAXVARINT + 8), dtype=np.uint8)
        self.ok = np.ones(len(values), dtype=bool)
        self.why: list[str | None] = [None] * len(values)

    def fail(self, rows: np.ndarray, reason: str) -> None:
        for i in np.flatnonzero(rows & self.ok):
            self.why[i] = reason
        self.ok &= ~rows

    def varint(self, rows: np.ndarray | None = None, what: str = "long") -> np.ndarray:
        """Zig-zag varints at the positions of ``rows`` (all rows if None); positions advance."""
        sel = np.flatnonzero(self.ok) if rows is None else np.flatnonzero(rows & self.ok)
        out = np.zeros(len(self.pos), dtype=np.int64)
        if not len(sel):
            return out
        top = len(self.buf) - 1
        start = self.pos[sel]
        byte = self.buf[np.minimum(start, top)].astype(np.uint64)
        z = byte & np.uint64(0x7F)
        length = np.ones(len(sel), dtype=np.int64)
        more = np.flatnonzero(byte & np.uint64(0x80))
        for k in range(1, _MAXVARINT):  # one pass per byte, over the rows whose varint goes on
            if not len(more):
                break
            byte = self.buf[np.minimum(start[more] + k, top)].astype(np.uint64)
            z[more] |= (byte & np.uint64(0x7F)) << np.uint64(7 * k)
            length[more] += 1
            more = more[(byte & np.uint64(0x80)) != 0]
        found = np.ones(len(sel), dtype=bool)
        found[more] = False
        value = (z >> np.uint64(1)).astype(np.int64) ^ -(z & np.uint64(1)).astype(np.int64)
        out[sel] = value
        self.pos[sel] += length
        bad = np.zeros(len(self.pos), dtype=bool)
        bad[sel] = ~found | (self.pos[sel] > self.ends[sel])
        self.fail(bad, f"truncated or malformed {what}")
        return out

    def float32(self, rows: np.ndarray) -> np.ndarray:
        sel = np.flatnonzero(rows & self.ok)
        out = np.zeros(len(self.pos), dtype=np.float32)
        if len(sel):
            window = self.buf[np.minimum(self.pos[sel, None] + np.arange(4), len(self.buf) - 1)]
            out[sel] = window.copy().view("<f4").reshape(-1)
            self.pos[sel] += 4
            bad = np.zeros(len(self.pos), dtype=bool)
            bad[sel] = self.pos[sel] > self.ends[sel]
            self.fail(bad, "truncated probability")
        return out


#: Limits of the classifier registry's columns and of its unique index (PostgreSQL btree rows
#: cannot exceed ~2.7 kB): longer names could never be stored.
NAME_LIMITS = {0: ("brokerName", 100), 2: ("classifierName", 200)}
MAX_CLASSIFIER_BYTES = 2000


def _string_problem(texts: list[str]) -> str | None:
    """Why these four strings cannot name a classifier, or None."""
    for i, (name, limit) in NAME_LIMITS.items():
        if len(texts[i]) > limit:
            return f"{name} longer than {limit} characters"
    if sum(len(t.encode()) for t in texts) > MAX_CLASSIFIER_BYTES:
        return f"broker and classifier names longer than {MAX_CLASSIFIER_BYTES} bytes together"
    if any("\x00" in t for t in texts):
        return "a broker or classifier name contains a NUL character"
    return None


def _classifier_keys(reader: _Reader, start: np.ndarray, values_end: np.ndarray,
                     lengths: list[np.ndarray]) -> tuple[np.ndarray, list]:
    """Index of each message's four strings among the distinct 4-tuples, decoded once each."""
    raw = reader.buf.tobytes()
    index: dict[bytes, int] = {}
    keys: list[tuple[str, str, str, str]] = []
    codes = np.zeros(len(start), dtype=np.int64)
    starts = start.tolist()
    ends = values_end.tolist()
    spans: dict[bytes, list[int]] = {}
    for i in np.flatnonzero(reader.ok).tolist():
        spans.setdefault(raw[starts[i]:ends[i]], []).append(i)
    for span, rows in spans.items():
        row = rows[0]
        texts, p = [], 0
        try:
            for n_bytes in (lengths[j][row] for j in range(4)):
                # skip the varint length (re-read its size from the span itself)
                while span[p] & 0x80:
                    p += 1
                p += 1
                texts.append(span[p:p + int(n_bytes)].decode("utf-8"))
                p += int(n_bytes)
        except UnicodeDecodeError:
            bad = np.zeros(len(start), dtype=bool)
            bad[rows] = True
            reader.fail(bad, "a broker or classifier name is not valid UTF-8")
            continue
        problem = _string_problem(texts)
        if problem:
            bad = np.zeros(len(start), dtype=bool)
            bad[rows] = True
            reader.fail(bad, problem)
            continue
        index[span] = len(keys)
        keys.append(tuple(texts))
        codes[rows] = index[span]
    return codes, keys


def decode_classifications(values: Sequence[bytes]) -> DecodedClassifications:
    """Decode schemaless ``brokerClassification`` messages; invalid ones are flagged, not raised."""
    r = _Reader(values)
    n = len(values)
    alert_id = r.varint(what="alertId")
    source_id = r.varint(what="diaSourceId")
    published = r.varint(what="elasticcPublishTimestamp")
    branch = r.varint(what="brokerIngestTimestamp")
    r.fail((branch != 0) & (branch != 1), "bad union index for brokerIngestTimestamp")
    ingest = r.varint(branch == 1, what="brokerIngestTimestamp")
    strings_start = r.pos.copy()
    lengths = []
    for name in ("brokerName", "brokerVersion", "classifierName", "classifierParams"):
        length = r.varint(what=f"{name} length")
        r.fail(length < 0, f"negative {name} length")
        r.pos += np.where(r.ok, length, 0)
        r.fail(r.pos > r.ends, f"truncated {name}")
        lengths.append(length)
    strings_end = r.pos.copy()
    classid, probability, nclasses = _read_classifications(r, n)
    r.fail(r.pos != r.ends, "trailing bytes after the record")
    codes, keys = _classifier_keys(r, strings_start, strings_end, lengths)
    r.fail(r.ok & ((classid < -32768) | (classid > 32767)).any(axis=1),
           "classId out of range (must fit a 16-bit integer)")
    return DecodedClassifications(
        valid=r.ok, error=r.why, alert_id=alert_id, diasource_id=source_id, elasticc_publish_ms=published,
        broker_ingest_ms=np.ma.MaskedArray(ingest, mask=branch != 1), classifier=codes, classifiers=keys,
        nclasses=nclasses, classid=classid, probability=probability)


def _read_classifications(r: _Reader, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classifications arrays (blocks until a zero count) as ``(n, kmax)`` arrays."""
    ids_cols: list[np.ndarray] = []
    prob_cols: list[np.ndarray] = []
    nclasses = np.zeros(n, dtype=np.int64)
    active = r.ok.copy()
    while active.any():
        count = r.varint(active, what="classifications block count")
        sized = active & r.ok & (count < 0)
        count = np.abs(count)
        r.varint(sized, what="classifications block size")
        remaining = r.ends - r.pos
        r.fail(active & (count * _MIN_ITEM_BYTES > remaining), "classifications count exceeds the message")
        active &= r.ok & (count > 0)
        for j in range(int(count[active].max()) if active.any() else 0):
            rows = active & (count > j) & r.ok
            slot = nclasses + 0
            cid = r.varint(rows, what="classId")
            prob = r.float32(rows)
            while len(ids_cols) <= int(slot[rows].max(initial=0)):
                ids_cols.append(np.zeros(n, dtype=np.int64))
                prob_cols.append(np.zeros(n, dtype=np.float32))
            for k in np.unique(slot[rows]):
                sel = rows & (slot == k)
                ids_cols[k][sel] = cid[sel]
                prob_cols[k][sel] = prob[sel]
            nclasses[rows & r.ok] += 1
    if not ids_cols:
        return np.zeros((n, 0), np.int64), np.zeros((n, 0), np.float32), nclasses
    return np.stack(ids_cols, axis=1), np.stack(prob_cols, axis=1), nclasses
