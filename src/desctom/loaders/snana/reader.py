"""Reading SNANA simulation output: HEAD/PHOT FITS pairs and the truth ``.DUMP`` (reference §3.1).

Every problem with an input file is a :class:`SnanaError` whose message names the file, so the
command can print one clear line instead of a traceback.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desctom.loaders.snana.fitstable import BLOCK, FitsError, FitsTable, data_size, parse_header

HEAD_PATTERNS = ("*HEAD.FITS.gz", "*HEAD.FITS")


class SnanaError(Exception):
    """Bad SNANA input (missing, truncated or inconsistent file); the message names the file."""


@dataclass(frozen=True)
class FilePair:
    """One HEAD file (objects) and the PHOT file (photometry) it points into."""

    directory: Path
    head: Path
    phot: Path

    @property
    def name(self) -> str:
        return self.head.name


class SnanaDirectory:
    """One SNANA output directory: its HEAD/PHOT pairs and its truth file ``<dirname>.DUMP``."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.is_dir():
            raise SnanaError(f"{self.path}: no such directory")

    @property
    def dump(self) -> Path:
        return self.path / f"{self.path.name}.DUMP"

    def head_files(self) -> list[Path]:
        found = {p for pattern in HEAD_PATTERNS for p in self.path.glob(pattern)}
        return sorted(found)

    def pairs(self, only: set[str] | None = None) -> list[FilePair]:
        """The HEAD/PHOT pairs (restricted to HEAD file names in ``only`` if given)."""
        heads = [h for h in self.head_files() if only is None or h.name in only]
        if not heads and only is None:
            raise SnanaError(f"{self.path}: no *HEAD.FITS.gz files")
        pairs = []
        for head in heads:
            phot = head.with_name(head.name.replace("HEAD.FITS", "PHOT.FITS"))
            if not phot.is_file():
                raise SnanaError(f"{head}: its photometry file {phot.name} is missing")
            pairs.append(FilePair(self.path, head, phot))
        return pairs


def _decompressed(path: Path) -> bytes:
    """The FITS bytes of ``path`` (gunzipped and CRC-checked if it ends in .gz)."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.name.endswith(".gz") else raw
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise SnanaError(f"{path}: truncated or corrupt gzip file ({exc})") from None
    except OSError as exc:
        raise SnanaError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_table(path: Path) -> FitsTable:
    """The first binary table of a (gzipped) FITS file, fully read and checked."""
    try:
        return FitsTable.from_bytes(_decompressed(path))
    except FitsError as exc:
        raise SnanaError(f"{path}: {exc}") from None


def column(table: FitsTable, name: str, path: Path, required: bool = True) -> np.ndarray | None:
    """Column ``name`` of a table (case-insensitive); None, or an error if ``required``, when absent."""
    if not table.has(name):
        if required:
            raise SnanaError(f"{path}: column {name} is missing")
        return None
    return table.column(name)


# -- cheap completeness check of a PHOT file (no full decompression) ---------------------------------
def _next_header(stream) -> tuple[dict[str, object], int]:
    """The keywords and byte size of the next FITS header in ``stream``."""
    blocks = []
    while True:
        block = stream.read(BLOCK)
        blocks.append(block)
        if len(block) < BLOCK:
            raise FitsError("header ends early (truncated, or not FITS)")
        if any(block[i:i + 8] == b"END     " for i in range(0, BLOCK, 80)):
            return parse_header(b"".join(blocks))
        if len(blocks) > 1000:
            raise FitsError("no END card (not FITS)")


def phot_rows(path: Path) -> int:
    """The row count of a PHOT file, after a quick completeness check.

    Reads only the two headers. For a gzip file the size stored in its trailer must equal the
    size the headers announce (a truncated file fails this); anything unusual falls back to a
    full read.
    """
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as stream:
            primary, primary_size = _next_header(stream)
            if primary.get("SIMPLE") is not True:
                raise FitsError("not a FITS file (no SIMPLE = T)")
            stream.seek(data_size(primary), io.SEEK_CUR)
            table, table_size = _next_header(stream)
    except (OSError, EOFError, zlib.error) as exc:
        raise SnanaError(f"{path}: truncated or not a FITS file ({exc})") from None
    except FitsError as exc:
        raise SnanaError(f"{path}: {exc}") from None
    if str(table.get("XTENSION", "")).strip() != "BINTABLE":
        raise SnanaError(f"{path}: the first extension is not a binary table")
    expected = primary_size + data_size(primary) + table_size + data_size(table)
    if _stored_size(path) != expected % 2**32:
        return len(read_table(path))  # more than two HDUs, or damaged: the full read decides
    return int(table.get("NAXIS2", 0))


def _stored_size(path: Path) -> int:
    """Uncompressed size (mod 2**32) from a gzip trailer, or the plain file size."""
    with open(path, "rb") as fh:
        if not path.name.endswith(".gz"):
            return fh.seek(0, io.SEEK_END) % 2**32
        fh.seek(-4, io.SEEK_END)
        return struct.unpack("<I", fh.read(4))[0]


# -- the truth DUMP -----------------------------------------------------------------------------------
@dataclass
class DumpTable:
    """The rows of a SNANA DUMP file: column name (upper case, as in VARNAMES) -> string values."""

    path: Path
    varnames: list[str]
    values: np.ndarray  # 2-D array of ASCII byte strings, one row per SN: line

    @property
    def cids(self) -> np.ndarray:
        return self.integers("CID")

    def has(self, name: str) -> bool:
        return name.upper() in self._index

    @property
    def _index(self) -> dict[str, int]:
        return {v.upper(): i for i, v in enumerate(self.varnames)}

    def strings(self, name: str) -> np.ndarray:
        return self.values[:, self._index[name.upper()]]

    def integers(self, name: str) -> np.ndarray:
        col = self.strings(name)
        try:
            return col.astype(np.int64)
        except ValueError:
            pass
        floats = self.floats(name)
        if not np.all(np.isfinite(floats) & (floats == np.round(floats))):
            raise SnanaError(f"{self.path}: column {name} holds non-integer values")
        return floats.astype(np.int64)

    def floats(self, name: str) -> np.ndarray:
        try:
            return self.strings(name).astype(np.float64)
        except ValueError:
            raise SnanaError(f"{self.path}: column {name} holds non-numeric values") from None


def read_dump(path: Path) -> DumpTable:
    """Parse a SNANA ASCII DUMP: a ``VARNAMES:`` line, then one ``SN:`` line per object."""
    if not path.is_file():
        raise SnanaError(f"{path}: truth file missing (each directory needs <dirname>.DUMP)")
    varnames: list[str] | None = None
    rows: list[list[bytes]] = []
    try:
        raw = path.read_bytes()
        raw.decode("ascii")  # an ASCII file, or not a DUMP at all
    except (UnicodeDecodeError, OSError) as exc:
        raise SnanaError(f"{path}: unreadable truth file ({exc})") from None
    for lineno, line in enumerate(raw.split(b"\n"), 1):  # bytes: numpy converts them 3x faster than str
        words = line.split()
        if not words or words[0].startswith(b"#"):
            continue
        if words[0] == b"VARNAMES:":
            varnames = [w.decode() for w in words[1:]]
        elif words[0] == b"SN:":
            if varnames is None:
                raise SnanaError(f"{path}: line {lineno}: SN: row before the VARNAMES: line")
            if len(words) - 1 != len(varnames):
                raise SnanaError(f"{path}: line {lineno}: {len(words) - 1} values, "
                                 f"VARNAMES lists {len(varnames)}")
            rows.append(words[1:])
    if varnames is None:
        raise SnanaError(f"{path}: not a SNANA DUMP file (no VARNAMES: line)")
    if "CID" not in [v.upper() for v in varnames]:
        raise SnanaError(f"{path}: VARNAMES has no CID column")
    if not rows:
        raise SnanaError(f"{path}: no SN: rows")
    table = DumpTable(path, varnames, np.array(rows, dtype=bytes))
    try:
        table.cids  # noqa: B018 - validate the ids early
    except SnanaError:
        raise SnanaError(f"{path}: CID values are not integers") from None
    return table
