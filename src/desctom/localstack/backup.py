"""``desctom backup PATH`` and ``desctom restore PATH``.

A backup is a folder::

    PATH/manifest.json      format, versions, time, per-table row counts and row hashes, file sha256s
    PATH/database.dump      pg_dump custom format (-Fc) of the whole database
    PATH/query_results/     the long-query result files

The dump and the manifest's table figures come from one snapshot: a repeatable-read transaction
exports its snapshot, pg_dump imports it (``--snapshot``) while the same transaction computes
the row counts and hashes. So a backup of a running system is consistent, and a restore can
prove it got exactly what was dumped. Result files are copied after the dump: every query the
dump shows as finished has its file by then (the runner writes the file before marking it).

The backup is written to a temporary sibling folder and renamed at the end: an interrupted or
failed backup leaves nothing at PATH. ``restore`` only fills an empty data dir (DESCTOM_HOME),
verifies every sha256 first and every table after ``pg_restore``; on failure or Ctrl-C it
removes what it created, so the data dir is empty again.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from desctom import __version__
from desctom.core import config
from desctom.localstack.postgres import LocalPostgres, find_bindir
from desctom.localstack.procs import StackError

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
RESULTS = "query_results"
#: Session settings that make a row's text form the same on every server and client.
_STABLE_TEXT = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, MDY'", "SET IntervalStyle = 'postgres'",
                "SET extra_float_digits = 1", "SET bytea_output = 'hex'")


def say(text: str) -> None:
    print(text, flush=True)


def tool(name: str) -> str:
    """Path of a PostgreSQL client program (``pg_dump``, ``pg_restore``) of the server's version."""
    try:
        path = find_bindir() / name
        if path.exists():
            return str(path)
    except StackError:
        pass
    found = shutil.which(name)
    if not found:
        raise StackError(f"{name} not found: install the PostgreSQL client programs (postgresql-client)")
    return found


def libpq_env(db: dict) -> dict:
    """Environment for pg_dump/pg_restore reaching the database ``db`` (a Django entry)."""
    env = {**os.environ, "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or ""),
           "PGUSER": db.get("USER") or "", "PGPASSWORD": db.get("PASSWORD") or "", "PGDATABASE": db["NAME"],
           "PGCONNECT_TIMEOUT": "10"}
    return {k: v for k, v in env.items() if v != ""}


def connect(db: dict, **kwargs) -> psycopg.Connection:
    return psycopg.connect(host=db.get("HOST") or None, port=db.get("PORT") or None,
                           user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                           dbname=db["NAME"], connect_timeout=10, **kwargs)


def sha256_of(path: Path, copy_to: Path | None = None) -> str:
    """sha256 of a file, copying it to ``copy_to`` on the way if given."""
    digest = hashlib.sha256()
    out = open(copy_to, "wb") if copy_to else None  # noqa: SIM115  (closed below)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                if out:
                    out.write(chunk)
    finally:
        if out:
            out.close()
    return digest.hexdigest()


# -- table figures ----------------------------------------------------------------------------------
def list_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
                        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
                        "AND schemaname NOT LIKE 'pg\\_temp%' ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def table_figures(conn: psycopg.Connection, progress: bool = True) -> dict[str, dict]:
    """Per table: row count and an order-independent hash of its rows' text (sum of 64-bit hashes)."""
    for stmt in _STABLE_TEXT:
        conn.execute(stmt)
    tables = list_tables(conn)
    figures = {}
    last = time.monotonic()
    for i, table in enumerate(tables, 1):
        rows, rowhash = conn.execute(
            f"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text "
            f"FROM {table} AS t").fetchone()
        figures[table] = {"rows": rows, "rowhash": rowhash}
        if progress and (time.monotonic() - last > 2 or i == len(tables)):
            last = time.monotonic()
            say(f"  table checksums: {i}/{len(tables)} tables")
    return figures


def compare_figures(expected: dict, found: dict) -> list[str]:
    """One line per table whose rows differ (or that is missing or extra)."""
    problems = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want is None:
            problems.append(f"{table}: not in the backup")
        elif got is None:
            problems.append(f"{table}: missing after the restore")
        elif want != got:
            problems.append(f"{table}: {got['rows']} rows restored, {want['rows']} backed up"
                            if want["rows"] != got["rows"] else f"{table}: row contents differ")
    return problems


# -- backup -----------------------------------------------------------------------------------------
def backup(cfg: config.Config, dest: Path) -> dict:
    """Write a backup folder at ``dest`` (absent or an empty folder); returns the manifest."""
    dest = dest.absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StackError(f"{dest} already exists and is not an empty folder; choose a new backup path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    started_pg = None
    if cfg.embedded_db:
        pg = LocalPostgres(cfg.pg_dir, cfg.pg_port, config.EMBEDDED_DB_USER, cfg.pg_password_file,
                           config.EMBEDDED_DB_NAME)
        if not pg.initialized:
            raise StackError(f"no database in {cfg.pg_dir} (DESCTOM_HOME={cfg.home}): nothing to back up")
        if not pg.running():
            say("postgres is not running: starting it for the backup")
            pg.start()
            started_pg = pg
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        manifest = _write_backup(cfg, work)
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if started_pg is not None:
            started_pg.stop()
    return manifest


def _write_backup(cfg: config.Config, work: Path) -> dict:
    db = cfg.database_settings()
    t0 = time.monotonic()
    with connect(db) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        server = conn.execute("SHOW server_version").fetchone()[0]
        say(f"dumping database {db['NAME']} (PostgreSQL {server}) to {DUMP} ...")
        argv = [tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-password",
                f"--file={work / DUMP}"]
        dump = subprocess.Popen(argv, env=libpq_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(dump.communicate()[1]), daemon=True)
        reader.start()
        try:
            figures = table_figures(conn)  # same snapshot as the dump, computed while it runs
            while reader.is_alive():
                reader.join(2)
                if reader.is_alive():
                    size = (work / DUMP).stat().st_size if (work / DUMP).exists() else 0
                    say(f"  pg_dump: {size / 1e6:,.1f} MB written")
        except BaseException:
            dump.kill()
            raise
        if dump.returncode != 0:
            lines = (errors[0] if errors else "").strip().splitlines()
            raise StackError(f"pg_dump failed: {lines[-1] if lines else f'exit status {dump.returncode}'}")
        conn.rollback()
    size = (work / DUMP).stat().st_size
    say(f"  database dumped: {len(figures)} tables, {sum(f['rows'] for f in figures.values()):,} rows, "
        f"{size / 1e6:,.1f} MB in {time.monotonic() - t0:.1f} s")
    dump_sha = sha256_of(work / DUMP)
    results = copy_results(cfg.sql_results_dir, work / RESULTS)
    manifest = {"format": FORMAT, "desctom_version": __version__,
                "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "server_version": server, "database": db["NAME"],
                "dump": {"file": DUMP, "bytes": size, "sha256": dump_sha},
                "tables": figures, "results": results}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def copy_results(src: Path, dst: Path) -> dict[str, dict]:
    """Copy the finished result files (not ``*.part``); their sizes and sha256s by name."""
    dst.mkdir(parents=True, exist_ok=True)
    if not src.is_dir():
        say(f"no query results folder ({src}): nothing to copy")
        return {}
    files = sorted(p for p in src.iterdir() if p.is_file() and not p.name.endswith(".part"))
    out = {}
    for i, path in enumerate(files, 1):
        try:
            out[path.name] = {"bytes": path.stat().st_size, "sha256": sha256_of(path, dst / path.name)}
        except FileNotFoundError:  # pruned while we copied: it was not wanted any more
            (dst / path.name).unlink(missing_ok=True)
        if i % 100 == 0 or i == len(files):
            say(f"  query results: {i}/{len(files)} files copied")
    return out


# -- restore ----------------------------------------------------------------------------------------
def read_manifest(src: Path) -> dict:
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise StackError(f"{src} is not a DESC TOM backup: no {MANIFEST} in it") from None
    except (OSError, ValueError) as exc:
        raise StackError(f"cannot read {src / MANIFEST}: {exc}") from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        raise StackError(f"{src / MANIFEST}: unknown backup format {found!r} "
                         f"(this DESC TOM reads format {FORMAT})")
    return manifest


def verify_files(src: Path, manifest: dict) -> None:
    """Check the sha256 of the dump and of every result file against the manifest."""
    expected = {manifest["dump"]["file"]: manifest["dump"]["sha256"],
                **{f"{RESULTS}/{name}": f["sha256"] for name, f in manifest["results"].items()}}
    say(f"verifying {len(expected)} files against {MANIFEST} ...")
    for rel, sha in expected.items():
        path = src / rel
        if not path.is_file():
            raise StackError(f"backup damaged: {path} is missing")
        if sha256_of(path) != sha:
            raise StackError(f"backup damaged: {path} does not match its sha256 in {MANIFEST}")


def restore(cfg: config.Config, src: Path) -> None:
    """Restore the backup folder ``src`` into the empty data dir of ``cfg``; verifies everything."""
    src = src.absolute()
    if not cfg.embedded_db:
        raise StackError("restore fills the embedded database of an empty data dir; unset DATABASE_URL "
                         "(for another server use pg_restore on the backup's database.dump)")
    manifest = read_manifest(src)
    targets = [cfg.home] + ([cfg.sql_results_dir] if not cfg.sql_results_dir.is_relative_to(cfg.home) else [])
    for target in targets:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise StackError(f"{target} is not empty: restore only fills an empty data dir "
                             "(choose a new DESCTOM_HOME, or move this one away)")
    verify_files(src, manifest)
    created = [t for t in targets if not t.exists()]
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o755)  # PostgreSQL's service user must reach the cluster below
    pg = LocalPostgres(cfg.pg_dir, cfg.pg_port, config.EMBEDDED_DB_USER, cfg.pg_password_file,
                       config.EMBEDDED_DB_NAME)
    try:
        say(f"creating the database cluster in {cfg.pg_dir} ...")
        pg.init()
        pg.start()
        _restore_database(cfg, src, manifest)
        say("copying query results ...")
        cfg.sql_results_dir.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(manifest["results"], 1):
            shutil.copy2(src / RESULTS / name, cfg.sql_results_dir / name)
            if i % 100 == 0 or i == len(manifest["results"]):
                say(f"  query results: {i}/{len(manifest['results'])} files copied")
    except BaseException:
        say("restore failed or interrupted: removing what it created, the data dir is empty again")
        pg.stop()
        for target in targets:
            if target in created:
                shutil.rmtree(target, ignore_errors=True)
            else:
                for child in target.iterdir():
                    shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
        raise
    pg.stop()


def _restore_database(cfg: config.Config, src: Path, manifest: dict) -> None:
    db = cfg.database_settings()
    t0 = time.monotonic()
    say(f"restoring {manifest['dump']['file']} ({manifest['dump']['bytes'] / 1e6:,.1f} MB, "
        f"{len(manifest['tables'])} tables) with pg_restore ...")
    # Owners and grants are not restored: the read-only SQL role is re-created by `desctom up`'s migrate.
    argv = [tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--no-password",
            "--jobs=2", f"--dbname={db['NAME']}", str(src / DUMP)]
    proc = subprocess.run(argv, env=libpq_env(db), capture_output=True, text=True, start_new_session=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise StackError(f"pg_restore failed: {lines[-1] if lines else f'exit status {proc.returncode}'}")
    say(f"  pg_restore done in {time.monotonic() - t0:.1f} s; checking every table against {MANIFEST} ...")
    with connect(db, autocommit=True) as conn:
        conn.execute("ANALYZE")
        problems = compare_figures(manifest["tables"], table_figures(conn))
    if problems:
        raise StackError("restored database differs from the backup: " + "; ".join(problems[:5]))


# -- command line -----------------------------------------------------------------------------------
def main(argv: list[str]) -> int:
    """``desctom backup PATH`` / ``desctom restore PATH``; returns the exit status."""
    command = argv[0]
    parser = argparse.ArgumentParser(
        prog=f"desctom {command}",
        description="Write a consistent backup (pg_dump + query results + manifest) of this installation; "
                    "works while it runs." if command == "backup" else
                    "Restore a backup into an empty data dir (DESCTOM_HOME), verifying every file and table.")
    parser.add_argument("path", type=Path, help="the backup folder")
    args = parser.parse_args(argv[1:])
    try:
        cfg = config.load()
    except config.ConfigError as exc:
        print(f"desctom: {exc}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        if command == "backup":
            manifest = backup(cfg, args.path)
            say(f"backup written to {args.path.absolute()} in {time.monotonic() - t0:.1f} s "
                f"({len(manifest['tables'])} tables, {len(manifest['results'])} result files)")
        else:
            restore(cfg, args.path)
            say(f"restored into {cfg.home} in {time.monotonic() - t0:.1f} s; every table and file matches "
                "the backup. Start it with `desctom up`.")
        return 0
    except StackError as exc:
        print(f"desctom: error: {exc}", file=sys.stderr)
        return 1
    except (OSError, psycopg.Error) as exc:
        print(f"desctom: error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("desctom: interrupted; nothing was left half-written", file=sys.stderr)
        return 130
