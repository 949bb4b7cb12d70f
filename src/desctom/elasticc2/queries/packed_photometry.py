"""Forced photometry of many objects read straight into numpy arrays, for answers of tens of MB.

Answers such as ``gethottransients`` carry up to millions of photometry points. Building their JSON
in PostgreSQL (``json_agg``) or from one Python object per value costs ~150 ns per number. Here the
statement packs each object's time-ordered numbers into one ``bytea`` per column and its band
names into one string (:func:`points_sql`); Python joins the columns of all objects, reads each
with one ``numpy.frombuffer``, and orjson writes slices of the result
(``desctom.core.jsonapi.json_bytes``). Float32 fluxes stay float32, so they are written with
the digits float32 needs, as PostgreSQL writes ``real`` values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg.pq import Format

#: Separator of the band names in :func:`points_sql`'s ``band`` string (not in any band name).
BAND_SEPARATOR = "\x1f"


def points_sql(alias: str = "f") -> str:
    """The select list of aggregates over forced-photometry rows ``alias`` (in the order they
    arrive): ``mjd, band, flux, fluxerr`` (see :func:`unpack`). The numbers come as the
    concatenation of their binary forms (``float8send``: one ``bytea`` per column and object),
    which costs PostgreSQL less than sending arrays (whose binary form is made one element at
    a time) and needs no parsing but one ``numpy.frombuffer``."""
    return (f"string_agg(float8send({alias}.midpointtai), ''::bytea) AS mjd, "
            f"string_agg({alias}.filtername, E'\\x1f') AS band, "
            f"string_agg(float4send({alias}.psflux), ''::bytea) AS flux, "
            f"string_agg(float4send({alias}.psfluxerr), ''::bytea) AS fluxerr")


def binary_cursor(conn: psycopg.Connection) -> psycopg.Cursor:
    """A cursor on ``conn`` returning binary results (``bytea`` as bytes, without hex decoding)."""
    cur = psycopg.Cursor(conn)  # not conn.cursor(): Django makes client-side (text-only) cursors
    cur.format = Format.BINARY
    return cur


@dataclass
class Points:
    """The points of many objects, concatenated; object ``i`` is ``[offsets[i], offsets[i + 1])``."""

    mjd: np.ndarray
    band: list[str]
    flux: np.ndarray
    fluxerr: np.ndarray
    offsets: np.ndarray

    def of(self, i: int) -> dict:
        """``{"mjd", "band", "flux", "fluxerr"}`` of object ``i`` (array slices: no copy)."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return {"mjd": self.mjd[a:b], "band": self.band[a:b], "flux": self.flux[a:b],
                "fluxerr": self.fluxerr[a:b]}


def _column(parts: list[bytes | None], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """The numbers of many objects' packed columns, concatenated, in native byte order; and how
    many each object has."""
    width = np.dtype(dtype).itemsize
    sizes = np.fromiter((len(p) if p else 0 for p in parts), dtype=np.int64, count=len(parts)) // width
    values = np.frombuffer(b"".join(p for p in parts if p), dtype=dtype)
    return values.astype(np.dtype(dtype).newbyteorder("=")), sizes


def unpack(mjd: list[bytes | None], band: list[str | None], flux: list[bytes | None],
           fluxerr: list[bytes | None], until: float | None = None) -> Points:
    """The points of many objects from :func:`points_sql`'s columns, one entry per object (``None``:
    no points), as fetched by a :func:`binary_cursor`. With ``until``, each object keeps only its
    points with ``mjd <= until`` (its columns must be in time order, as packed)."""
    mjd_values, sizes = _column(mjd, ">f8")
    flux_values, flux_sizes = _column(flux, ">f4")
    err_values, err_sizes = _column(fluxerr, ">f4")
    if not (np.array_equal(sizes, flux_sizes) and np.array_equal(sizes, err_sizes)):
        raise ValueError("photometry columns of different lengths")
    keep = sizes
    if until is not None:
        kept = mjd_values <= until
        if not kept.all():
            owner = np.repeat(np.arange(len(sizes)), sizes)
            keep = np.bincount(owner[kept], minlength=len(sizes)).astype(np.int64)
            mjd_values, flux_values, err_values = mjd_values[kept], flux_values[kept], err_values[kept]
    names: list[str] = []
    for text, size, n in zip(band, sizes.tolist(), keep.tolist(), strict=True):
        if size:
            split = text.split(BAND_SEPARATOR)
            if len(split) != size:
                raise ValueError(f"band names hold the separator {BAND_SEPARATOR!r}")
            names += split if n == size else split[:n]
    offsets = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=offsets[1:])
    return Points(mjd=mjd_values, band=names, flux=flux_values, fluxerr=err_values, offsets=offsets)
