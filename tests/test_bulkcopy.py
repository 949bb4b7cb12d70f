"""Binary COPY helpers: straight copies, and idempotent inserts that skip existing keys."""

import pytest
from django.db import connection

from desctom.common import bulkcopy

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
