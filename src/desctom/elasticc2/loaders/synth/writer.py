"""Writing a :class:`Survey` into the PPDB or training tables with binary COPY (psycopg 3).

Objects and truth rows have NULLs in some rows only (absent hosts); their rows are grouped by which
columns are NULL and each group is one COPY, so every COPY has a fixed row layout.
"""

from __future__ import annotations

import numpy as np
from django.db import connections, transaction

from desctom.core.bulkcopy import column_types, copy_arrays
from desctom.elasticc2.loaders.synth.spec import Survey, SynthError
from desctom.survey.columns import (
    ALERT_COLUMNS,
    FORCED_COLUMNS,
    OBJECT_COLUMNS,
    SOURCE_COLUMNS,
    TRUTH_COLUMNS,
)

FAMILIES = {
    "ppdb": {"objects": "elasticc2_ppdbdiaobject", "truth": "elasticc2_diaobjecttruth",
             "sources": "elasticc2_ppdbdiasource", "forced": "elasticc2_ppdbdiaforcedsource",
             "alerts": "elasticc2_ppdbalert"},
    "train": {"objects": "elasticc2_trainingdiaobject", "truth": "elasticc2_trainingdiaobjecttruth",
              "sources": "elasticc2_trainingdiasource", "forced": "elasticc2_trainingdiaforcedsource",
              "alerts": "elasticc2_trainingalert"},
}
COLUMNS = {"objects": OBJECT_COLUMNS, "truth": TRUTH_COLUMNS, "sources": SOURCE_COLUMNS,
           "forced": FORCED_COLUMNS, "alerts": ALERT_COLUMNS}
WRITE_ORDER = ("objects", "truth", "sources", "forced", "alerts")  # referenced rows first


def family_name(train: bool) -> str:
    """``train`` or ``ppdb``."""
    return "train" if train else "ppdb"


def _null_mask(col: np.ndarray) -> np.ndarray:
    if isinstance(col, np.ma.MaskedArray):
        return np.ma.getmaskarray(col)
    if col.dtype.kind == "f":
        return np.isnan(col)
    if col.dtype.kind == "O":
        return np.equal(col, None)
    return np.zeros(len(col), bool)


def _wire(col: np.ndarray) -> np.ndarray:
    """Text columns as ASCII bytes (numpy ``S``): a C-level cast, far faster than UTF-8 encoding."""
    return col.astype(f"S{col.dtype.itemsize // 4}") if col.dtype.kind == "U" else col


def copy_table(conn, table: str, columns: list[str], cols: dict[str, np.ndarray], types: list[str]) -> int:
    """COPY one table's columns; rows are grouped by which columns are NULL (one COPY per group)."""
    arrays = [cols[name] for name in columns]
    if not len(arrays[0]):
        return 0
    nulls = [_null_mask(a) for a in arrays]
    mixed = [i for i, null in enumerate(nulls) if null.any() and not null.all()]
    if not mixed:  # one layout for all rows (the big tables)
        groups = [(slice(None), [bool(null[0]) for null in nulls])]
    else:
        patterns, group = np.unique(np.stack([nulls[i] for i in mixed], axis=1), axis=0, return_inverse=True)
        group = group.reshape(-1)
        groups = []
        for g, pattern in enumerate(patterns):
            layout = [bool(null[0]) for null in nulls]
            for i, null in zip(mixed, pattern, strict=True):
                layout[i] = bool(null)
            groups.append((np.flatnonzero(group == g), layout))
    written = 0
    for rows, layout in groups:
        part = [None if null else _wire(np.ma.getdata(a)[rows])
                for a, null in zip(arrays, layout, strict=True)]
        written += copy_arrays(conn, table, columns, part, types)
    return written


class Tables:
    """Table names and COPY column types of one family (types read from the catalog once)."""

    def __init__(self, using: str, family: str):
        self.using, self.names = using, FAMILIES[family]
        self._types: dict[str, list[str]] = {}

    def raw(self):
        """The psycopg connection under Django's connection (of this thread)."""
        conn = connections[self.using]
        conn.ensure_connection()
        return conn.connection

    def write(self, survey: Survey) -> dict[str, int]:
        """Write ``survey`` inside the caller's transaction."""
        raw, counts = self.raw(), {}
        for key in WRITE_ORDER:
            if key not in self._types:
                self._types[key] = column_types(raw, self.names[key], COLUMNS[key])
            table = self.names[key]
            counts[key] = copy_table(raw, table, COLUMNS[key], getattr(survey, key), self._types[key])
        return counts


def write(survey: Survey, *, train: bool = False, using: str = "default") -> dict[str, int]:
    """Write a survey into the PPDB (or training) tables in one transaction; rows per table.

    Raises :class:`SynthError` (writing nothing) if any of its object ids are taken.
    """
    tables = Tables(using, family_name(train))
    ids = survey.objects["diaobject_id"]
    if not len(ids):
        return dict.fromkeys(WRITE_ORDER, 0)
    with transaction.atomic(using=using):
        with connections[using].cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {tables.names['objects']} "
                        "WHERE diaobject_id BETWEEN %s AND %s", [int(ids[0]), int(ids[-1])])
            taken = cur.fetchone()[0]
        if taken:
            raise SynthError(f"{taken:,} of the ids {ids[0]}..{ids[-1]} are already in "
                             f"{tables.names['objects']}: nothing written")
        return tables.write(survey)


