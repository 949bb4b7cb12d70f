"""The value rules of a brokerClassification message, shared by both ingest paths.

The HTTP PUT path (:mod:`desctom.elasticc2.http.api.brokermessage_validation`) checks one JSON message
at a time with the scalar helpers; the Kafka path checks whole decoded batches at once with
:func:`column_problems` (numpy). Both use the same limits, so a value refused by one is refused by
the other: a PUT answers 400 naming the field, the poller quarantines the message.

* timestamps: integer milliseconds since 1970-01-01 UTC in [0, :data:`MAX_MS`) (before the year
  3000; well inside what PostgreSQL's ``timestamptz`` and numpy's ``datetime64[ms]`` can hold);
* probabilities: finite, from 0 to 1;
* ``classId``: 16-bit integers, each at most once per message, at most :data:`MAX_CLASSIFICATIONS`;
* ``alertId``/``diaSourceId``: 64-bit integers;
* the four classifier strings: :data:`MAX_CHARS` characters each, :data:`MAX_CLASSIFIER_BYTES` UTF-8
  bytes together, no NUL, ``brokerName`` and ``classifierName`` not blank.
"""

from __future__ import annotations

import json
import math

import numpy as np

#: Timestamps must lie in [1970-01-01, 3000-01-01) (milliseconds since the epoch).
MIN_MS = 0
MAX_MS = 32_503_680_000_000
#: At most this many entries in one message's ``classifications``.
MAX_CLASSIFICATIONS = 1000
#: Longest strings (characters); the first two are the database's column limits.
MAX_CHARS = {"brokerName": 100, "classifierName": 200, "brokerVersion": 200, "classifierParams": 1000}
#: The four classifier strings together, in UTF-8 bytes (they share one unique index row).
MAX_CLASSIFIER_BYTES = 2000
STRING_KEYS = ("brokerName", "brokerVersion", "classifierName", "classifierParams")
NONEMPTY_KEYS = ("brokerName", "classifierName")
SMALLINT = (-32768, 32767)

TIME_RULE = (f"milliseconds since 1970-01-01 UTC (a number from {MIN_MS} to {MAX_MS}, "
             "before the year 3000)")
PROBABILITY_RULE = "a number from 0 to 1"


def ms_ok(value) -> bool:
    """True if ``value`` (a number) is a storable timestamp in ms."""
    try:
        return math.isfinite(value) and MIN_MS <= value < MAX_MS
    except OverflowError:  # an int beyond any float
        return False


def probability_ok(value) -> bool:
    """True if ``value`` (a number) is a finite probability from 0 to 1."""
    try:
        return math.isfinite(value) and 0 <= value <= 1
    except OverflowError:  # an int beyond any float
        return False


def strings_problem(texts) -> str | None:
    """Why the four classifier strings (in :data:`STRING_KEYS` order) cannot be stored, or None."""
    for name, text in zip(STRING_KEYS, texts, strict=True):
        if name in NONEMPTY_KEYS and not text.strip():
            return f"{name} must not be empty"
        if len(text) > MAX_CHARS[name]:
            return f"{name} must be at most {MAX_CHARS[name]} characters long, not {len(text)}"
        if "\x00" in text:
            return f"{name} must not contain NUL characters"
    size = sum(len(t.encode("utf-8")) for t in texts)
    if size > MAX_CLASSIFIER_BYTES:
        return (f"{', '.join(STRING_KEYS)} together must be at most {MAX_CLASSIFIER_BYTES} bytes of UTF-8, "
                f"not {size}")
    return None


def _ms_bad(ms: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    bad = (ms < MIN_MS) | (ms >= MAX_MS)
    return bad if mask is None else bad & ~mask


def column_problems(decoded, header_ms: np.ndarray | None = None) -> list[str | None]:
    """Per message of a decoded batch (``DecodedClassifications``): why it breaks the rules, or None.

    Rows already invalid (``decoded.valid`` False) keep the decoder's reason. ``header_ms`` (the Kafka
    timestamps, -1 where absent) is checked too when given: it is stored as ``msghdrtimestamp``.
    """
    n = len(decoded.valid)
    reasons: list[str | None] = list(decoded.error)
    ok = decoded.valid.copy()

    def fail(rows: np.ndarray, why) -> None:
        for i in np.flatnonzero(rows & ok):
            reasons[i] = why(i) if callable(why) else why
        ok[rows] = False

    pub = np.asarray(decoded.elasticc_publish_ms, dtype=np.int64)
    fail(_ms_bad(pub), lambda i: f"elasticcPublishTimestamp must be {TIME_RULE}, not {pub[i]}")
    ingest = np.ma.getdata(decoded.broker_ingest_ms).astype(np.int64)
    fail(_ms_bad(ingest, np.ma.getmaskarray(decoded.broker_ingest_ms)),
         lambda i: f"brokerIngestTimestamp must be {TIME_RULE} or null, not {ingest[i]}")
    if header_ms is not None:
        hdr = np.asarray(header_ms, dtype=np.int64)
        fail((hdr >= 0) & _ms_bad(hdr), lambda i: f"the Kafka timestamp must be {TIME_RULE}, not {hdr[i]}")
    for code, key in enumerate(decoded.classifiers):
        problem = strings_problem(key)
        if problem:
            fail(np.asarray(decoded.classifier) == code, problem)
    k = decoded.classid.shape[1] if decoded.classid.ndim == 2 else 0
    fail(decoded.nclasses > MAX_CLASSIFICATIONS,
         lambda i: f"classifications has {decoded.nclasses[i]} entries, at most {MAX_CLASSIFICATIONS}")
    if k:
        used = np.arange(k)[None, :] < decoded.nclasses[:, None]
        prob = decoded.probability.astype(np.float64)
        bad_prob = used & ~(np.isfinite(prob) & (prob >= 0) & (prob <= 1))
        fail(bad_prob.any(axis=1), lambda i: (
            f"classifications[{int(np.argmax(bad_prob[i]))}].probability must be {PROBABILITY_RULE}, "
            f"not {json.dumps(float(prob[i, np.argmax(bad_prob[i])]), allow_nan=True)}"))
        ids = decoded.classid.astype(np.int64)
        fail((used & ((ids < SMALLINT[0]) | (ids > SMALLINT[1]))).any(axis=1),
             "classId out of range (must fit a 16-bit integer)")
        # unused slots get distinct values outside the 16-bit range, so only real repeats match
        filled = np.where(used, ids, SMALLINT[1] + 1 + np.arange(k)[None, :])
        ordered = np.sort(filled, axis=1)
        fail((np.diff(ordered, axis=1) == 0).any(axis=1), "a classId appears more than once")
    assert len(reasons) == n
    return [None if ok[i] else (reasons[i] or "invalid message") for i in range(n)]
