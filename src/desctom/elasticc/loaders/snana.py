"""Filling the ELAsTiCC 1 tables from SNANA HEAD/PHOT FITS pairs and the truth ``.DUMP``.

Reads the files with the ELAsTiCC2 SNANA reader (:mod:`desctom.elasticc2.loaders.snana`) and maps its
rows onto the v0.9 tables: every PHOT row of an object is a forced source (id = SNID x 100000 +
k) and a ``elasticc_diatruth`` row (``detect`` = the detection bit, ``genmag`` = ``SIM_MAGOBS``,
``gentype`` from the DUMP); every detection is a source and an unsent alert with the same id.
SNANA has no CCD visits, parent sources, ``nobs`` or total fluxes: ``ccdVisitId`` is the source's
own id, the others are NULL. ``hostgal(2)_zphot_p50`` is the median quantile ``_zphot_q050``.
One transaction per file pair; objects already in the table are skipped with their rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import connection, transaction

from desctom.core import bulkcopy
from desctom.elasticc.models.photometry import (
    FORCED_COLUMNS,
    OBJECT_COLUMNS,
    OBJECT_TRUTH_COLUMNS,
    SOURCE_COLUMNS,
    TRUTH_COLUMNS,
)
from desctom.loaders.snana.reader import FilePair, SnanaDirectory, SnanaError, column, read_dump, read_table
from desctom.loaders.snana.rows import HeadTable, LoadOptions, RowBuilder, TruthBuilder
from desctom.survey.columns import OBJECT_COLUMNS as E2_OBJECT_COLUMNS
from desctom.survey.columns import TRUTH_COLUMNS as E2_TRUTH_COLUMNS

__all__ = ["SnanaError", "LoadCounts", "load_directories"]
ALERT_WRITE_COLUMNS = ["alertId", "diaSourceId", "diaObjectId"]


def e2_name(e1_column: str) -> str:
    """The ELAsTiCC2 column that holds the value of ELAsTiCC 1 column ``e1_column``."""
    special = {"diaObjectId": "diaobject_id", "simVersion": "simversion"}
    if e1_column in special:
        return special[e1_column]
    if e1_column.endswith("_zphot_p50"):
        return e1_column.replace("_p50", "_q050")
    return e1_column[:-1] + "y" if e1_column.endswith("_Y") else e1_column


@dataclass
class LoadCounts:
    """Rows written by a load."""

    files: int = 0
    objects: int = 0
    skipped_objects: int = 0
    sources: int = 0
    forced: int = 0
    alerts: int = 0
    truth: int = 0
    objecttruth: int = 0
    errors: list[str] = field(default_factory=list)


def _copy(conn, table: str, columns: list[str], arrays: list) -> int:
    return bulkcopy.copy_arrays(conn, table, columns, arrays) if len(arrays[0]) else 0


def _gentypes(dump, object_ids: np.ndarray) -> np.ndarray | None:
    """The DUMP gentype of each of ``object_ids`` (-1 where the DUMP has none), or None without a DUMP."""
    if dump is None or not dump.has("GENTYPE"):
        return None
    lookup = dict(zip(dump.cids.tolist(), dump.integers("GENTYPE").tolist(), strict=True))
    return np.array([lookup.get(i, -1) for i in object_ids.tolist()], dtype=np.int64)


def load_pair(pair: FilePair, options: LoadOptions, dump, counts: LoadCounts) -> None:
    """Write one HEAD/PHOT pair in one transaction."""
    builder = RowBuilder(options)
    head = HeadTable.read(pair, options)
    phot = read_table(pair.phot)
    head.check_against(len(phot))
    rows = builder.rows(head, phot, pair.phot)
    index = np.repeat(head.ptrmin - 1, head.nrows) + (
        np.arange(int(head.nrows.sum())) - np.repeat(np.cumsum(head.nrows) - head.nrows, head.nrows))
    magobs = column(phot, "SIM_MAGOBS", pair.phot, required=False)
    genmag = None if magobs is None else magobs[index].astype(np.float64)
    e2 = dict(zip(E2_OBJECT_COLUMNS, rows.objects, strict=True))
    objects = [e2.get(e2_name(c)) for c in OBJECT_COLUMNS]
    fid, mjd, band, flux, fluxerr, oid = rows.forced
    sid, smjd, sband, ra, decl, sflux, sfluxerr, snr, soid = rows.sources
    gentype = _gentypes(dump, oid)
    with transaction.atomic():
        connection.ensure_connection()
        conn = connection.connection
        new = bulkcopy.insert_new_arrays(conn, "elasticc_diaobject", OBJECT_COLUMNS, objects,
                                         returning="diaObjectId")
        counts.skipped_objects += len(head.snid) - len(new)
        counts.objects += len(new)
        keep_f, keep_s = np.isin(oid, new), np.isin(soid, new)
        counts.sources += _copy(conn, "elasticc_diasource", SOURCE_COLUMNS, [
            sid[keep_s], sid[keep_s], soid[keep_s], None, smjd[keep_s], sband[keep_s], ra[keep_s],
            decl[keep_s], sflux[keep_s], sfluxerr[keep_s], snr[keep_s], None])
        counts.forced += _copy(conn, "elasticc_diaforcedsource", FORCED_COLUMNS, [
            fid[keep_f], fid[keep_f], oid[keep_f], mjd[keep_f], band[keep_f], flux[keep_f], fluxerr[keep_f],
            None, None])
        counts.alerts += _copy(conn, "elasticc_diaalert", ALERT_WRITE_COLUMNS,
                               [sid[keep_s], sid[keep_s], soid[keep_s]])
        detect = np.isin(fid, sid)
        if keep_f.any():
            counts.truth += len(bulkcopy.insert_new_arrays(conn, "elasticc_diatruth", TRUTH_COLUMNS, [
                fid[keep_f], oid[keep_f], mjd[keep_f], detect[keep_f],
                None if gentype is None else np.ma.masked_less(gentype[keep_f], 0),
                None if genmag is None else genmag[keep_f]], returning="diaSourceId"))


def load_object_truth(dump) -> int:
    """Write the DUMP's object truth for objects that exist; returns rows inserted."""
    e2 = dict(zip(E2_TRUTH_COLUMNS, TruthBuilder().build(dump), strict=True))
    arrays = []
    for name in OBJECT_TRUTH_COLUMNS:
        source = "diaobject_id" if name == "diaObjectId" else name.replace("_Y", "_y")
        arrays.append(e2.get(source) if name != "galnmatch" else None)
    with transaction.atomic():
        connection.ensure_connection()
        inserted = bulkcopy.insert_new_arrays(
            connection.connection, "elasticc_diaobjecttruth", OBJECT_TRUTH_COLUMNS, arrays,
            returning="diaObjectId", only_if_exists=("diaObjectId", "elasticc_diaobject", "diaObjectId"))
    return len(inserted)


def load_directories(paths: list[Path], options: LoadOptions, progress=None) -> LoadCounts:
    """Load every pair of every directory, then each directory's truth. Errors are collected, not raised."""
    counts = LoadCounts()
    for path in paths:
        try:
            directory = SnanaDirectory(path)
            pairs = directory.pairs()
            dump = read_dump(directory.dump) if directory.dump.is_file() else None
        except SnanaError as exc:
            counts.errors.append(str(exc))
            continue
        for pair in pairs:
            try:
                load_pair(pair, options, dump, counts)
                counts.files += 1
            except SnanaError as exc:
                counts.errors.append(str(exc))
            if progress:
                progress(pair)
        if dump is not None:
            try:
                counts.objecttruth += load_object_truth(dump)
            except SnanaError as exc:
                counts.errors.append(str(exc))
    return counts
