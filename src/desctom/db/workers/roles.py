"""The read-only PostgreSQL login role every user query runs as, kept up to date after each migrate.

Safety comes from PostgreSQL, not from inspecting SQL:

* a separate LOGIN role (not ``SET ROLE``, which ``RESET ROLE`` undoes) with no superuser,
  CREATEDB, CREATEROLE, replication or RLS bypass, member of no other role, so ``SET ROLE``
  and ``SET SESSION AUTHORIZATION`` fail;
* SELECT on the science tables (``elasticc2_*``, ``elasticc_*`` and the live survey's
  :data:`LIVE_TABLES`) only, re-granted after every
  migrate; every other table (users, sessions, tokens, the admin log, the query queue) is revoked,
  and so are the simulation-truth tables (:data:`TRUTH_MARK` in the name): the SQL API serves every
  logged-in user, and truth reaches ELAsTiCC admins only (pages and admin endpoints);
* role settings a user cannot raise (``temp_file_limit``, ``track_activities``: superuser-only);
* a *sandbox* (:func:`sandbox`): EXECUTE on the advisory-lock functions, ``pg_cancel_backend``,
  ``pg_terminate_backend`` and ``set_config`` is revoked from PUBLIC (granted back to the app's own
  role), and so is USAGE on the languages ``sql`` and ``plpgsql`` (no ``DO`` blocks, no function with
  a ``SET`` clause); ``SET`` itself cannot be revoked, so :mod:`sqlexec` reads the capped settings
  after every statement and refuses the request if one was raised;
* a *commit guard*: each query transaction first calls :data:`ARM_FUNCTION`, which inserts a row
  into an unlogged table carrying a deferred constraint trigger that always fails, so a user's
  ``COMMIT`` can never succeed; a user's ``ROLLBACK`` is detected after the statement.
"""

from __future__ import annotations

import logging

import psycopg
from django.db import connections
from psycopg import sql

from desctom.core import config

log = logging.getLogger(__name__)

SCIENCE_PREFIXES = ("elasticc2\\_%", "elasticc\\_%")
#: The live survey's science tables (FASTDB's names; its schema cache and login keys are not science).
LIVE_TABLES = ["root_diaobject", "diaobject", "diasource", "diaforcedsource", "diasource_brokerinfo",
               "live_brokerclassifier", "wantedspectra", "plannedspectra", "spectruminfo"]
#: Tables whose name holds this are simulation truth: never readable by the SQL role.
TRUTH_MARK = "truth"
GUARD_TABLE = "db_commit_guard"
ARM_FUNCTION = "db_arm_commit_guard"
CONNECTION_LIMIT = 20
#: Role defaults; ``temp_file_limit`` and ``track_activities`` only a superuser may change.
USER_SETTINGS = {"work_mem": "64MB", "idle_in_transaction_session_timeout": "600000",
                 "statement_timeout": "60000", "temp_buffers": "32MB", "maintenance_work_mem": "64MB",
                 "hash_mem_multiplier": "2"}
#: pg_catalog functions only the app's own role may run: advisory locks, signalling backends, set_config.
SANDBOXED_FUNCTIONS = ("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = "
                       "'pg_catalog'::regnamespace AND (p.proname LIKE 'pg\\_%%advisory%%' OR p.proname IN "
                       "('pg_cancel_backend', 'pg_terminate_backend', 'set_config')) ORDER BY 1")
SANDBOXED_LANGUAGES = ("sql", "plpgsql")

_GUARD_SQL = [
    f"CREATE UNLOGGED TABLE IF NOT EXISTS public.{GUARD_TABLE} (armed boolean NOT NULL)",
    """CREATE OR REPLACE FUNCTION public.db_commit_guard_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'COMMIT is not allowed: SQL queries run in a transaction that is always rolled back'
    USING ERRCODE = 'insufficient_privilege';
END $$""",
    f"""CREATE OR REPLACE FUNCTION public.{ARM_FUNCTION}() RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$ INSERT INTO public.{GUARD_TABLE} VALUES (true) $$""",
    f"REVOKE ALL ON FUNCTION public.{ARM_FUNCTION}() FROM PUBLIC",
]
_GUARD_TRIGGER = (f"CREATE CONSTRAINT TRIGGER db_commit_guard_refuse AFTER INSERT ON public.{GUARD_TABLE}"
                  " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                  " EXECUTE FUNCTION public.db_commit_guard_refuse()")


def setup_after_migrate(sender, using="default", **kwargs):
    """``post_migrate`` receiver: create or refresh the role, its grants and the commit guard."""
    try:
        ensure_readonly_role(using)
    except Exception as exc:  # never break `migrate`; the SQL API then reports itself unavailable
        log.warning("could not set up the read-only SQL role: %s", exc)


def science_tables(cursor) -> list[str]:
    """Tables, views and materialized views of the science apps, in schema public, truth excluded."""
    cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                   "AND (c.relname LIKE %s OR c.relname LIKE %s OR c.relname = ANY(%s)) "
                   "AND strpos(c.relname, %s) = 0 ORDER BY 1",
                   [*SCIENCE_PREFIXES, LIVE_TABLES, TRUTH_MARK])
    return [r[0] for r in cursor.fetchall()]


def _can_log_in(db: dict, role: str, password: str) -> bool:
    """Whether ``role`` logs in with ``password`` (so an unchanged password is not re-hashed)."""
    try:
        psycopg.connect(host=db.get("HOST") or None, port=db.get("PORT") or None, dbname=db["NAME"],
                        user=role, password=password, connect_timeout=5).close()
        return True
    except psycopg.Error:
        return False


def ensure_readonly_role(using: str = "default", cfg: config.Config | None = None) -> list[str]:
    """Create/refresh the role on database ``using``; returns the tables it may read."""
    cfg = cfg or config.load()
    conn = connections[using]
    conn.ensure_connection()
    raw = conn.connection
    role = sql.Identifier(cfg.sql_role)
    password = config.sql_password(cfg)

    def run(stmt, params=None):
        text = stmt.as_string(raw) if isinstance(stmt, sql.Composable) else stmt
        with conn.cursor() as cur:
            cur.execute(text, params)

    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        superuser, createrole = cur.fetchone()
        if not (superuser or createrole):
            raise PermissionError("the database user needs CREATEROLE (or superuser) to manage the SQL role")
        cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [cfg.sql_role])
        exists = cur.fetchone() is not None
    attrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
    if superuser:
        attrs += " NOREPLICATION NOBYPASSRLS"
    verb = "ALTER" if exists else "CREATE"
    run(sql.SQL(f"{verb} ROLE {{}} {attrs} CONNECTION LIMIT {CONNECTION_LIMIT}").format(role))
    if not (exists and _can_log_in(conn.settings_dict, cfg.sql_role, password)):
        run(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
    with conn.cursor() as cur:
        cur.execute("SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                    "JOIN pg_roles me ON me.oid = m.member WHERE me.rolname = %s", [cfg.sql_role])
        memberships = [r[0] for r in cur.fetchall()]
    for parent in memberships:
        run(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(parent), role))
    settings = dict(USER_SETTINGS, statement_timeout=str(cfg.sql_timeout * 1000))
    if superuser:
        settings.update(temp_file_limit=cfg.sql_temp_file_limit, track_activities="off")
    else:
        log.warning("not a superuser: temp_file_limit and track_activities of %s stay unset", cfg.sql_role)
    for name, value in settings.items():
        run(sql.SQL("ALTER ROLE {} SET {} = {}").format(role, sql.Identifier(name), sql.Literal(value)))

    with conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        dbname = cur.fetchone()[0]
    run(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(sql.Identifier(dbname), role))
    run(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(dbname), role))
    run(sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(role))
    run(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
    for kind in ("TABLES", "SEQUENCES"):
        run(sql.SQL(f"REVOKE ALL ON ALL {kind} IN SCHEMA public FROM {{}}").format(role))
        run(sql.SQL(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON {kind} FROM {{}}").format(role))

    for stmt in _GUARD_SQL:
        run(stmt)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'db_commit_guard_refuse'")
        if cur.fetchone() is None:
            run(_GUARD_TRIGGER)
    run(sql.SQL("GRANT EXECUTE ON FUNCTION public.{}() TO {}").format(sql.Identifier(ARM_FUNCTION), role))

    if superuser:
        sandbox(run, conn)
    else:
        log.warning("not a superuser: the advisory-lock, signal and set_config functions and the sql/plpgsql "
                    "languages stay usable by %s (see docs/api_sql.md)", cfg.sql_role)

    with conn.cursor() as cur:
        tables = science_tables(cur)
    for table in tables:
        run(sql.SQL("GRANT SELECT ON public.{} TO {}").format(sql.Identifier(table), role))
    log.info("SQL role %s may read %d science tables", cfg.sql_role, len(tables))
    return tables


def sandbox(run, conn) -> list[str]:
    """Revoke from PUBLIC what lets a user stall others (needs a superuser); returns the functions."""
    with conn.cursor() as cur:
        cur.execute(SANDBOXED_FUNCTIONS)
        functions = [r[0] for r in cur.fetchall()]
    for signature in functions:  # regprocedure text is a valid, qualified-if-needed signature
        run(f"REVOKE EXECUTE ON FUNCTION pg_catalog.{signature} FROM PUBLIC")
        run(f"GRANT EXECUTE ON FUNCTION pg_catalog.{signature} TO CURRENT_USER")
    for language in SANDBOXED_LANGUAGES:
        run(f"REVOKE USAGE ON LANGUAGE {language} FROM PUBLIC")
    return functions
