"""SNANA file contents -> table rows (numpy columns), following the mapping of reference §3.1.

* HEAD row -> object: ``SNID`` -> ``diaobject_id``, ``DEC`` -> ``decl``, ``REDSHIFT_FINAL(_ERR)`` ->
  ``z_final(_err)``, ``HOSTGAL(2)_SPECZ/PHOTOZ(_ERR)`` -> ``…_zspec/zphot(_err)``, the other object
  columns by lower-casing; ``isddf`` = more than 1000 photometry rows.
* PHOT rows ``PTROBS_MIN..PTROBS_MAX`` (1-based) of an object -> forced sources with
  ``diaforcedsource_id = SNID * max_sources + k`` (k = 0-based row within the block); fluxes
  rescaled from the SNANA zeropoint to nJy. Rows with the detection bit -> sources (same id,
  ra/decl of the object, snr = psflux / psfluxerr) and one alert each (``alert_id`` = source id).
* DUMP row -> truth: ``CID`` -> ``diaobject_id``, ``NON1A_INDEX`` -> ``sim_template_index``, the
  rest lower-cased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desctom.loaders.snana.fitstable import FitsTable
from desctom.loaders.snana.reader import DumpTable, FilePair, SnanaError, column, read_table
from desctom.survey.columns import (
    FORCED_COLUMNS,
    HOST_PREFIXES,
    OBJECT_COLUMNS,
    SOURCE_COLUMNS,
    TRUTH_COLUMNS,
)

#: Columns written to the alert tables (``alertsenttimestamp`` stays NULL: not sent yet).
ALERT_WRITE_COLUMNS = ["alert_id", "diaobject_id", "diasource_id"]
#: Truth columns that may be absent from a DUMP (nullable in the table).
TRUTH_OPTIONAL = {"galid", "galzphot", "galzphoterr", "galsnsep", "galsnddlr"}
#: An object with more photometry rows than this is a deep-drilling (DDF) object.
DDF_ROWS = 1000
SEPARATOR_MJD = -777.0


@dataclass(frozen=True)
class LoadOptions:
    """The numeric choices of a load (command-line options -s, -m, -p, -z, -a)."""

    simversion: str = "2023-04-01"
    max_sources_per_object: int = 100000
    photflag_detect: int = 4096
    snana_zeropoint: float = 27.5
    alert_zeropoint: float = 31.4

    @property
    def flux_scale(self) -> float:
        return 10 ** ((self.alert_zeropoint - self.snana_zeropoint) / 2.5)


def head_column_for(name: str) -> str:
    """The HEAD column that feeds object column ``name``."""
    if name == "decl":
        return "DEC"
    if name.startswith("z_final"):
        return name.replace("z_final", "REDSHIFT_FINAL").upper()
    for prefix in HOST_PREFIXES:
        for ours, snana in (("_zspec", "_SPECZ"), ("_zphot", "_PHOTOZ")):
            if name in (f"{prefix}{ours}", f"{prefix}{ours}_err"):
                return name.replace(ours, snana).upper()
    return name.upper()


@dataclass
class HeadTable:
    """The objects of one HEAD file, sorted by SNID, with their PHOT row ranges checked."""

    pair: FilePair
    snid: np.ndarray
    ptrmin: np.ndarray  # 1-based first PHOT row
    nrows: np.ndarray  # number of PHOT rows
    columns: dict[str, np.ndarray | None] = field(repr=False, default_factory=dict)

    @classmethod
    def read(cls, pair: FilePair, options: LoadOptions) -> HeadTable:
        table = read_table(pair.head)
        path = pair.head
        raw = column(table, "SNID", path)
        if raw.dtype.kind in "SU":
            try:
                snid = np.char.strip(raw).astype(np.int64)
            except ValueError:
                raise SnanaError(f"{path}: SNID values are not integers") from None
        else:
            snid = raw.astype(np.int64)
        ptrmin = column(table, "PTROBS_MIN", path).astype(np.int64)
        nrows = column(table, "PTROBS_MAX", path).astype(np.int64) - ptrmin + 1
        order = np.argsort(snid, kind="stable")
        snid, ptrmin, nrows = snid[order], ptrmin[order], nrows[order]
        duplicated = snid[1:][snid[1:] == snid[:-1]]
        if len(duplicated):
            raise SnanaError(f"{path}: SNID {duplicated[0]} appears more than once")
        limit = np.iinfo(np.int64).max // options.max_sources_per_object
        if len(snid) and (snid.min() < 0 or snid.max() > limit):
            raise SnanaError(f"{path}: SNID out of range for the id scheme "
                             f"(SNID x {options.max_sources_per_object})")
        bad = (nrows < 0) | ((ptrmin < 1) & (nrows > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SnanaError(f"{path}: object {snid[i]} has an invalid PTROBS_MIN/PTROBS_MAX range")
        too_long = nrows > options.max_sources_per_object
        if too_long.any():
            i = int(np.flatnonzero(too_long)[0])
            raise SnanaError(f"{path}: object {snid[i]} has {nrows[i]} photometry rows, more than "
                             f"--max-sources-per-object {options.max_sources_per_object}")
        names = [c for c in OBJECT_COLUMNS if c not in ("diaobject_id", "simversion", "isddf")]
        columns = {}
        for name in names:
            values = column(table, head_column_for(name), path, required=name in ("ra", "decl"))
            columns[name] = None if values is None else values[order]
        return cls(pair, snid, ptrmin, nrows, columns)

    def check_against(self, phot_rows: int) -> None:
        """Every object's PHOT rows must lie inside a PHOT file of ``phot_rows`` rows."""
        last = self.ptrmin + self.nrows - 1
        beyond = (self.nrows > 0) & (last > phot_rows)
        if beyond.any():
            i = int(np.flatnonzero(beyond)[0])
            raise SnanaError(f"{self.pair.phot}: has {phot_rows} rows, but object {self.snid[i]} of "
                             f"{self.pair.head.name} points at row {last[i]}")


@dataclass
class FileRows:
    """The rows one HEAD/PHOT pair gives, as numpy columns in table column order."""

    objects: list[np.ndarray | None]  # OBJECT_COLUMNS
    forced: list[np.ndarray]  # FORCED_COLUMNS
    sources: list[np.ndarray]  # SOURCE_COLUMNS
    alerts: list[np.ndarray]  # ALERT_WRITE_COLUMNS

    @property
    def object_ids(self) -> np.ndarray:
        return self.objects[0]

    def counts(self) -> dict[str, int]:
        return {"objects": len(self.objects[0]), "forced": len(self.forced[0]),
                "sources": len(self.sources[0]), "alerts": len(self.alerts[0])}

    def only(self, object_ids: np.ndarray) -> FileRows:
        """The rows of the given objects only (e.g. those not loaded yet)."""
        def pick(cols, key):
            keep = np.isin(cols[key], object_ids)
            return [None if c is None else c[keep] for c in cols]

        return FileRows(pick(self.objects, 0), pick(self.forced, FORCED_COLUMNS.index("diaobject_id")),
                        pick(self.sources, SOURCE_COLUMNS.index("diaobject_id")),
                        pick(self.alerts, ALERT_WRITE_COLUMNS.index("diaobject_id")))


class RowBuilder:
    """Turns one HEAD/PHOT pair into object, forced-source, source and alert rows."""

    def __init__(self, options: LoadOptions):
        self.options = options

    def build(self, pair: FilePair) -> FileRows:
        head = HeadTable.read(pair, self.options)
        phot = read_table(pair.phot)
        head.check_against(len(phot))
        return self.rows(head, phot, pair.phot)

    def rows(self, head: HeadTable, phot: FitsTable, phot_path: Path) -> FileRows:
        opts = self.options
        nobj = len(head.snid)
        obj = np.repeat(np.arange(nobj), head.nrows)
        start = np.cumsum(head.nrows) - head.nrows
        k = np.arange(len(obj), dtype=np.int64) - np.repeat(start, head.nrows)
        row = np.repeat(head.ptrmin - 1, head.nrows) + k
        mjd = column(phot, "MJD", phot_path)[row]
        if (mjd == SEPARATOR_MJD).any():
            i = obj[np.flatnonzero(mjd == SEPARATOR_MJD)[0]]
            raise SnanaError(f"{phot_path}: the rows of object {head.snid[i]} include a separator row "
                             "(PTROBS_MIN/PTROBS_MAX inconsistent)")
        object_id = head.snid[obj]
        forced_id = object_id * opts.max_sources_per_object + k
        band = np.char.strip(column(phot, "BAND", phot_path)[row])
        flux = (column(phot, "FLUXCAL", phot_path)[row] * opts.flux_scale).astype(np.float32)
        fluxerr = (column(phot, "FLUXCALERR", phot_path)[row] * opts.flux_scale).astype(np.float32)
        forced = [forced_id, mjd, band, flux, fluxerr, object_id]
        det = (column(phot, "PHOTFLAG", phot_path)[row].astype(np.int64) & opts.photflag_detect) != 0
        det_obj = obj[det]
        with np.errstate(divide="ignore", invalid="ignore"):
            snr = flux[det] / fluxerr[det]
        sources = [forced_id[det], mjd[det], band[det], head.columns["ra"][det_obj],
                   head.columns["decl"][det_obj], flux[det], fluxerr[det], snr, object_id[det]]
        alerts = [forced_id[det], object_id[det], forced_id[det]]
        return FileRows(self.objects(head), forced, sources, alerts)

    def objects(self, head: HeadTable) -> list[np.ndarray | None]:
        n = len(head.snid)
        cols: list[np.ndarray | None] = []
        for name in OBJECT_COLUMNS:
            if name == "diaobject_id":
                cols.append(head.snid)
            elif name == "simversion":
                cols.append(np.full(n, self.options.simversion.encode()) if self.options.simversion else None)
            elif name == "isddf":
                cols.append(head.nrows > DDF_ROWS)
            else:
                cols.append(head.columns[name])
        return cols


class TruthBuilder:
    """Turns a DUMP table into truth rows (TRUTH_COLUMNS order)."""

    INTEGER = {"libid", "sim_searcheff_mask", "gentype", "sim_template_index", "galid", "nobs",
               "nobs_saturate", "diaobject_id"}

    @staticmethod
    def dump_column(name: str) -> str:
        return {"diaobject_id": "CID", "sim_template_index": "NON1A_INDEX"}.get(name, name.upper())

    def build(self, dump: DumpTable) -> list[np.ndarray | None]:
        missing = [self.dump_column(c) for c in TRUTH_COLUMNS
                   if c not in TRUTH_OPTIONAL and not dump.has(self.dump_column(c))]
        if missing:
            raise SnanaError(f"{dump.path}: VARNAMES lacks {', '.join(missing)}")
        cids = dump.cids
        _, first = np.unique(cids, return_index=True)  # a repeated CID: its first row counts
        first.sort()
        cols: list[np.ndarray | None] = []
        for name in TRUTH_COLUMNS:
            source = self.dump_column(name)
            if not dump.has(source):
                cols.append(None)
            elif name in self.INTEGER:
                cols.append(dump.integers(source)[first])
            else:
                cols.append(dump.floats(source)[first])
        return cols
