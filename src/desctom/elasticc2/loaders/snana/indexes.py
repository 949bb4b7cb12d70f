"""Deferring secondary indexes during a big SNANA load, crash-safely.

Maintaining B-trees row by row costs PostgreSQL far more than the COPY itself (the forced-source
``midpointtai`` index receives its keys in random order); building an index afterwards from the
complete table is one sort. So a big load drops the *secondary* indexes of its five tables first
and re-creates them at the end. Primary keys, unique indexes and indexes behind constraints stay:
idempotency (``ON CONFLICT DO NOTHING``, the skipped-object checks) relies on them.

Crash safety:

* the exact definitions (``pg_indexes.indexdef``) are written to a JSON file in the data dir
  (``$DESCTOM_HOME/run/``, one file per database) and flushed to disk *before* the indexes are
  dropped;
* the runner re-creates them in a ``finally`` (after success, an error or Ctrl-C), then removes
  the file;
* if the process dies in between (kill, power cut, a second Ctrl-C during the rebuild), the next
  ``load_snana_fits --do`` re-creates every index of the file that is still missing before doing
  anything else, and says so;
* one PostgreSQL advisory lock, held for the whole run, keeps two loaders of the same database
  from dropping and re-creating at the same time.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from desctom.core import bulkcopy
from desctom.elasticc2.loaders.snana.loader import one_line
from desctom.loaders.snana.reader import SnanaError

#: Advisory lock key of ``load_snana_fits`` (any 64-bit constant; "SNANALOD" in ASCII).
LOCK_KEY = 0x534E414E414C4F44
#: How long dropping waits for other sessions' locks on the tables before giving up (indexes kept).
DROP_LOCK_TIMEOUT = "10s"
#: Memory for each index build (PostgreSQL's default, 64 MB, makes large sorts spill to disk).
BUILD_MEMORY = "256MB"


@dataclass(frozen=True)
class IndexDef:
    """One secondary index: its name, table and the exact statement that creates it."""

    schema: str
    table: str
    name: str
    definition: str  # pg_indexes.indexdef (+ TABLESPACE if not the default): CREATE INDEX ... USING btree


def secondary_indexes(conn: psycopg.Connection, tables: tuple[str, ...]) -> list[IndexDef]:
    """The indexes of ``tables`` that may be dropped: not primary, not unique, not behind a constraint."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT n.nspname, t.relname, c.relname, pg_get_indexdef(c.oid), ts.spcname
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
            WHERE t.oid = ANY(%s::regclass[])
              AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
            ORDER BY t.relname, c.relname""", (list(tables),))
        out = []
        for schema, table, name, definition, space in cur.fetchall():
            if space:
                definition += f" TABLESPACE {sql.Identifier(space).as_string(conn)}"
            out.append(IndexDef(schema, table, name, definition))
        return out


def existing_index_names(conn: psycopg.Connection) -> set[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT schemaname, indexname FROM pg_indexes")
        return set(cur.fetchall())


def existing_tables(conn: psycopg.Connection) -> set[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT schemaname, tablename FROM pg_tables")
        return set(cur.fetchall())


def rows_at_least(conn: psycopg.Connection, table: str, limit: int) -> int:
    """``min(rows of table, limit)``: an exact count that reads at most ``limit`` rows."""
    with conn.cursor() as cur:
        query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT %s) s").format(sql.Identifier(table))
        cur.execute(query, (limit,))
        return cur.fetchone()[0]


def should_defer(incoming_forced: int, existing_forced: int) -> bool:
    """The automatic rule: defer when the files hold more forced sources than the table does.

    Re-building an index sorts the whole table once; maintaining it costs a random B-tree insert
    per new row, several times more per row. With fewer incoming than existing rows the gain
    shrinks, and other users' queries would run without their indexes for longer than the load
    saves. ``incoming`` counts every row of the files, including objects already loaded, so a rerun
    of a complete load (incoming = existing) keeps the indexes.
    """
    return incoming_forced > existing_forced


def database_identity(conn: psycopg.Connection) -> str:
    """Names this database whatever the client calls its host: server system id and database oid."""
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT (SELECT system_identifier FROM pg_control_system())::text, d.oid::text "
                        "FROM pg_database d WHERE d.datname = current_database()")
            system, oid = cur.fetchone()
            return f"{system}-{oid}"
        except psycopg.Error:  # a server without pg_control_system(): its name and port
            conn.rollback()
            cur.execute("SELECT current_database(), current_setting('port')")
            name, port = cur.fetchone()
            return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{name}-{port}")


def state_path(run_dir: Path, conn: psycopg.Connection) -> Path:
    """The saved-definitions file of the database of ``conn``, in the data dir's ``run/`` folder."""
    return Path(run_dir) / f"snana-deferred-indexes-{database_identity(conn)}.json"


class IndexKeeper:
    """Drops the secondary indexes of a load's tables and guarantees their return.

    ``conn`` is the runner's own autocommit connection, held for the whole run (it owns the
    advisory lock). ``out`` prints one line.
    """

    def __init__(self, conn: psycopg.Connection, database: dict, tables: tuple[str, ...], state: Path,
                 out: Callable[[str], None], builders: int = 2):
        self.conn = conn
        self.database = database
        self.tables = tables
        self.state = Path(state)
        self.out = out
        self.builders = max(1, builders)
        self.lock_timeout = DROP_LOCK_TIMEOUT

    # -- the lock -------------------------------------------------------------------------------------
    def lock(self, wait: float = 5.0) -> None:
        """Take the load's advisory lock (session level), or stop if another loader holds it.

        Waits up to ``wait`` seconds: the backend of a loader killed a moment ago may still hold it.
        """
        deadline = time.monotonic() + wait
        while True:
            with self.conn.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
                if cur.fetchone()[0]:
                    return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        holder = self.lock_holder()
        who = f" (PostgreSQL backend pid {holder})" if holder is not None else ""
        raise SnanaError(f"another load_snana_fits is writing to this database{who}; "
                         "wait for it to finish, then rerun")

    def lock_holder(self) -> int | None:
        """The backend pid holding the load's advisory lock, if any."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND classid::bigint = %s AND objid::bigint = %s",
                        (LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF))
            row = cur.fetchone()
        return row[0] if row else None

    # -- saved definitions ----------------------------------------------------------------------------
    def saved(self) -> list[IndexDef]:
        if not self.state.exists():
            return []
        try:
            data = json.loads(self.state.read_text())
            return [IndexDef(**d) for d in data["indexes"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SnanaError(f"{self.state}: unreadable saved index definitions ({exc}); "
                             "re-create the indexes it lists by hand, then remove it") from None

    def _save(self, indexes: list[IndexDef]) -> None:
        """Write the definitions durably (temporary file, fsync, rename, fsync of the folder)."""
        self.state.parent.mkdir(parents=True, exist_ok=True)
        known = {(d.schema, d.name): d for d in self.saved()}  # never forget earlier unrestored ones
        known.update({(d.schema, d.name): d for d in indexes})
        where = {k: self.database.get(k) for k in ("NAME", "HOST", "PORT")}
        data = {"database": where, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "note": "secondary indexes dropped by load_snana_fits; the next load_snana_fits --do "
                        "re-creates the missing ones",
                "indexes": [asdict(d) for d in known.values()]}
        tmp = self.state.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state)
        dirfd = os.open(self.state.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)

    def missing(self) -> list[IndexDef]:
        """Saved definitions whose index does not exist now (and whose table does)."""
        saved = self.saved()
        if not saved:
            return []
        names, tables = existing_index_names(self.conn), existing_tables(self.conn)
        return [d for d in saved if (d.schema, d.name) not in names and (d.schema, d.table) in tables]

    # -- drop and re-create ---------------------------------------------------------------------------
    def drop(self) -> int:
        """Save, then drop (in one transaction) the secondary indexes of the tables. Returns how many."""
        indexes = secondary_indexes(self.conn, self.tables)
        if not indexes:
            return 0
        self._save(indexes)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = '{self.lock_timeout}'")  # not behind others' long queries
            for d in indexes:
                cur.execute(sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(d.schema),
                                                               sql.Identifier(d.name)))
        return len(indexes)

    def restore(self, why: str = "") -> int:
        """Re-create every saved index that is missing, then remove the file. Returns how many.

        Builds run on ``builders`` connections at once, biggest tables first. A definition that
        fails is reported and kept in the file, the others are built all the same (then
        :class:`SnanaError`). Ctrl-C cancels the builds: the file stays, the next run finishes.
        """
        try:
            todo = self.missing()
            if not todo:
                self._forget()
                return 0
            self.out(f"re-creating {len(todo)} secondary index(es){why}…")
            start = time.monotonic()
            sizes = self._table_sizes({d.table for d in todo})
            todo.sort(key=lambda d: -sizes.get(d.table, 0))
            errors = self._build(todo)
            still = self.missing()
        except KeyboardInterrupt:
            self.out(f"interrupted while re-creating the secondary indexes: those still missing are saved in "
                     f"{self.state}, the next load_snana_fits --do re-creates them")
            raise
        if errors or still:
            reason = errors[0] if errors else f"{len(still)} still missing"
            raise SnanaError(f"could not re-create {len(still)} secondary index(es) ({reason}); their "
                             f"definitions are saved in {self.state} and the next load_snana_fits --do "
                             "re-creates them")
        self._forget()
        self.out(f"re-created {len(todo)} secondary index(es) in {time.monotonic() - start:.1f} s")
        return len(todo)

    def _table_sizes(self, tables: set[str]) -> dict[str, int]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(%s) "
                        "AND relkind = 'r'", (list(tables),))
            return dict(cur.fetchall())

    def _build(self, todo: list[IndexDef]) -> list[str]:
        """Run the CREATE INDEX statements on ``builders`` connections (threads) at once; returns errors."""
        queue = list(todo)
        lock = threading.Lock()
        stop = threading.Event()
        conns: list[psycopg.Connection] = []
        errors: list[str] = []
        parallel = max(0, (os.cpu_count() or 1) // self.builders - 1)  # parallel sort workers per build

        def work() -> None:
            """One builder: indexes off the queue in one transaction (one commit), a savepoint each."""
            try:
                conn = _connect(self.database)
            except psycopg.Error as exc:
                errors.append(one_line(exc))
                return
            with lock:
                conns.append(conn)
            with conn:
                try:
                    with conn.transaction():
                        conn.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
                        conn.execute(f"SET LOCAL max_parallel_maintenance_workers = {parallel}")
                        while not stop.is_set():
                            with lock:
                                if not queue:
                                    break
                                d = queue.pop(0)
                            try:
                                with conn.transaction():  # a failing definition loses only itself
                                    conn.execute(if_not_exists(d.definition))
                            except psycopg.Error as exc:
                                errors.append(f"{d.name}: {one_line(exc)}")
                except psycopg.Error as exc:  # the commit, or the connection
                    errors.append(one_line(exc))

        threads = [threading.Thread(target=work, daemon=True) for _ in range(min(self.builders, len(todo)))]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
        except KeyboardInterrupt:
            stop.set()
            with lock:
                for conn in conns:
                    try:
                        conn.cancel_safe()
                    except psycopg.Error:
                        pass
            for t in threads:
                t.join(30)
            raise
        return errors

    def _forget(self) -> None:
        try:
            self.state.unlink(missing_ok=True)
        except OSError as exc:
            self.out(f"could not remove {self.state} ({exc}); harmless, it names no missing index")


def if_not_exists(definition: str) -> str:
    """``CREATE INDEX name ...`` -> ``CREATE INDEX IF NOT EXISTS name ...`` (made meanwhile by hand: fine)."""
    head = "CREATE INDEX "
    if definition.startswith(head) and not definition.startswith(head + "IF NOT EXISTS "):
        return head + "IF NOT EXISTS " + definition[len(head):]
    return definition


def _connect(database: dict) -> psycopg.Connection:
    return bulkcopy.connect(database, autocommit=True)
