"""Fixtures of the SQL API tests: committed science tables of our own, users, JSON helpers.

The read-only role reads through its own connection, so it sees only committed rows: the
fixtures commit their tables through an autocommit connection as the database owner.
"""

from __future__ import annotations

import psycopg
import pytest

#: A science table (``elasticc2_`` prefix: the role may read it) holding every interesting type.
SAMPLE_DDL = """
CREATE TABLE IF NOT EXISTS elasticc2_sqltest (
    id bigint PRIMARY KEY, name text, flag boolean, mag real, flux double precision,
    seen timestamptz, day date, amount numeric, classid smallint[], probability real[],
    blob bytea, extra jsonb)"""
SAMPLE_ROWS = """
INSERT INTO elasticc2_sqltest VALUES
 (1, 'SN Ia', true, 21.5, 1234.5, '2024-03-28 17:05:01.123456+00', '2024-03-28', 1.25, '{111,112}',
  '{0.75,0.25}', '\\x00ff', '{"a": 1}'),
 (2, 'AGN', false, 'NaN', 'Infinity', NULL, NULL, NULL, '{}', NULL, NULL, NULL),
 (3, '', NULL, NULL, '-Infinity', '2024-01-01 00:00:00+00', '2024-01-01', -3, '{2222}', '{1}', '', '[]'),
 (4, 'with "quotes", commas', true, 19.0, 0.001, '2023-12-31 23:59:59.5+00', '2023-12-31', 0, NULL,
  '{0.5,0.5}', '\\x41', 'null')
ON CONFLICT DO NOTHING"""
CHILD_DDL = """
CREATE TABLE IF NOT EXISTS elasticc2_sqltestchild (
    child_id int PRIMARY KEY, parent_id bigint REFERENCES elasticc2_sqltest (id), note text)"""
PASSWORD = "sql-test-password-1"


def owner_connection() -> psycopg.Connection:
    from desctom.core.bulkcopy import connect

    return connect(autocommit=True)


@pytest.fixture(scope="session")
def science_tables(django_db_setup, django_db_blocker):
    """Our committed science tables, readable by the role (grants refreshed as after a migrate)."""
    from desctom.db.workers.roles import ensure_readonly_role

    with django_db_blocker.unblock():
        with owner_connection() as conn:
            conn.execute(SAMPLE_DDL)
            conn.execute(SAMPLE_ROWS)
            conn.execute(CHILD_DDL)
            conn.execute("INSERT INTO elasticc2_sqltestchild VALUES (1, 1, 'x') ON CONFLICT DO NOTHING")
        ensure_readonly_role()
    return ["elasticc2_sqltest", "elasticc2_sqltestchild"]


@pytest.fixture
def user(db):
    from django.contrib.auth.models import User

    return User.objects.create_user("scientist", password=PASSWORD)


@pytest.fixture
def other_user(db):
    from django.contrib.auth.models import User

    return User.objects.create_user("otherscientist", password=PASSWORD)


@pytest.fixture
def admin_user_db(db):
    from django.contrib.auth.models import User

    return User.objects.create_user("sqladmin", password=PASSWORD, is_staff=True)


@pytest.fixture
def api(client, user, science_tables):
    """Django's test client logged in as an ordinary user."""
    client.force_login(user)
    return client
