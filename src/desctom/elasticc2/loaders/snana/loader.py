"""The database side of the SNANA load: table families, one transaction per file pair, truth rows.

The functions at the end run in the worker processes; each worker has its own psycopg
connection, made from the Django database settings the parent hands over.
"""

from __future__ import annotations

import multiprocessing.util
import signal
import time
from dataclasses import dataclass

import numpy as np
import psycopg

from desctom.core import bulkcopy
from desctom.loaders.snana.reader import FilePair, SnanaError, phot_rows
from desctom.loaders.snana.rows import ALERT_WRITE_COLUMNS, FileRows, HeadTable, LoadOptions, RowBuilder
from desctom.survey.columns import FORCED_COLUMNS, OBJECT_COLUMNS, SOURCE_COLUMNS, TRUTH_COLUMNS


@dataclass(frozen=True)
class TableFamily:
    """The five tables one load writes: PPDB (``--ppdb``) or training (``--train``)."""

    objects: str
    sources: str
    forced: str
    alerts: str
    truth: str

    @classmethod
    def named(cls, name: str) -> TableFamily:
        if name == "ppdb":
            return cls("elasticc2_ppdbdiaobject", "elasticc2_ppdbdiasource", "elasticc2_ppdbdiaforcedsource",
                       "elasticc2_ppdbalert", "elasticc2_diaobjecttruth")
        if name == "train":
            return cls("elasticc2_trainingdiaobject", "elasticc2_trainingdiasource",
                       "elasticc2_trainingdiaforcedsource", "elasticc2_trainingalert",
                       "elasticc2_trainingdiaobjecttruth")
        raise ValueError(f"unknown table family {name}")

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.objects, self.sources, self.forced, self.alerts, self.truth)


def existing_ids(conn: psycopg.Connection, table: str, ids: np.ndarray) -> np.ndarray:
    """Those of ``ids`` that are already in ``table`` (key ``diaobject_id``)."""
    if not len(ids):
        return np.array([], dtype=np.int64)
    with conn.cursor() as cur:
        cur.execute(f"SELECT diaobject_id FROM {table} WHERE diaobject_id = ANY(%s)",  # noqa: S608 - fixed names
                    ([int(i) for i in ids],))
        return np.array([r[0] for r in cur.fetchall()], dtype=np.int64)


def can_skip_fk_checks(conn: psycopg.Connection, family: TableFamily) -> bool:
    """True if per-row foreign-key checks may be skipped while loading.

    A file's objects, sources and alerts are inserted in one transaction, parents first, and only
    rows of objects that transaction inserted are written, so the checks cannot fail. They are
    skipped (``session_replication_role = replica``) only when the role may set that and the
    tables carry no trigger besides the foreign-key ones (which would be skipped too).
    """
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cur.fetchone()
        if not row or not row[0]:
            return False
        cur.execute("SELECT count(*) FROM pg_trigger "
                    "WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[])", (list(family.tables),))
        return cur.fetchone()[0] == 0


@dataclass
class FileResult:
    """What one file pair gave (or would give, on a dry run)."""

    pair: FilePair
    objects: int = 0
    skipped_objects: int = 0
    forced: int = 0
    sources: int = 0
    alerts: int = 0
    seconds: float = 0.0
    error: str | None = None


class FileWriter:
    """Writes the rows of one file pair in one transaction; objects already loaded are skipped."""

    def __init__(self, conn: psycopg.Connection, family: TableFamily, skip_fk_checks: bool = False):
        self.conn = conn
        self.family = family
        self.skip_fk_checks = skip_fk_checks
        self._types: dict[str, list[str]] = {}

    def types(self, table: str, columns: list[str]) -> list[str]:
        if table not in self._types:
            self._types[table] = bulkcopy.column_types(self.conn, table, columns)
        return self._types[table]

    def write(self, rows: FileRows) -> tuple[FileRows, int]:
        """Insert ``rows``; returns the rows really written and how many objects were skipped."""
        fam = self.family
        with self.conn.transaction():
            if self.skip_fk_checks:
                self.conn.execute("SET LOCAL session_replication_role = replica")
            new = bulkcopy.insert_new_arrays(self.conn, fam.objects, OBJECT_COLUMNS, rows.objects,
                                             returning="diaobject_id",
                                             types=self.types(fam.objects, OBJECT_COLUMNS))
            skipped = len(rows.object_ids) - len(new)
            if skipped:
                rows = rows.only(new)
            for table, columns, arrays in ((fam.sources, SOURCE_COLUMNS, rows.sources),
                                           (fam.forced, FORCED_COLUMNS, rows.forced),
                                           (fam.alerts, ALERT_WRITE_COLUMNS, rows.alerts)):
                if len(arrays[0]):
                    bulkcopy.copy_arrays(self.conn, table, columns, arrays, self.types(table, columns))
        return rows, skipped

    def preview(self, rows: FileRows) -> tuple[FileRows, int]:
        """What :meth:`write` would write, without writing."""
        present = existing_ids(self.conn, self.family.objects, rows.object_ids)
        if not len(present):
            return rows, 0
        return rows.only(np.setdiff1d(rows.object_ids, present)), len(present)


class TruthWriter:
    """Writes truth rows of objects that exist; rows already there are left alone."""

    def __init__(self, conn: psycopg.Connection, family: TableFamily):
        self.conn = conn
        self.family = family

    def write(self, columns: list[np.ndarray | None]) -> tuple[int, int]:
        """Insert the truth rows; returns ``(objects known, rows inserted)``."""
        ids = columns[TRUTH_COLUMNS.index("diaobject_id")]
        fam = self.family
        with self.conn.transaction():
            known = len(existing_ids(self.conn, fam.objects, np.unique(ids)))
            inserted = bulkcopy.insert_new_arrays(
                self.conn, fam.truth, TRUTH_COLUMNS, columns, returning="diaobject_id",
                only_if_exists=("diaobject_id", fam.objects, "diaobject_id"))
        return known, len(inserted)

    def preview(self, columns: list[np.ndarray | None], new_ids: np.ndarray) -> tuple[int, int]:
        """What :meth:`write` would return once the objects ``new_ids`` are loaded too."""
        ids = np.unique(columns[TRUTH_COLUMNS.index("diaobject_id")])
        in_db = existing_ids(self.conn, self.family.objects, ids)
        have_truth = existing_ids(self.conn, self.family.truth, in_db)
        known = np.union1d(in_db, np.intersect1d(ids, new_ids))
        return len(known), len(known) - len(have_truth)


# -- worker processes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process needs, handed over once at start."""

    database: dict
    family: TableFamily
    options: LoadOptions
    write: bool
    skip_fk_checks: bool


@dataclass
class PairCheck:
    """The quick pre-load check of one file pair: its objects and expected row count."""

    pair: FilePair
    snids: np.ndarray | None = None
    rows: int = 0
    error: str | None = None


_worker: dict = {}  # per worker process: the configuration, its connection and writer


def ignore_sigint() -> None:
    """Pool initializer: Ctrl-C is the parent's business (it terminates the workers with SIGTERM,
    which must kill them whatever handler the parent had installed when it forked)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _writer(config: WorkerConfig) -> FileWriter:
    """This worker's writer (and connection) for ``config``, made on first use."""
    if _worker.get("config") != config:
        if "conn" in _worker:
            _worker["conn"].close()
        _worker.clear()
        _worker["config"] = config
    if "writer" not in _worker:
        extra = {} if config.write else {"options": "-c default_transaction_read_only=on"}
        conn = bulkcopy.connect(config.database, autocommit=True, **extra)
        multiprocessing.util.Finalize(conn, conn.close, exitpriority=10)
        _worker["conn"] = conn
        _worker["writer"] = FileWriter(conn, config.family, config.skip_fk_checks)
    return _worker["writer"]


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_pair(task: tuple[FilePair, WorkerConfig]) -> PairCheck:
    """Worker task: read the HEAD file, check the PHOT file is complete and large enough."""
    pair, config = task
    try:
        head = HeadTable.read(pair, config.options)
        head.check_against(phot_rows(pair.phot))
        return PairCheck(pair, head.snid, int(head.nrows.sum()))
    except SnanaError as exc:
        return PairCheck(pair, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure: one line naming the file
        return PairCheck(pair, error=f"{pair.head}: {type(exc).__name__}: {one_line(exc)}")


def load_pair(task: tuple[FilePair, WorkerConfig]) -> FileResult:
    """Worker task: read one pair and write it in one transaction (or, on a dry run, count it)."""
    pair, config = task
    start = time.monotonic()
    try:
        rows = RowBuilder(config.options).build(pair)
        writer = _writer(config)
        written, skipped = writer.write(rows) if config.write else writer.preview(rows)
        counts = written.counts()
        return FileResult(pair, counts["objects"], skipped, counts["forced"], counts["sources"],
                          counts["alerts"], time.monotonic() - start)
    except SnanaError as exc:
        return FileResult(pair, error=str(exc))
    except psycopg.Error as exc:
        return FileResult(pair, error=f"{pair.head}: database error: {one_line(exc)}")
    except Exception as exc:  # noqa: BLE001 - any failure: one line naming the file
        return FileResult(pair, error=f"{pair.head}: {type(exc).__name__}: {one_line(exc)}")
