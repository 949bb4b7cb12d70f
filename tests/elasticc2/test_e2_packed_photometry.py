"""Photometry packed by PostgreSQL and unpacked by numpy (``desctom.elasticc2.api.packed_photometry``),
and the JSON writer the API answers go through (``desctom.elasticc2.api.base.json_bytes``)."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from django.db import connection

from desctom.elasticc2.api.base import json_bytes
from desctom.elasticc2.api.packed_photometry import binary_cursor, points_sql, unpack

pytestmark = pytest.mark.django_db

#: (object, mjd, band, flux, fluxerr) in no particular order; object 3 has no points.
ROWS = [(1, 60000.25, "g", 1.5, 0.25), (2, 60001.0, "VR", -3.0e-7, 1e30), (1, 60000.125, "Y", 0.3, 0.1),
        (2, 60000.5, "u", float("nan"), 2.0), (1, 60002.0, "r", 123456.789, 7.0)]


def packed(object_ids: list[int]) -> list[tuple]:
    """points_sql over ROWS, one row per object of ``object_ids`` (in that order), time-ordered."""
    connection.ensure_connection()
    with binary_cursor(connection.connection) as cur:
        cur.execute(f"""
            SELECT o, p.* FROM unnest(%(objects)s::bigint[]) WITH ORDINALITY AS i(o, k)
            LEFT JOIN LATERAL (
                SELECT {points_sql()} FROM (
                    SELECT r.mjd AS midpointtai, r.band AS filtername, r.flux::real AS psflux,
                           r.err::real AS psfluxerr
                    FROM unnest(%(obj)s::bigint[], %(mjd)s::float8[], %(band)s::text[], %(flux)s::float8[],
                                %(err)s::float8[]) AS r(o, mjd, band, flux, err)
                    WHERE r.o = i.o ORDER BY r.mjd) f) p ON TRUE
            ORDER BY i.k""", {"objects": object_ids, **dict(zip(("obj", "mjd", "band", "flux", "err"),
                                                                  map(list, zip(*ROWS, strict=True)),
                                                                  strict=True))})
        return cur.fetchall()


def test_points_come_back_per_object_in_time_order_with_float32_fluxes():
    rows = packed([1, 3, 2])
    points = unpack(*([r[i] for r in rows] for i in range(1, 5)))
    assert points.offsets.tolist() == [0, 3, 3, 5]
    first, none, second = (points.of(i) for i in range(3))
    assert first["mjd"].tolist() == [60000.125, 60000.25, 60002.0] and first["band"] == ["Y", "g", "r"]
    assert first["flux"].dtype == np.float32
    assert first["flux"].tolist() == pytest.approx([0.3, 1.5, 123456.789])
    assert list(none) == ["mjd", "band", "flux", "fluxerr"] and all(len(v) == 0 for v in none.values())
    assert second["band"] == ["u", "VR"]  # names of any length
    assert math.isnan(second["flux"][0]) and second["fluxerr"].tolist() == pytest.approx([2.0, 1e30])


def test_the_json_has_float32_digits_and_null_for_nan():
    rows = packed([1, 2])
    points = unpack(*([r[i] for r in rows] for i in range(1, 5)))
    text = json_bytes([points.of(0), points.of(1)]).decode()
    assert '"flux":[0.3,1.5,123456.79]' in text  # as PostgreSQL writes real values; not 0.30000001192092896
    assert '"mjd":[60000.125,60000.25,60002.0]' in text
    assert json.loads(text)[1]["flux"] == [None, -3e-7]


def test_no_objects_and_objects_without_points():
    assert unpack([], [], [], []).offsets.tolist() == [0]
    points = unpack([None, None], [None, None], [None, None], [None, None])
    assert points.offsets.tolist() == [0, 0, 0] and json_bytes(points.of(1)) == (
        b'{"mjd":[],"band":[],"flux":[],"fluxerr":[]}')


def test_inconsistent_columns_are_refused():
    one = np.array([60000.0], dtype=">f8").tobytes()
    flux = np.array([1.0], dtype=">f4").tobytes()
    with pytest.raises(ValueError, match="different lengths"):
        unpack([one], ["g"], [flux + flux], [flux])
    with pytest.raises(ValueError, match="separator"):
        unpack([one], ["g\x1fr"], [flux], [flux])


def test_json_bytes_keeps_the_formats_of_the_standard_encoder():
    value = {1: dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC), "x": [float("inf"), np.int64(7)],
             "strided": np.arange(6)[::2], "f32": np.float32(0.1), "t": (1, "é")}
    assert json.loads(json_bytes(value)) == {"1": "2026-01-02T03:04:05.678Z", "x": [None, 7],
                                             "strided": [0, 2, 4], "f32": 0.1, "t": [1, "é"]}
