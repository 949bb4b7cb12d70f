"""Photometry packed by PostgreSQL and unpacked by numpy (``desctom.elasticc2.queries.packed_photometry``),
and the JSON writer the API answers go through (``desctom.core.jsonapi.json_bytes``)."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from django.db import connection

from desctom.core.jsonapi import json_bytes
from desctom.elasticc2.queries.packed_photometry import binary_cursor, points_sql, unpack

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


def test_until_keeps_each_objects_points_up_to_that_time():
    rows = packed([1, 3, 2])
    points = unpack(*([r[i] for r in rows] for i in range(1, 5)), until=60000.5)
    assert points.offsets.tolist() == [0, 2, 2, 3]
    assert points.of(0)["mjd"].tolist() == [60000.125, 60000.25] and points.of(0)["band"] == ["Y", "g"]
    assert points.of(2)["band"] == ["u"] and points.of(0)["flux"].tolist() == pytest.approx([0.3, 1.5])
    later = unpack(*([r[i] for r in rows] for i in range(1, 5)), until=70000.0)
    assert later.offsets.tolist() == [0, 3, 3, 5] and later.band == ["Y", "g", "r", "u", "VR"]
    assert unpack(*([r[i] for r in rows] for i in range(1, 5)), until=0.0).offsets.tolist() == [0, 0, 0, 0]


# -- elasticc2_diaobjectpackedphotometry, kept by triggers on elasticc2_diaforcedsource -----------------
def query(sql: str, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


def stored_packs() -> dict[int, tuple]:
    """What the packed table holds, unpacked: {object: (mjd, band, flux, fluxerr, npoints)}."""
    connection.ensure_connection()
    with binary_cursor(connection.connection) as cur:
        cur.execute("SELECT diaobject_id, mjd, band, flux, fluxerr, npoints "
                    "FROM elasticc2_diaobjectpackedphotometry ORDER BY 1")
        rows = cur.fetchall()
    points = unpack(*([r[i] for r in rows] for i in range(1, 5)))
    return {r[0]: (points.of(i)["mjd"].tolist(), points.of(i)["band"], points.of(i)["flux"].tolist(),
                   points.of(i)["fluxerr"].tolist(), r[5]) for i, r in enumerate(rows)}


def forced_now() -> dict[int, tuple]:
    """The same, computed from elasticc2_diaforcedsource directly."""
    result: dict[int, tuple] = {}
    for oid, mjd, band, flux, err in query(
            "SELECT diaobject_id, midpointtai, filtername, psflux, psfluxerr FROM elasticc2_diaforcedsource "
            "ORDER BY diaobject_id, midpointtai, diaforcedsource_id"):
        m, b, f, e, _ = result.get(oid, ([], [], [], [], 0))
        result[oid] = (m + [mjd], b + [band], f + [float(np.float32(flux))], e + [float(np.float32(err))],
                       len(m) + 1)
    return result


def test_every_kind_of_write_to_the_forced_table_repacks_the_objects_it_touched():
    query("INSERT INTO elasticc2_diaobject (diaobject_id, ra, decl, isddf) "
          "SELECT i, 10 + i, -5, false FROM generate_series(1, 4) i")
    query("INSERT INTO elasticc2_diaforcedsource (diaforcedsource_id, diaobject_id, midpointtai, filtername, "
          "psflux, psfluxerr) SELECT 100 * o + k, o, 60000 + mod(k * 37, 11), "
          "(ARRAY['u','g','r','i','z','Y'])[1 + mod(k, 6)], k * 1.5, 0.5 + k FROM generate_series(1, 3) o, "
          "generate_series(1, 9) k")
    assert set(stored_packs()) == {1, 2, 3} and stored_packs() == forced_now()
    # an update moving points in time and between objects, a delete, rows in time ties
    query("UPDATE elasticc2_diaforcedsource SET midpointtai = 59999, diaobject_id = 4 "
          "WHERE diaforcedsource_id IN (105, 203)")
    query("UPDATE elasticc2_diaforcedsource SET psflux = -psflux WHERE diaobject_id = 2")
    query("DELETE FROM elasticc2_diaforcedsource WHERE diaobject_id = 3")
    query("INSERT INTO elasticc2_diaforcedsource (diaforcedsource_id, diaobject_id, midpointtai, filtername, "
          "psflux, psfluxerr) VALUES (150, 1, 60000, 'g', 1, 1), (149, 1, 60000, 'r', 2, 2)")
    packs = stored_packs()
    assert set(packs) == {1, 2, 4} and packs == forced_now()
    assert packs[4][0] == [59999.0, 59999.0] and packs[1][4] == 10
    # COPY, as the bulk paths write
    with connection.cursor() as cur, cur.connection.cursor().copy(
            "COPY elasticc2_diaforcedsource (diaforcedsource_id, diaobject_id, midpointtai, filtername, "
            "psflux, psfluxerr) FROM STDIN") as copy:
        for k in range(5):
            copy.write_row((900 + k, 3, 60100.0 - k, "z", float(k), 1.0))
    assert stored_packs() == forced_now() and stored_packs()[3][0] == [60096.0, 60097.0, 60098.0, 60099.0,
                                                                       60100.0]
    query("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred foreign-key checks
    query("TRUNCATE elasticc2_diaforcedsource")
    assert stored_packs() == {} == forced_now()
