"""Alert reconstruction: the LSST alert a detection would have produced (reference §3.2).

An alert carries its detection (``diaSource``), the object (``diaObject``), the object's earlier
detections within ``daysprevious`` days (``prvDiaSources``) and, once the object has been known
for more than half a day, its forced photometry since 30 days before the first detection, within
``daysprevious`` days (``prvDiaForcedSources``). Field names are those of the Avro schema
``elasticc.v0_9_1.alert``.

One set-based implementation serves a single alert (``getalert``) and batches of thousands
(the alert sender): each batch costs four queries, whatever its size, and the photometry of an
object is turned into dictionaries once and shared by all its alerts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection as django_connection

from desctom.elasticc2.models.photometry import OBJECT_COLUMNS, avro_name

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


def _rows(cur, sql: str, params) -> list[tuple]:
    cur.execute(sql, params)
    return cur.fetchall()


class _ObjectPhotometry:
    """The detections and forced photometry of one object, as Avro-ready dicts sorted by time."""

    __slots__ = ("source_mjds", "sources", "forced_mjds", "forced", "first_detection")

    def __init__(self):
        self.source_mjds: list[float] = []
        self.sources: list[dict] = []
        self.forced_mjds: list[float] = []
        self.forced: list[dict] = []
        self.first_detection: float | None = None


def reconstruct_alerts(alert_ids: Iterable[int], *, daysprevious: float = 365.0, nprevious: int | None = None,
                       family: str = "ppdb", connection=None) -> dict[int, dict]:
    """Build the alerts ``alert_ids``; returns ``{alert_id: alert}`` (unknown ids are absent).

    ``nprevious``, if given, keeps only the last ``nprevious`` previous forced sources.
    ``connection`` is a Django connection (default) or a psycopg connection.
    """
    tables = FAMILIES[family]
    ids = sorted({int(i) for i in alert_ids})
    if not ids:
        return {}
    conn = connection or django_connection
    with conn.cursor() as cur:
        alert_rows = _rows(cur, f"""
            SELECT a.alert_id, s.diasource_id, s.diaobject_id, s.midpointtai, s.filtername, s.ra, s.decl,
                   s.psflux, s.psfluxerr, s.snr
            FROM {tables.alert} a JOIN {tables.source} s ON s.diasource_id = a.diasource_id
            WHERE a.alert_id = ANY(%s)""", [ids])
        object_ids = sorted({r[2] for r in alert_rows if r[2] is not None})
        objects = {r[0]: r for r in _rows(
            cur, f"SELECT {', '.join(c for c, _ in _OBJECT_FIELDS)} FROM {tables.object} "
                 "WHERE diaobject_id = ANY(%s)", [object_ids])}
        photometry = {oid: _ObjectPhotometry() for oid in object_ids}
        for sid, oid, mjd, band, ra, decl, flux, fluxerr, snr in _rows(cur, f"""
                SELECT diasource_id, diaobject_id, midpointtai, filtername, ra, decl, psflux, psfluxerr, snr
                FROM {tables.source} WHERE diaobject_id = ANY(%s)
                ORDER BY diaobject_id, midpointtai, diasource_id""", [object_ids]):
            phot = photometry[oid]
            phot.source_mjds.append(mjd)
            phot.sources.append({"diaSourceId": sid, "diaObjectId": oid, "midPointTai": mjd,
                                 "filterName": band, "ra": ra, "decl": decl, "psFlux": flux,
                                 "psFluxErr": fluxerr, "snr": snr})
        for fid, oid, mjd, band, flux, fluxerr in _rows(cur, f"""
                SELECT diaforcedsource_id, diaobject_id, midpointtai, filtername, psflux, psfluxerr
                FROM {tables.forced} WHERE diaobject_id = ANY(%s)
                ORDER BY diaobject_id, midpointtai, diaforcedsource_id""", [object_ids]):
            phot = photometry[oid]
            phot.forced_mjds.append(mjd)
            phot.forced.append({"diaForcedSourceId": fid, "diaObjectId": oid, "midPointTai": mjd,
                                "filterName": band, "psFlux": flux, "psFluxErr": fluxerr})
    for phot in photometry.values():
        phot.first_detection = phot.source_mjds[0] if phot.source_mjds else None

    object_dicts = {oid: {avro: row[i] for i, (_, avro) in enumerate(_OBJECT_FIELDS)}
                    for oid, row in objects.items()}
    alerts = {}
    for alert_id, sid, oid, mjd, band, ra, decl, flux, fluxerr, snr in alert_rows:
        source = {"diaSourceId": sid, "diaObjectId": oid, "midPointTai": mjd, "filterName": band, "ra": ra,
                  "decl": decl, "psFlux": flux, "psFluxErr": fluxerr, "snr": snr}
        phot = photometry.get(oid) or _ObjectPhotometry()
        earliest = mjd - daysprevious
        lo = bisect_left(phot.source_mjds, earliest)
        hi = bisect_left(phot.source_mjds, mjd)
        previous_sources = phot.sources[lo:hi]
        previous_forced = []
        if phot.first_detection is not None and mjd - phot.first_detection > FORCED_MIN_AGE_DAYS:
            start = max(earliest, phot.first_detection - FORCED_LOOKBACK_DAYS)
            flo = bisect_left(phot.forced_mjds, start)
            fhi = bisect_left(phot.forced_mjds, mjd)
            if nprevious is not None:
                flo = max(flo, fhi - nprevious)
            previous_forced = phot.forced[flo:fhi]
        alerts[alert_id] = {"alertId": alert_id, "diaSource": source, "prvDiaSources": previous_sources,
                            "prvDiaForcedSources": previous_forced, "diaObject": object_dicts.get(oid)}
    return alerts


def alert_ids_of_sources(source_ids: Iterable[int], *, family: str = "ppdb",
                         connection=None) -> dict[int, int]:
    """``{diasource_id: alert_id}`` for the sources that have an alert."""
    ids = sorted({int(i) for i in source_ids})
    if not ids:
        return {}
    conn = connection or django_connection
    with conn.cursor() as cur:
        return {sid: aid for aid, sid in _rows(
            cur, f"SELECT alert_id, diasource_id FROM {FAMILIES[family].alert} WHERE diasource_id = ANY(%s)",
            [ids])}
