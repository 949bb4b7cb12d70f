"""Writing a query's rows to a result file (csv, portable pickled DataFrame, parquet) in bounded memory.

Fast path: when the last statement is a single row-returning statement whose columns are all of
simple types, PostgreSQL itself formats the rows (``COPY (...) TO STDOUT (FORMAT csv)``) and
pyarrow's multi-threaded CSV reader turns them into typed record batches. Otherwise the rows are
streamed through psycopg in chunks and converted column by column. Either way only one batch is
in memory at a time (``pandas``: see :mod:`desctom.db.queries.portable_pickle`).
"""

from __future__ import annotations

import io
import itertools
import json
import select
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import pq as libpq
from psycopg.types.string import TextLoader

from desctom.db.queries import sqlexec
from desctom.db.queries.portable_pickle import DataFrameWriter
from desctom.db.queries.sqlexec import SqlError, check_still_in_transaction

CHUNK_ROWS = 50_000
BLOCK_BYTES = 4 << 20

#: PostgreSQL type OID -> Arrow type, for scalar types.
SCALAR_TYPES = {16: pa.bool_(), 21: pa.int16(), 23: pa.int32(), 20: pa.int64(), 26: pa.int64(),
                700: pa.float32(), 701: pa.float64(), 1700: pa.float64(), 25: pa.string(),
                1043: pa.string(), 1042: pa.string(), 19: pa.string(), 2950: pa.string(),
                1184: pa.timestamp("us", tz="UTC"), 1114: pa.timestamp("us"), 1082: pa.date32()}
#: Array type OID -> element type OID.
ARRAY_TYPES = {1000: 16, 1005: 21, 1007: 23, 1016: 20, 1021: 700, 1022: 701, 1231: 1700, 1009: 25,
               1015: 1043, 1185: 1184, 1115: 1114, 1182: 1082}
#: Types PostgreSQL's CSV output renders in a form the Arrow CSV reader parses exactly.
COPY_SAFE = set(SCALAR_TYPES) - {1700}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "pandas": "application/octet-stream",
                 "parquet": "application/vnd.apache.parquet"}


def arrow_type(oid: int) -> pa.DataType:
    if oid in SCALAR_TYPES:
        return SCALAR_TYPES[oid]
    if oid in ARRAY_TYPES:
        return pa.list_(SCALAR_TYPES[ARRAY_TYPES[oid]])
    return pa.string()


class Sink:
    """Writes record batches to ``path`` in one of the result formats."""

    PROGRESS_EVERY = 1_000_000

    def __init__(self, path: Path, fmt: str, progress=None, max_bytes: int | None = None):
        self.path, self.fmt = Path(path), fmt
        self.max_bytes = max_bytes
        self.rows = 0
        self._progress = progress
        self._writer = None
        self._fh = None

    def write(self, table: pa.Table) -> None:
        if self.fmt == "csv":
            table = _csv_ready(table)
        if self._writer is None:
            if self.fmt == "parquet":
                _check_unique_names(table.column_names)
                self._writer = pq.ParquetWriter(self.path, table.schema)
            elif self.fmt == "pandas":
                self._fh = open(self.path, "wb")  # noqa: SIM115  (closed in close())
                self._writer = DataFrameWriter(self._fh, table.column_names)
            else:
                self._fh = open(self.path, "wb")  # noqa: SIM115  (closed in close())
                options = pacsv.WriteOptions(quoting_style="needed")
                self._writer = pacsv.CSVWriter(self._fh, table.schema, write_options=options)
        if self.fmt == "pandas":
            self._writer.write(table)
        else:
            self._writer.write_table(table.cast(self._writer.schema) if self.fmt == "parquet" else table)
        before, self.rows = self.rows, self.rows + table.num_rows
        self._check_size()
        if self._progress and before // self.PROGRESS_EVERY != self.rows // self.PROGRESS_EVERY:
            self._progress(self.rows)

    def size(self) -> int:
        """Bytes written so far."""
        if self._fh is not None:
            return self._fh.tell()
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _check_size(self) -> None:
        if self.max_bytes is None or self.size() <= self.max_bytes:
            return
        self.abort()
        raise SqlError(f"the result file is larger than the limit of {self.max_bytes} bytes per query "
                       "(DESCTOM_SQL_RESULT_MAX_BYTES): select fewer rows or columns, or split the query")

    def abort(self) -> None:
        """Close the file (the caller deletes it)."""
        for closer in (None if self.fmt == "pandas" else self._writer, self._fh):
            try:
                if closer is not None:
                    closer.close()
            except (OSError, pa.ArrowException):
                pass
        self._writer = self._fh = None

    def close(self) -> None:
        if self._writer is None:  # no batch at all: an empty frame without columns
            self.write(pa.table({}))
        self._writer.close()
        if self._fh is not None:
            self._fh.close()


def _check_unique_names(names: list[str]) -> None:
    """Parquet readers refuse repeated column names: say so before writing."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SqlError(f"the column name {repeated[0]!r} appears more than once, which parquet files cannot "
                       "hold: name the columns apart (SELECT a.id AS a_id, b.id AS b_id ...)")


def _csv_ready(table: pa.Table) -> pa.Table:
    """Arrays (which CSV cannot hold) as JSON text: ``[1, 2, 3]``."""
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            text = pa.array([None if v is None else json.dumps(v, default=str)
                             for v in table.column(i).to_pylist()], type=pa.string())
            table = table.set_column(i, field.name, text)
    return table


class _CopyStream(io.RawIOBase):
    """A readable byte stream over ``COPY ... TO STDOUT`` data, read straight from libpq.

    psycopg's ``Copy.read()`` costs a generator round trip per row; asking libpq directly for
    each row (non-blocking, waiting on the socket only when nothing is buffered) is several
    times cheaper, and keeps signals (Ctrl-C) and the cancel timer working while waiting.
    """

    def __init__(self, conn: psycopg.Connection):
        self._pgconn = conn.pgconn
        self._encoding = conn.info.encoding
        self._pending = bytearray()
        self._eof = False

    def start(self, query: bytes) -> None:
        """Send the COPY with the extended protocol (one statement only); raise its error, if any."""
        pgconn = self._pgconn
        pgconn.send_query_params(query, None)
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            select.select([pgconn.socket], [], [], 1.0)
        res = pgconn.get_result()
        if res.status != libpq.ExecStatus.COPY_OUT:
            self._drain()
            raise psycopg.errors.error_from_result(res, encoding=self._encoding)

    def _drain(self) -> None:
        while self._pgconn.get_result() is not None:
            pass

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        want, pending, pgconn = len(buf), self._pending, self._pgconn
        get = pgconn.get_copy_data
        while len(pending) < want and not self._eof:
            nbytes, data = get(1)
            if nbytes > 0:
                pending += data
            elif nbytes == 0:
                select.select([pgconn.socket], [], [], 1.0)
                pgconn.consume_input()
            else:
                self._eof = True
                self._finish()
        n = min(want, len(pending))
        buf[:n] = pending[:n]
        del pending[:n]
        return n

    def _finish(self) -> None:
        error = None
        while (res := self._pgconn.get_result()) is not None:
            if res.status == libpq.ExecStatus.FATAL_ERROR and error is None:
                error = psycopg.errors.error_from_result(res, encoding=self._encoding)
        if error is not None:
            raise error


def describe(conn: psycopg.Connection, text: str) -> list[tuple[str, int]] | None:
    """``[(name, type oid)]`` of a single statement, or None if PostgreSQL will not prepare it alone.

    The statement is only parsed (``PQprepare``), never executed; the caller wraps this in a savepoint.
    """
    pgconn = conn.pgconn
    res = pgconn.prepare(b"", text.encode())
    if res.status != libpq.ExecStatus.COMMAND_OK:
        return None
    res = pgconn.describe_prepared(b"")
    if res.status != libpq.ExecStatus.COMMAND_OK:
        return None
    return [(res.fname(i).decode(), res.ftype(i)) for i in range(res.nfields)]


def export_last(conn: psycopg.Connection, text: str, sink: Sink) -> int:
    """Run the last statement ``text`` and write its rows to ``sink``; returns the row count."""
    cur = conn.cursor()
    cur.execute("SAVEPOINT desctom_probe")
    columns = describe(conn, text)
    if columns is None:
        cur.execute("ROLLBACK TO SAVEPOINT desctom_probe")
    elif columns and all(oid in COPY_SAFE for _, oid in columns):
        try:
            return _copy_path(cur, text, columns, sink)
        except psycopg.errors.SyntaxError:  # not a statement COPY can wrap (EXPLAIN, SHOW, ...)
            cur.execute("ROLLBACK TO SAVEPOINT desctom_probe")
    return _stream_path(cur, text, sink, columns)


def _copy_path(cur: psycopg.Cursor, text: str, columns: list[tuple[str, int]], sink: Sink) -> int:
    names = [name for name, _ in columns]
    types = {f"c{i}": SCALAR_TYPES[oid] for i, (_, oid) in enumerate(columns)}
    # `text` is one complete statement (PostgreSQL parsed it alone); the newline ends a trailing comment.
    raw = _CopyStream(cur.connection)
    raw.start(f"COPY (\n{text}\n) TO STDOUT (FORMAT csv)".encode())
    with io.BufferedReader(raw, BLOCK_BYTES) as stream:
        if not stream.peek(1):
            empty = {n: pa.array([], type=t) for n, t in zip(names, types.values(), strict=True)}
            sink.write(pa.table(empty))
            return 0
        reader = pacsv.open_csv(
            stream, read_options=pacsv.ReadOptions(column_names=list(types), block_size=BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"]))
        for batch in reader:
            sink.write(pa.Table.from_batches([batch]).rename_columns(names))
    check_still_in_transaction(cur.connection)
    return sink.rows


def _stream_path(cur: psycopg.Cursor, text: str, sink: Sink, columns) -> int:
    for name in ("json", "jsonb"):
        cur.adapters.register_loader(name, TextLoader)  # JSON values stay text in files
    rows_in = sqlexec.Rows(cur, text, CHUNK_ROWS)
    chunks = iter(rows_in)
    while rows := list(itertools.islice(chunks, CHUNK_ROWS)):
        sink.write(_rows_table([(c.name, c.type_code) for c in cur.description], rows))
    check_still_in_transaction(cur.connection)
    if rows_in.no_result:
        raise SqlError("no results to fetch")
    if sink.rows == 0:
        sink.write(_rows_table(columns or [], []))
    return sink.rows


def _rows_table(columns: list[tuple[str, int]], rows: list[tuple]) -> pa.Table:
    values_by_column = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    arrays = []
    for (_, oid), values in zip(columns, values_by_column, strict=True):
        typ = arrow_type(oid)
        if oid == 1700:
            values = [None if v is None else float(v) for v in values]
        try:
            arrays.append(pa.array(values, type=typ, from_pandas=False))
        except (pa.ArrowException, TypeError, ValueError):
            arrays.append(pa.array([None if v is None else str(v) for v in values], type=pa.string()))
    return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])  # names may repeat
