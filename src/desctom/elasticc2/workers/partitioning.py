"""Convert ``elasticc2_brokermessage`` in place between a plain table and one hash-partitioned by classifier.

The original DESC TOM partitioned its broker-classification table by classifier. Here it is an
opt-in step (``desctom partition_brokermessage``), taken when a campaign is big enough for the
figures in docs/scaling.md to favour it. Names, columns, defaults, the identity sequence, indexes
(same names), grants, triggers and every answer stay the same; what changes:

* the table becomes ``PARTITION BY HASH (classifier_id)`` with partitions
  ``elasticc2_brokermessage_p0`` … ``_p{N-1}`` (PostgreSQL routes rows; users still query the parent);
* a unique index of a partitioned table must contain the partition key, so the primary key is
  ``(brokermessage_id, classifier_id)`` and the Kafka idempotency index gains ``classifier_id`` at its
  end. An ELAsTiCC2 Kafka message holds exactly one classifier's classification, so both identify
  the same rows as before (the REST idempotency index already starts with ``classifier_id``).

Both conversions run in one transaction under an exclusive lock: interrupted, nothing has changed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

TABLE = "elasticc2_brokermessage"
KEY = "classifier_id"
DEFAULT_PARTITIONS = 8
MAX_PARTITIONS = 64
#: Rows copied per statement (progress is reported between statements).
COPY_STEP = 500_000

#: Unique indexes that need the partition key appended when the table is partitioned.
_KEYED_UNIQUE = ("elasticc2_brokermessage_kafka_unique",)


class PartitioningError(Exception):
    """The conversion cannot be made (bad partition count, table missing or already in that form)."""


def partition_count(cursor) -> int:
    """Number of partitions of the broker-message table (0: a plain table)."""
    cursor.execute("SELECT c.relkind, (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid) "
                   "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public' AND c.relname = %s", [TABLE])
    row = cursor.fetchone()
    if row is None:
        raise PartitioningError(f"table {TABLE} does not exist (run the migrations first)")
    kind, parts = row
    return int(parts) if kind == "p" else 0


def to_partitioned(cursor, partitions: int = DEFAULT_PARTITIONS,
                   progress: Callable[[str], None] = print) -> int:
    """Make the table hash-partitioned by classifier in ``partitions`` parts; returns the rows moved.

    ``cursor`` must be inside a transaction (the caller commits).
    """
    if not 2 <= partitions <= MAX_PARTITIONS:
        raise PartitioningError(f"the number of partitions must be between 2 and {MAX_PARTITIONS}, "
                                f"not {partitions}")
    current = partition_count(cursor)
    if current:
        raise PartitioningError(f"{TABLE} is already partitioned ({current} partitions); "
                                "convert it back with --plain first to change the count")
    parts = [f"CREATE TABLE {TABLE}_p{r} PARTITION OF {TABLE} FOR VALUES WITH (MODULUS {partitions}, "
             f"REMAINDER {r})" for r in range(partitions)]
    return _rebuild(cursor, f"PARTITION BY HASH ({KEY})", parts, partitioned=True, progress=progress)


def to_plain(cursor, progress: Callable[[str], None] = print) -> int:
    """Make the table a plain table again (as the migrations create it); returns the rows moved."""
    if not partition_count(cursor):
        raise PartitioningError(f"{TABLE} is not partitioned")
    return _rebuild(cursor, "", [], partitioned=False, progress=progress)


def _rebuild(cursor, clause: str, partitions: list[str], *, partitioned: bool,
             progress: Callable[[str], None]) -> int:
    old = f"{TABLE}_old"
    cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
    indexes = _index_definitions(cursor)
    grants = _grants(cursor)
    triggers = _trigger_definitions(cursor)
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'brokermessage_id')", [TABLE])
    sequence = cursor.fetchone()[0]
    if sequence is None:
        raise PartitioningError(f"{TABLE}.brokermessage_id has no identity sequence")
    seq_name = sequence.split(".")[-1].strip('"')
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    cursor.execute(f'ALTER SEQUENCE "{seq_name}" RENAME TO "{seq_name}_old"')
    cursor.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY "
                   f"INCLUDING STORAGE INCLUDING COMMENTS) {clause}")
    for statement in partitions:
        cursor.execute(statement)
    moved = _copy_rows(cursor, old, progress)
    cursor.execute(f"DROP TABLE {old}")
    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'brokermessage_id'), "
                   f"coalesce((SELECT max(brokermessage_id) FROM {TABLE}), 0) + 1, false)", [TABLE])
    progress("building the primary key and indexes")
    pkey = "brokermessage_id, classifier_id" if partitioned else "brokermessage_id"
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({pkey})")
    for name, definition in indexes:
        cursor.execute(_adapt_index(name, definition, partitioned))
    for grantee, privilege in grants:
        cursor.execute(f"GRANT {privilege} ON {TABLE} TO {grantee}")
    for definition in triggers:  # after the copy: moving rows is not news to the metrics' logs
        cursor.execute(definition)
    cursor.execute(f"ANALYZE {TABLE}")
    return moved


def _copy_rows(cursor, old: str, progress: Callable[[str], None]) -> int:
    """Copy every row, in ``brokermessage_id`` ranges, reporting counts, rate and ETA."""
    cursor.execute(f"SELECT count(*), min(brokermessage_id), max(brokermessage_id) FROM {old}")
    total, low, high = cursor.fetchone()
    if not total:
        progress("no rows to move")
        return 0
    moved, start, began = 0, low, time.monotonic()
    while start <= high:
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old} "
                       f"WHERE brokermessage_id >= %s AND brokermessage_id < %s", [start, start + COPY_STEP])
        moved += cursor.rowcount
        start += COPY_STEP
        elapsed = time.monotonic() - began
        rate = moved / elapsed if elapsed > 0 else 0.0
        eta = (total - moved) / rate if rate else 0.0
        progress(f"moved {moved:,} of {total:,} rows ({rate:,.0f} rows/s, ETA {eta:,.0f} s)")
    if moved != total:
        raise PartitioningError(f"moved {moved} rows but the table held {total}; nothing was changed")
    return moved


def _index_definitions(cursor) -> list[tuple[str, str]]:
    """Definitions of the table's indexes other than the primary key (parents only)."""
    cursor.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                   "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                   "JOIN pg_namespace n ON n.oid = t.relnamespace "
                   "WHERE n.nspname = 'public' AND t.relname = %s AND NOT x.indisprimary ORDER BY 1", [TABLE])
    return list(cursor.fetchall())


def _adapt_index(name: str, definition: str, partitioned: bool) -> str:
    """The index definition for the table's new form (``ON ONLY`` dropped, partition key added or removed)."""
    definition = definition.replace(" ON ONLY ", " ON ")
    if name not in _KEYED_UNIQUE:
        return definition
    match = re.search(r"USING btree \(([^)]*)\)", definition)
    if match is None:
        raise PartitioningError(f"cannot read the definition of index {name}: {definition}")
    columns = [c.strip() for c in match.group(1).split(",")]
    columns = [c for c in columns if c != KEY] + ([KEY] if partitioned else [])
    return definition[:match.start(1)] + ", ".join(columns) + definition[match.end(1):]


def _trigger_definitions(cursor) -> list[str]:
    """``CREATE TRIGGER`` statements of the table's own triggers (the metrics' change logs)."""
    cursor.execute("SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                   "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                   "AND c.relname = %s AND NOT t.tgisinternal AND t.tgparentid = 0 ORDER BY t.tgname",
                   [TABLE])
    return [row[0] for row in cursor.fetchall()]


def _grants(cursor) -> list[tuple[str, str]]:
    """(grantee as SQL, privilege) of the table's explicit grants, the owner's own excluded."""
    cursor.execute("SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, "
                   "a.privilege_type FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
                   "WHERE n.nspname = 'public' AND c.relname = %s AND a.grantee <> c.relowner", [TABLE])
    return list(cursor.fetchall())
