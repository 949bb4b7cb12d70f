"""The tables the read-only role can read: columns, types, keys and foreign keys (``GET /db/schema/``)."""

from __future__ import annotations

import psycopg

from desctom.core import config
from desctom.db.queries import sqlexec

_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}

_TABLES = """
SELECT c.oid, c.relname, c.relkind, obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY c.relname"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       col_description(a.attrelid, a.attnum)
FROM pg_attribute a
WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum"""

_CONSTRAINTS = """
SELECT k.conrelid, k.contype, k.conname,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
       f.relname,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)
FROM pg_constraint k LEFT JOIN pg_class f ON f.oid = k.confrelid
WHERE k.conrelid = ANY(%(oids)s) AND k.contype IN ('p', 'u', 'f')
ORDER BY k.conrelid, k.conname"""


def readable_schema(cfg: config.Config | None = None) -> dict:
    """``{table: {kind, comment, columns, primary_key, unique, foreign_keys}}`` as the role sees it."""
    cfg = cfg or config.load()
    conn = sqlexec.connect(cfg.sql_timeout, cfg)
    try:
        with sqlexec.guarded(conn, cfg.sql_timeout):
            tables = conn.execute(_TABLES).fetchall()
            oids = [t[0] for t in tables]
            out, by_oid = {}, {}
            for oid, name, kind, comment in tables:
                entry = {"kind": _KINDS[kind], "comment": comment, "columns": [], "primary_key": [],
                         "unique": [], "foreign_keys": []}
                out[name] = by_oid[oid] = entry
            for oid, name, typ, nullable, comment in conn.execute(_COLUMNS, {"oids": oids}):
                by_oid[oid]["columns"].append({"name": name, "type": typ, "nullable": nullable,
                                               "comment": comment})
            for oid, contype, conname, cols, ftable, fcols in conn.execute(_CONSTRAINTS, {"oids": oids}):
                entry = by_oid[oid]
                if contype == "p":
                    entry["primary_key"] = list(cols)
                elif contype == "u":
                    entry["unique"].append(list(cols))
                else:
                    entry["foreign_keys"].append({"name": conname, "columns": list(cols),
                                                  "references": {"table": ftable, "columns": list(fcols)}})
            return out
    except psycopg.Error as exc:
        raise sqlexec.SqlError(sqlexec.error_text(exc, None, cfg.sql_timeout)) from None
    finally:
        conn.close()
