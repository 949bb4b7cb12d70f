"""Adversarial SQL: every attempt is refused by PostgreSQL with a clear error, and nothing changes.

After each attempt a fingerprint of the database (every table's content, the role's attributes,
password and settings, large objects, schemas, prepared transactions) must equal the one before.
"""

from __future__ import annotations

import re

import pytest
from conftest import owner_connection
from sqlhelpers import run_sql

from desctom.db.workers.roles import ensure_readonly_role

PERMISSION = r"permission denied|must be owner|must be (a )?superuser|must be a member"
NOT_ALLOWED = "COMMIT is not allowed"
TX_CONTROL = "transaction control statements"

ATTEMPTS = [
    # writes and DDL on science tables
    ("DROP TABLE elasticc2_sqltest", r"^must be owner of table elasticc2_sqltest"),
    ("DELETE FROM elasticc2_sqltest RETURNING id", "permission denied for table elasticc2_sqltest"),
    ("UPDATE elasticc2_sqltest SET name = 'x' RETURNING id", "permission denied for table elasticc2_sqltest"),
    ("INSERT INTO elasticc2_sqltest (id) VALUES (99) RETURNING id", "permission denied for table"),
    ("TRUNCATE elasticc2_sqltest", "permission denied for table elasticc2_sqltest"),
    ("ALTER TABLE elasticc2_sqltest ADD COLUMN evil int", "must be owner of table"),
    ("CREATE INDEX ON elasticc2_sqltest (name)", "must be owner of table"),
    ("CREATE TABLE public.evil (a int)", "permission denied for schema public"),
    ("CREATE SCHEMA evil", "permission denied for database"),
    ("CREATE VIEW public.evil AS SELECT 1", "permission denied for schema public"),
    ("DO $$ BEGIN EXECUTE 'DROP TABLE elasticc2_sqltest'; END $$", "permission denied for language plpgsql"),
    ("SELECT nextval('auth_user_id_seq')", "permission denied for sequence"),
    ("VACUUM elasticc2_sqltest", "cannot run inside a transaction block"),
    # privilege changes
    ("GRANT SELECT ON auth_user TO desctom_ro", PERMISSION),
    ("SET ROLE desctom", 'permission denied to set role "desctom"'),
    ("SET ROLE postgres", r'permission denied to set role|role "postgres" does not exist'),
    ("SELECT set_config('role', 'desctom', false)", "permission denied for function set_config"),
    (["RESET ROLE", "SELECT * FROM auth_user"], "permission denied for table auth_user"),
    ("SET SESSION AUTHORIZATION desctom", "permission denied to set session authorization"),
    ("ALTER ROLE desctom_ro SUPERUSER", PERMISSION),
    ("ALTER ROLE desctom_ro CREATEROLE", PERMISSION),
    ("CREATE ROLE evil", "permission denied to create role"),
    (["ALTER ROLE desctom_ro PASSWORD 'pwned'", "COMMIT"], NOT_ALLOWED),
    (["ALTER ROLE desctom_ro SET statement_timeout = 0", "COMMIT AND CHAIN"], NOT_ALLOWED),
    (["SELECT lo_create(4242)", "END"], NOT_ALLOWED),
    (["ALTER ROLE desctom_ro PASSWORD 'pwned'", "ROLLBACK", "ALTER ROLE desctom_ro PASSWORD 'pwned'"],
     TX_CONTROL),
    ("SELECT 1; ROLLBACK; ALTER ROLE desctom_ro PASSWORD 'pwned'", "cannot insert multiple commands"),
    ("PREPARE TRANSACTION 'evil'", r"COMMIT is not allowed|prepared transactions are disabled"),
    ("SET CONSTRAINTS ALL IMMEDIATE", NOT_ALLOWED),
    ("ALTER TABLE db_commit_guard DISABLE TRIGGER ALL", "must be owner of table db_commit_guard"),
    ("SET session_replication_role = replica", 'permission denied to set parameter "session_replication'),
    ("SET temp_file_limit = -1", 'permission denied to set parameter "temp_file_limit"'),
    ("SET track_activities = on", 'permission denied to set parameter "track_activities"'),
    # file and program access
    ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/desctom-pwned'", "to COPY to or from an external program"),
    ("COPY elasticc2_sqltest TO '/tmp/desctom-pwned.csv'", "to COPY to a file"),
    ("COPY elasticc2_sqltest FROM '/etc/passwd'", r"permission denied for table|to COPY from a file"),
    ("SELECT pg_read_file('/etc/passwd')", "permission denied for function pg_read_file"),
    ("SELECT pg_read_binary_file('/etc/passwd')", "permission denied for function pg_read_binary_file"),
    ("SELECT pg_ls_dir('.')", "permission denied for function pg_ls_dir"),
    ("SELECT lo_import('/etc/passwd')", "permission denied for function lo_import"),
    ("SELECT * FROM dblink('dbname=desctom', 'SELECT 1') AS t(a int)", "function dblink"),
    ("CREATE EXTENSION dblink", r"permission denied|not available|must be owner"),
    ("SELECT pg_reload_conf()", "permission denied for function pg_reload_conf"),
    ("ALTER SYSTEM SET statement_timeout = 0", r"permission denied|must be superuser|transaction block"),
    # auth tables and other users' queries
    ("SELECT * FROM auth_user", "permission denied for table auth_user"),
    ("SELECT username, password FROM auth_user", "permission denied for table auth_user"),
    ("SELECT * FROM django_session", "permission denied for table django_session"),
    ("SELECT * FROM authtoken_token", "permission denied for table authtoken_token"),
    ("SELECT * FROM django_admin_log", "permission denied for table django_admin_log"),
    ("SELECT * FROM db_queryqueue", "permission denied for table db_queryqueue"),
    ("SELECT * FROM db_commit_guard", "permission denied for table db_commit_guard"),
    ("SELECT rolpassword FROM pg_authid", "permission denied for table pg_authid"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename <> current_user", PERMISSION),
    # huge results
    ("SELECT * FROM generate_series(1, 100000000)", "more than 100000 rows"),
]


def fingerprint() -> dict:
    """What an attack could change: table contents, the role, large objects, schemas, 2PC."""
    out = {}
    with owner_connection() as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1")]
        for table in tables:
            out[table] = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{table}" t').fetchone()
        out["role"] = conn.execute("SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
                                   "rolpassword FROM pg_authid WHERE rolname = 'desctom_ro'").fetchone()
        out["settings"] = conn.execute("SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r "
                                       "ON r.oid = s.setrole WHERE r.rolname = 'desctom_ro'").fetchall()
        out["members"] = conn.execute("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r "
                                      "ON r.oid = m.member WHERE r.rolname = 'desctom_ro'").fetchone()
        out["roles"] = conn.execute("SELECT array_agg(rolname ORDER BY rolname) FROM pg_roles").fetchone()
        out["objects"] = conn.execute(
            "SELECT (SELECT count(*) FROM pg_largeobject_metadata), (SELECT count(*) FROM pg_namespace), "
            "(SELECT count(*) FROM pg_extension), (SELECT count(*) FROM pg_prepared_xacts), "
            "(SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)").fetchone()
    return out


@pytest.fixture
def unchanged(api):
    """The database fingerprint must be the same after the test, and the role must still work."""
    before = fingerprint()
    yield
    assert fingerprint() == before
    assert run_sql(api, "SELECT 1 AS still_works")["rows"] == [{"still_works": 1}]


@pytest.mark.parametrize(("query", "pattern"), ATTEMPTS, ids=[f"{i:02d}" for i in range(len(ATTEMPTS))])
def test_attempt_is_refused_and_nothing_changes(api, unchanged, query, pattern):
    subdict = [{} for _ in query] if isinstance(query, list) else None
    res = run_sql(api, query, subdict)
    assert res["status"] == "error", res
    assert re.search(pattern, res["error"]), res["error"]


def test_there_are_at_least_thirty_attempts():
    assert len(ATTEMPTS) >= 30


def test_runaway_query_is_cancelled(api, unchanged, monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_TIMEOUT", "1")
    res = run_sql(api, "SELECT count(*) FROM generate_series(1, 10000000000)")
    assert res["status"] == "error" and "statement timeout" in res["error"]


@pytest.mark.django_db(transaction=True)  # the role changes must commit
def test_temp_file_limit_stops_huge_sorts(api, unchanged):
    with owner_connection() as conn:
        conn.execute("ALTER ROLE desctom_ro SET temp_file_limit = '1MB'")
        conn.execute("ALTER ROLE desctom_ro SET work_mem = '64kB'")
    try:
        res = run_sql(api, "SELECT md5(i::text) AS h FROM generate_series(1, 300000) i ORDER BY 1 LIMIT 1")
    finally:
        ensure_readonly_role()
    assert res["status"] == "error" and "temp_file_limit" in res["error"]


def test_running_queries_text_is_not_visible_to_other_sessions(api, unchanged):
    res = run_sql(api, "SELECT count(*) AS n FROM pg_stat_activity "
                       "WHERE usename = 'desctom_ro' AND query <> '' AND pid <> pg_backend_pid()")
    assert res == {"status": "ok", "rows": [{"n": 0}]}


@pytest.mark.django_db(transaction=True)  # the role changes must commit
def test_new_tables_are_not_readable_until_granted(api, unchanged):
    with owner_connection() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS secret_later (a int)")
        conn.execute("CREATE TABLE IF NOT EXISTS elasticc2_later (a int)")
    try:
        assert "permission denied" in run_sql(api, "SELECT * FROM secret_later")["error"]
        assert "permission denied" in run_sql(api, "SELECT * FROM elasticc2_later")["error"]
        ensure_readonly_role()  # what every `migrate` runs
        assert run_sql(api, "SELECT * FROM elasticc2_later")["rows"] == []
        assert "permission denied" in run_sql(api, "SELECT * FROM secret_later")["error"]
    finally:
        with owner_connection() as conn:
            conn.execute("DROP TABLE secret_later, elasticc2_later")
