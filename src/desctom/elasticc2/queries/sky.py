"""Sky indexing and cone searches.

With the ``q3c`` extension (Debian ``postgresql-15-q3c``) objects and sources carry a
``q3c_ang2ipix(ra, decl)`` index and cone searches use ``q3c_radial_query``. Without it, a
B-tree index on ``decl`` narrows the search to a declination band and the exact angular
distance decides. Both give the same answers; q3c is faster on large tables.
"""

from __future__ import annotations

from django.db import connection as default_connection

#: Tables that get a sky index (objects and sources of every family).
SKY_TABLES = ("ppdbdiaobject", "ppdbdiasource", "diaobject", "diasource", "trainingdiaobject",
              "trainingdiasource")


def has_q3c(connection=None) -> bool:
    """True if the q3c extension is installed in the database."""
    conn = connection or default_connection
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'q3c'")
        return cur.fetchone() is not None


def q3c_available(connection=None) -> bool:
    """True if the server could install q3c (the extension's files are present)."""
    conn = connection or default_connection
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'q3c'")
        return cur.fetchone() is not None


def ensure_sky_indexes(connection=None) -> bool:
    """Create q3c (if it can) and declination indexes on the sky tables. Returns True if q3c is used."""
    conn = connection or default_connection
    use_q3c = has_q3c(conn)
    if not use_q3c and q3c_available(conn):
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT desctom_q3c")
            try:
                cur.execute("CREATE EXTENSION IF NOT EXISTS q3c")
                cur.execute("RELEASE SAVEPOINT desctom_q3c")
                use_q3c = True
            except Exception:  # noqa: BLE001 - e.g. not a superuser on an external server: use the fallback
                cur.execute("ROLLBACK TO SAVEPOINT desctom_q3c")
    with conn.cursor() as cur:
        for table in SKY_TABLES:
            cur.execute(f"CREATE INDEX IF NOT EXISTS idx_elasticc2_{table}_decl ON elasticc2_{table} (decl)")
            if use_q3c:
                cur.execute(f"CREATE INDEX IF NOT EXISTS idx_elasticc2_{table}_q3c "
                            f"ON elasticc2_{table} (q3c_ang2ipix(ra, decl))")
    return use_q3c


#: Exact great-circle distance in degrees between (ra, decl) columns and (%(ra)s, %(dec)s).
DISTANCE_SQL = ("degrees(2 * asin(least(1, sqrt(power(sin(radians(decl - %(dec)s) / 2), 2) + "
                "cos(radians(decl)) * cos(radians(%(dec)s)) * power(sin(radians(ra - %(ra)s) / 2), 2)))))")


def cone_search(table: str, ra: float, dec: float, radius_deg: float, limit: int, columns: str = "*",
                use_q3c: bool | None = None, connection=None) -> list[dict]:
    """Rows of ``elasticc2_<table>`` within ``radius_deg`` of (ra, dec), nearest first.

    Each row also has ``distance_deg``, the angular distance from the centre.
    """
    if table not in SKY_TABLES:
        raise ValueError(f"no sky index on {table}")
    conn = connection or default_connection
    if use_q3c is None:
        use_q3c = has_q3c(conn)
    params = {"ra": ra, "dec": dec, "r": radius_deg, "limit": limit,
              "dmin": max(-90.0, dec - radius_deg), "dmax": min(90.0, dec + radius_deg)}
    if use_q3c:
        where = "q3c_radial_query(ra, decl, %(ra)s, %(dec)s, %(r)s)"
    else:
        where = f"decl BETWEEN %(dmin)s AND %(dmax)s AND {DISTANCE_SQL} <= %(r)s"
    sql = (f"SELECT {columns}, {DISTANCE_SQL} AS distance_deg FROM elasticc2_{table} "
           f"WHERE {where} ORDER BY distance_deg, 1 LIMIT %(limit)s")
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
