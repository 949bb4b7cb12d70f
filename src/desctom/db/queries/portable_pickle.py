"""A pickled pandas DataFrame that pandas >= 2.0 loads with numpy 1.x or 2.x, with or without pyarrow.

``pandas.to_pickle`` writes the server's pandas internals (numpy's ``_core`` modules, pyarrow-backed
strings, block managers), which older clients cannot import. This writer emits the pickle opcodes
itself, as the original's runner built its frame: ``pandas.DataFrame(rows, None, columns)``, where
``rows`` is a list of tuples of plain Python values (int, float, str, bool, None, lists,
``datetime.datetime`` / ``datetime.date``). pandas infers the column types on the client (integers
-> int64, integers with NULLs -> float64, text -> object/str, timestamps -> datetime64).

The only globals in the stream are :data:`GLOBALS`. The rows are written batch by batch, so only one
batch of Python values is in memory. Protocol 4 (Python 3.4+); the client call stays
``pandas.read_pickle(io.BytesIO(content))``.
"""

from __future__ import annotations

import datetime
import struct
from typing import BinaryIO

import numpy as np
import pyarrow as pa

#: (module, name) of every global the stream refers to.
GLOBALS = (("pandas", "DataFrame"), ("datetime", "datetime"), ("datetime", "date"),
           ("datetime", "timezone"), ("datetime", "timedelta"))

PROTO, STOP, MARK, TUPLE, TUPLE1, REDUCE, POP = b"\x80", b".", b"(", b"t", b"\x85", b"R", b"0"
NONE, NEWTRUE, NEWFALSE, EMPTY_LIST, APPENDS = b"N", b"\x88", b"\x89", b"]", b"e"
BINPUT, BINGET, STACK_GLOBAL = b"q", b"h", b"\x93"
ROWS_PER_APPENDS = 1000
UTC = datetime.UTC
#: Memo slots of the objects built once at the start.
DATETIME, DATE, UTC_SLOT = 0, 1, 2


def _int(v: int) -> bytes:
    if 0 <= v < 256:
        return b"K" + bytes((v,))
    if 0 <= v < 65536:
        return b"M" + v.to_bytes(2, "little")
    if -(1 << 31) <= v < (1 << 31):
        return b"J" + v.to_bytes(4, "little", signed=True)
    size = (v.bit_length() + 8) // 8  # LONG1: two's complement, little-endian
    return b"\x8a" + bytes((size,)) + v.to_bytes(size, "little", signed=True)


def _str(v: str) -> bytes:
    data = v.encode("utf-8", "surrogatepass")
    if len(data) < 256:
        return b"\x8c" + bytes((len(data),)) + data
    if len(data) < (1 << 32):
        return b"X" + struct.pack("<I", len(data)) + data
    return b"\x8d" + struct.pack("<Q", len(data)) + data


def _datetime(v: datetime.datetime) -> bytes:
    tz = b""
    if v.tzinfo is not None:
        v, tz = v.astimezone(UTC), BINGET + bytes((UTC_SLOT,))
    fields = (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
    return BINGET + bytes((DATETIME,)) + MARK + b"".join(map(_int, fields)) + tz + TUPLE + REDUCE


def _date(v: datetime.date) -> bytes:
    return BINGET + bytes((DATE,)) + MARK + _int(v.year) + _int(v.month) + _int(v.day) + TUPLE + REDUCE


def _list(v: list) -> bytes:
    return EMPTY_LIST + (MARK + b"".join(map(value, v)) + APPENDS if v else b"")


ENCODERS = {type(None): lambda v: NONE, bool: lambda v: NEWTRUE if v else NEWFALSE, int: _int,
            float: lambda v: b"G" + struct.pack(">d", v), str: _str, datetime.datetime: _datetime,
            datetime.date: _date, list: _list, tuple: _list}


def value(v) -> bytes:
    """The opcodes that push ``v`` (anything else than the known types: its text)."""
    encode = ENCODERS.get(type(v))
    return encode(v) if encode is not None else _str(str(v))


def _global(module: str, name: str) -> bytes:
    return _str(module) + _str(name) + STACK_GLOBAL


def _timestamps(column: pa.ChunkedArray) -> list[bytes]:
    """Opcodes of each timestamp, ``datetime.datetime(year, ..., microsecond[, utc])``, made for the
    whole column at once (fixed-width integer opcodes); years outside 1..9999 as text."""
    micros = column.cast(pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
    missing = micros.is_null().to_numpy(zero_copy_only=False)
    when = micros.fill_null(0).to_numpy().view("datetime64[us]")
    days = when.astype("datetime64[D]")
    year = when.astype("datetime64[Y]").astype(np.int64) + 1970
    of_day = (when - days).astype(np.int64)
    fields = [year, when.astype("datetime64[M]").astype(np.int64) % 12 + 1,
              (days - when.astype("datetime64[M]")).astype(np.int64) + 1, of_day // 3_600_000_000,
              of_day // 60_000_000 % 60, of_day // 1_000_000 % 60, of_day % 1_000_000]
    tz = BINGET + bytes((UTC_SLOT,)) if column.type.tz else b""
    layout = [BINGET + bytes((DATETIME,)) + MARK, (b"M", 2), (b"K", 1), (b"K", 1), (b"K", 1), (b"K", 1),
              (b"K", 1), (b"J", 4), tz + TUPLE + REDUCE]
    width = sum(len(part) if isinstance(part, bytes) else 1 + part[1] for part in layout)
    codes = np.zeros((len(when), width), np.uint8)
    at, values = 0, iter(fields)
    for part in layout:
        if isinstance(part, bytes):
            codes[:, at:at + len(part)] = np.frombuffer(part, np.uint8)
            at += len(part)
            continue
        opcode, size = part
        codes[:, at] = opcode[0]
        codes[:, at + 1:at + 1 + size] = next(values).astype(f"<i{size}").view(np.uint8).reshape(-1, size)
        at += 1 + size
    encoded = codes.view(f"V{width}").ravel().tolist()
    for i in np.flatnonzero(missing | (year < 1) | (year > 9999)):
        encoded[i] = NONE if missing[i] else _str(str(when[i]))
    return encoded


def encoded_columns(table: pa.Table) -> list[list[bytes]]:
    """Each column as the opcodes of its values; ``real`` (float32) by its shortest text, as PostgreSQL
    shows it; timestamps made in bulk."""
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            columns.append(_timestamps(column))
        elif pa.types.is_float32(column.type):
            columns.append([NONE if v is None else value(float(v))
                            for v in column.cast(pa.string()).to_pylist()])
        else:
            columns.append(list(map(value, column.to_pylist())))
    return columns


class DataFrameWriter:
    """Writes ``pandas.DataFrame(rows, None, columns)`` to ``fh``, one record batch at a time."""

    def __init__(self, fh: BinaryIO, columns: list[str]):
        self.fh, self.columns = fh, list(columns)
        zero_timedelta = _global("datetime", "timedelta") + MARK + _int(0) + TUPLE + REDUCE
        fh.write(PROTO + b"\x04" + _global("pandas", "DataFrame")
                 + _global("datetime", "datetime") + BINPUT + bytes((DATETIME,)) + POP
                 + _global("datetime", "date") + BINPUT + bytes((DATE,)) + POP
                 + _global("datetime", "timezone") + zero_timedelta + TUPLE1 + REDUCE
                 + BINPUT + bytes((UTC_SLOT,)) + POP
                 + MARK + EMPTY_LIST)

    def write(self, table: pa.Table) -> None:
        """Append the rows of ``table`` (its columns in the order given at the start)."""
        rows = zip(*encoded_columns(table), strict=True)
        if not self.columns:
            rows = iter([()] * table.num_rows)
        chunk = []
        for row in rows:
            chunk.append(MARK + b"".join(row) + TUPLE)
            if len(chunk) == ROWS_PER_APPENDS:
                self.fh.write(MARK + b"".join(chunk) + APPENDS)
                chunk = []
        if chunk:
            self.fh.write(MARK + b"".join(chunk) + APPENDS)

    def close(self) -> None:
        """End the stream: ``DataFrame(rows, None, columns)``."""
        self.fh.write(NONE + _list(self.columns) + TUPLE + REDUCE + STOP)
