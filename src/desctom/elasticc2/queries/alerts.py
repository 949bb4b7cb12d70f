"""Alert reconstruction: the LSST alert a detection would have produced (reference §3.2).

An alert carries its detection (``diaSource``), the object (``diaObject``), the object's earlier
detections within ``daysprevious`` days (``prvDiaSources``) and, once the object has been known
for more than half a day, its forced photometry since 30 days before the first detection, within
``daysprevious`` days (``prvDiaForcedSources``). Field names are those of the Avro schema
``elasticc.v0_9_1.alert``.

One set-based implementation, :class:`AlertBatch`, serves a single alert (``getalert``) and
batches of thousands (the alert sender): a batch costs four queries whatever its size; each
object's photometry is sorted once, and every alert's history is a window of it found by binary
search. The batch gives alerts as dicts (:meth:`AlertBatch.dicts`) or as schemaless Avro bytes
(:meth:`AlertBatch.avro`), the latter encoding every record once per batch, column-wise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import psycopg
from django.db import connection as django_connection

from desctom.survey.columns import OBJECT_COLUMNS, avro_name
from desctom.survey.lsst import BANDS

#: Days before the first detection from which forced photometry is included.
FORCED_LOOKBACK_DAYS = 30.0
#: An object must be known this long (days) before forced photometry is attached.
FORCED_MIN_AGE_DAYS = 0.5


@dataclass(frozen=True)
class Family:
    """The tables of one family of simulated data that has alerts."""

    alert: str
    source: str
    forced: str
    object: str


FAMILIES = {
    "ppdb": Family("elasticc2_ppdbalert", "elasticc2_ppdbdiasource", "elasticc2_ppdbdiaforcedsource",
                   "elasticc2_ppdbdiaobject"),
    "training": Family("elasticc2_trainingalert", "elasticc2_trainingdiasource",
                       "elasticc2_trainingdiaforcedsource", "elasticc2_trainingdiaobject"),
}

#: Object columns that go into ``diaObject`` (all but ``isddf``), with their Avro names.
_OBJECT_FIELDS = [(c, avro_name(c)) for c in OBJECT_COLUMNS if c != "isddf"]
_SOURCE_KEYS = ("diaSourceId", "diaObjectId", "midPointTai", "filterName", "ra", "decl", "psFlux",
                "psFluxErr", "snr")
_FORCED_KEYS = ("diaForcedSourceId", "diaObjectId", "midPointTai", "filterName", "psFlux", "psFluxErr")


#: Bands encoded as small integers when photometry is fetched (1-based; 0 = not in the list).
KNOWN_BANDS = list(BANDS)
_PG_DTYPES = {"int8": ">i8", "float8": ">f8", "float4": ">f4", "int2": ">i2"}  # big-endian on the wire


def _fetch_columns(conn, select_from: str, order_by: str, params: dict,
                   columns: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Fetch NOT NULL fixed-width columns as numpy arrays, packed server-side into one ``bytea``.

    Each row becomes the concatenation of its values' binary forms (``int8send`` ...), all rows
    one ``string_agg``; numpy reads the result in one ``frombuffer``: no Python object per value.
    ``columns`` are ``(SQL expression alias, pg type)``; expressions are in ``params["exprs"]``.
    """
    raw = conn
    if hasattr(conn, "ensure_connection"):  # a Django connection: use the psycopg connection inside
        conn.ensure_connection()
        raw = conn.connection
    packed = " || ".join(f"{pgtype}send({expr})" for expr, pgtype in columns)
    query = f"SELECT string_agg({packed}, ''::bytea ORDER BY {order_by}) {select_from}"
    with psycopg.Cursor(raw) as cur:  # not Django's client-side cursor: it cannot return binary results
        cur.execute(query, params, binary=True)
        data = cur.fetchone()[0] or b""
    dtype = np.dtype([(f"c{i}", _PG_DTYPES[pgtype]) for i, (_, pgtype) in enumerate(columns)])
    rows = np.frombuffer(data, dtype=dtype)
    return [rows[f"c{i}"].astype(_PG_DTYPES[pgtype].replace(">", "<")) for i, (_, pgtype) in
            enumerate(columns)]


class _Photometry:
    """Photometry of the batch's objects as numpy columns sorted by (object, time); per-object ranges."""

    def __init__(self, conn, table: str, columns: list[tuple[str, str]], object_ids: list[int],
                 start_mjd: float, stop_mjd: float):
        exprs = [(n if n != "band" else "coalesce(array_position(%(bands)s, filtername), 0)::int2", t)
                 for n, t in columns]
        # "midpointtai + 0": keep the planner on reads by object (an object's few hundred rows)
        # instead of a time-range scan, whatever the statistics say; the original forced the same
        # plan with pg_hint_plan.
        select_from = (f"FROM {table} WHERE diaobject_id = ANY(%(objects)s) "
                       "AND midpointtai + 0 >= %(start)s AND midpointtai + 0 <= %(stop)s")
        order_by = f"diaobject_id, midpointtai, {columns[0][0]}"
        self.bands = list(KNOWN_BANDS)
        params = {"bands": self.bands, "objects": object_ids, "start": start_mjd, "stop": stop_mjd}
        values = _fetch_columns(conn, select_from, order_by, params, exprs)
        band = values[[n for n, _ in columns].index("band")]
        if len(band) and not band.all():  # a band outside KNOWN_BANDS: learn them all
            with conn.cursor() as cur:
                cur.execute(f"SELECT DISTINCT filtername FROM {table} WHERE diaobject_id = ANY(%s)",
                            [object_ids])
                self.bands += sorted({r[0] for r in cur.fetchall()} - set(self.bands))
            values = _fetch_columns(conn, select_from, order_by, params, exprs)
        cols = {name: v for (name, _), v in zip(columns, values, strict=True)}
        self.cols = cols
        self.object_col = cols["diaobject_id"]
        self.mjd = cols["midpointtai"]
        starts = np.searchsorted(self.object_col, object_ids, side="left")
        stops = np.searchsorted(self.object_col, object_ids, side="right")
        self.range = {oid: (int(a), int(b)) for oid, a, b in zip(object_ids, starts, stops, strict=True)}

    def __len__(self) -> int:
        return len(self.mjd)

    def band_names(self) -> list[str]:
        names = [""] + self.bands
        return [names[c] for c in self.cols["band"].tolist()]

    def window(self, oid: int, start_mjd: float, stop_mjd: float) -> tuple[int, int]:
        """Row indices [lo, hi) of object ``oid`` with ``start_mjd <= mjd < stop_mjd``."""
        a, b = self.range.get(oid, (0, 0))
        part = self.mjd[a:b]
        lo = np.searchsorted(part, start_mjd, "left")
        return a + int(lo), a + int(np.searchsorted(part, stop_mjd, "left"))

    def first_mjd(self, oid: int) -> float | None:
        a, b = self.range.get(oid, (0, 0))
        return float(self.mjd[a]) if b > a else None


_SOURCE_COLUMNS = [("diasource_id", "int8"), ("diaobject_id", "int8"), ("midpointtai", "float8"),
                   ("band", "int2"), ("ra", "float8"), ("decl", "float8"), ("psflux", "float4"),
                   ("psfluxerr", "float4"), ("snr", "float4")]
_FORCED_COLUMNS = [("diaforcedsource_id", "int8"), ("diaobject_id", "int8"), ("midpointtai", "float8"),
                   ("band", "int2"), ("psflux", "float4"), ("psfluxerr", "float4")]


class AlertBatch:
    """The data of a batch of alerts, fetched once; alerts are then built as dicts or Avro bytes.

    Unknown alert ids are ignored. ``connection`` is a Django connection (default) or a psycopg one.
    """

    def __init__(self, alert_ids: Iterable[int], *, family: str = "ppdb", max_daysprevious: float = 365.0,
                 connection=None):
        self.max_daysprevious = max_daysprevious
        tables = FAMILIES[family]
        ids = sorted({int(i) for i in alert_ids})
        conn = connection or django_connection
        with conn.cursor() as cur:
            cur.execute(f"""
                SELECT a.alert_id, s.diasource_id, s.diaobject_id, s.midpointtai, s.filtername, s.ra, s.decl,
                       s.psflux, s.psfluxerr, s.snr
                FROM {tables.alert} a JOIN {tables.source} s ON s.diasource_id = a.diasource_id
                WHERE a.alert_id = ANY(%s) ORDER BY a.alert_id""", [ids])
            self.alerts = cur.fetchall()
            self.object_ids = sorted({r[2] for r in self.alerts if r[2] is not None})
            cur.execute(f"SELECT {', '.join(c for c, _ in _OBJECT_FIELDS)} FROM {tables.object} "
                        "WHERE diaobject_id = ANY(%s)", [self.object_ids])
            self.objects = {row[0]: row for row in cur.fetchall()}
        # Only photometry before the batch's last alert can appear in it; detections from the start
        # (the first one decides whether forced photometry is attached), forced sources from the
        # earliest window start.
        mjds = [r[3] for r in self.alerts]
        stop = max(mjds, default=0.0)
        self.sources = _Photometry(conn, tables.source, _SOURCE_COLUMNS, self.object_ids, float("-inf"), stop)
        self.forced = _Photometry(conn, tables.forced, _FORCED_COLUMNS, self.object_ids,
                                  min(mjds, default=0.0) - max_daysprevious, stop)

    def __len__(self) -> int:
        return len(self.alerts)

    def windows(self, daysprevious: float = 365.0, nprevious: int | None = None) -> Iterator[tuple]:
        """Per alert: ``(alert row, (lo, hi) of previous sources, (lo, hi) of previous forced sources)``."""
        if daysprevious > self.max_daysprevious:
            raise ValueError(f"daysprevious {daysprevious} exceeds this batch's max_daysprevious "
                             f"{self.max_daysprevious}")
        for row in self.alerts:
            oid, mjd = row[2], row[3]
            prv = self.sources.window(oid, mjd - daysprevious, mjd)
            first = self.sources.first_mjd(oid)
            fprv = (0, 0)
            if first is not None and mjd - first > FORCED_MIN_AGE_DAYS:
                flo, fhi = self.forced.window(oid, max(mjd - daysprevious, first - FORCED_LOOKBACK_DAYS), mjd)
                if nprevious is not None:
                    flo = max(flo, fhi - nprevious)
                fprv = (flo, fhi)
            yield row, prv, fprv

    # -- as dicts ----------------------------------------------------------------------------------
    def dicts(self, daysprevious: float = 365.0, nprevious: int | None = None) -> dict[int, dict]:
        """``{alert_id: alert dict}`` with the Avro field names."""
        source_dicts = _as_dicts(self.sources, _SOURCE_KEYS, _SOURCE_COLUMNS)
        forced_dicts = _as_dicts(self.forced, _FORCED_KEYS, _FORCED_COLUMNS)
        objects = {oid: {avro: row[i] for i, (_, avro) in enumerate(_OBJECT_FIELDS)}
                   for oid, row in self.objects.items()}
        out = {}
        for row, (lo, hi), (flo, fhi) in self.windows(daysprevious, nprevious):
            out[row[0]] = {"alertId": row[0], "diaSource": dict(zip(_SOURCE_KEYS, row[1:], strict=True)),
                           "prvDiaSources": source_dicts[lo:hi], "prvDiaForcedSources": forced_dicts[flo:fhi],
                           "diaObject": objects.get(row[2])}
        return out

    # -- as Avro -----------------------------------------------------------------------------------
    def avro(self, daysprevious: float = 365.0, nprevious: int | None = None) -> dict[int, bytes]:
        """``{alert_id: schemaless Avro bytes}`` of the ``elasticc.v0_9_1.alert`` schema."""
        from desctom.survey import schemas
        from desctom.survey.avro_columns import array_bytes, varint

        src = _encode(self.sources, _SOURCE_COLUMNS, {"diaobject_id": "nullable-long"})
        frc = _encode(self.forced, _FORCED_COLUMNS, {})
        source_index = {sid: i for i, sid in enumerate(self.sources.cols["diasource_id"].tolist())}
        object_schema = schemas.dia_object_schema()
        objects = {oid: b"\x02" + schemas.encode(object_schema, {a: row[i] for i, (_, a) in
                                                                   enumerate(_OBJECT_FIELDS)})
                   for oid, row in self.objects.items()}
        out = {}
        for row, (lo, hi), (flo, fhi) in self.windows(daysprevious, nprevious):
            own_bytes = src.record(source_index[row[1]])
            out[row[0]] = b"".join((
                varint(row[0]), own_bytes,
                b"\x02", array_bytes(hi - lo, src.span(lo, hi)),
                b"\x02", array_bytes(fhi - flo, frc.span(flo, fhi)),
                objects.get(row[2], b"\x00")))
        return out


def _as_dicts(phot: _Photometry, keys: tuple[str, ...], columns) -> list[dict]:
    """Every row of ``phot`` as a dict with the Avro field names."""
    values = [phot.band_names() if name == "band" else phot.cols[name].tolist() for name, _ in columns]
    return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]


def _encode(phot: _Photometry, columns, kinds: dict[str, str]):
    """Every row of ``phot`` as Avro record bytes (one buffer with offsets)."""
    from desctom.survey.avro_columns import encode_records

    fields = []
    for name, pgtype in columns:
        if name == "band":
            fields.append(("string-codes", (phot.cols["band"], [""] + phot.bands)))
        else:
            kind = kinds.get(name) or {"int8": "long", "float8": "double", "float4": "float"}[pgtype]
            fields.append((kind, phot.cols[name]))
    return encode_records(fields)


def reconstruct_alerts(alert_ids: Iterable[int], *, daysprevious: float = 365.0, nprevious: int | None = None,
                       family: str = "ppdb", connection=None) -> dict[int, dict]:
    """Build the alerts ``alert_ids`` as dicts; returns ``{alert_id: alert}`` (unknown ids are absent).

    ``nprevious``, if given, keeps only the last ``nprevious`` previous forced sources.
    """
    ids = list(alert_ids)
    if not ids:
        return {}
    batch = AlertBatch(ids, family=family, max_daysprevious=daysprevious, connection=connection)
    return batch.dicts(daysprevious, nprevious)


def alert_ids_of_sources(source_ids: Iterable[int], *, family: str = "ppdb",
                         connection=None) -> dict[int, int]:
    """``{diasource_id: alert_id}`` for the sources that have an alert."""
    ids = sorted({int(i) for i in source_ids})
    if not ids:
        return {}
    conn = connection or django_connection
    with conn.cursor() as cur:
        cur.execute(f"SELECT alert_id, diasource_id FROM {FAMILIES[family].alert} "
                    "WHERE diasource_id = ANY(%s)", [ids])
        return {sid: aid for aid, sid in cur.fetchall()}
