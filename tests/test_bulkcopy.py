"""Binary COPY helpers: straight copies, and idempotent inserts that skip existing keys."""

import pytest
from django.db import connection

from desctom.core import bulkcopy

pytestmark = pytest.mark.django_db


def raw():
    connection.ensure_connection()
    return connection.connection


def test_copy_rows_and_insert_new_rows_skip_existing_keys():
    table, cols = "elasticc2_brokersourceids", ["diasource_id"]
    assert bulkcopy.copy_rows(raw(), table, cols, [(1,), (2,), (3,)]) == 3
    assert bulkcopy.insert_new_rows(raw(), table, cols, [(2,), (3,), (4,), (5,)]) == (4, 2)
    assert bulkcopy.insert_new_rows(raw(), table, cols, [(5,)]) == (1, 0)
    with connection.cursor() as cur:
        cur.execute(f"SELECT diasource_id FROM {table} ORDER BY 1")
        assert [r[0] for r in cur.fetchall()] == [1, 2, 3, 4, 5]


def test_column_types_and_unknown_columns():
    types = bulkcopy.column_types(raw(), "elasticc2_brokermessage", ["classid", "probability", "alert_id"])
    assert types == ["int2[]", "float4[]", "int8"]
    with pytest.raises(ValueError, match="no column"):
        bulkcopy.column_types(raw(), "elasticc2_brokermessage", ["nope"])


def test_copy_arrays_writes_nulls_timestamps_and_arrays():
    """Masked values become NULL, datetime64 becomes timestamptz, 2-D arrays become SQL arrays."""
    import datetime

    import numpy as np

    conn = raw()
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t_copy (i int8, s text, ts timestamptz, c int2[], p float4[])")
    ts = np.array(["2024-01-02T03:04:05.678", "2000-01-01T00:00:00", "1999-12-31T23:59:59.5"],
                  dtype="datetime64[ms]")
    strings = np.ma.MaskedArray(np.array(["ab", "", "xyz"]), mask=[False, False, True])
    n_written = bulkcopy.copy_arrays(
        conn, "t_copy", ["i", "s", "ts", "c", "p"],
        [np.ma.MaskedArray([1, 2, 3], mask=[False, True, False]), strings,
         np.ma.MaskedArray(ts, mask=[False, True, False]),
         np.array([[1, 2], [3, 4], [5, -6]]), np.array([[0.5, 0.25], [1, 0], [0.125, 2]])],
        ["int8", "text", "timestamptz", "int2[]", "float4[]"])
    assert n_written == 3
    bulkcopy.copy_arrays(conn, "t_copy", ["i", "c", "p"], [np.array([9]), np.zeros((1, 0)), np.zeros((1, 0))],
                         ["int8", "int2[]", "float4[]"])
    with conn.cursor() as cur:
        cur.execute("SELECT i, s, ts, c, p FROM t_copy ORDER BY c[1] NULLS FIRST")
        rows = cur.fetchall()
    utc = datetime.UTC
    assert rows == [
        (9, None, None, [], []),
        (1, "ab", datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=utc), [1, 2], [0.5, 0.25]),
        (None, "", None, [3, 4], [1.0, 0.0]),
        (3, None, datetime.datetime(1999, 12, 31, 23, 59, 59, 500000, tzinfo=utc), [5, -6], [0.125, 2.0]),
    ]


def test_copy_arrays_rejects_out_of_range_and_unknown_types():
    import numpy as np

    conn = raw()
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t_range (c int2[], b bytea)")
    with pytest.raises(ValueError, match="out of range"):
        bulkcopy.copy_arrays(conn, "t_range", ["c"], [np.array([[1, 70000]])], ["int2[]"])
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t_range (c int2[], b bytea)")
    with pytest.raises(ValueError, match="cannot write type bytea"):
        bulkcopy.copy_arrays(conn, "t_range", ["b"], [np.array([1])], ["bytea"])
