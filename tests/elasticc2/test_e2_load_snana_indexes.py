"""``load_snana_fits``: deferred secondary indexes, their crash-safe return, the loaders' lock.

Index definitions are read here straight from ``pg_indexes`` and compared whole (name and
``indexdef``); what the command does while it runs is observed through its own output stream (a
snapshot of the indexes is taken when it reports its first loaded file) or, for the command line,
by killing or interrupting the real process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from test_e2_load_snana import (
    DESCTOM,
    NOTHING,
    PPDB,
    TRAIN,
    cli_env,
    expectations,
    load,
    query,
    table_counts,
    totals,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def expected(elasticc2_test_dirs) -> dict:
    per_dir = {d.name: expectations(d) for d in elasticc2_test_dirs}
    return {"dirs": per_dir, "counts": totals(per_dir.values())}


@pytest.fixture
def copied_dirs(elasticc2_test_dirs, tmp_path) -> list[Path]:
    for d in elasticc2_test_dirs[:2]:
        shutil.copytree(d, tmp_path / d.name)
    return [tmp_path / d.name for d in elasticc2_test_dirs[:2]]

PPDB_TABLES = [f"elasticc2_{t}" for t in PPDB.values()]
TRAIN_TABLES = [f"elasticc2_{t}" for t in TRAIN.values()]


def index_defs(tables=PPDB_TABLES) -> dict[str, str]:
    """Every index of ``tables``: name -> definition."""
    return dict(query("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables]))


def secondary(tables=PPDB_TABLES) -> set[str]:
    """Indexes that are neither unique nor behind a constraint (primary keys are both)."""
    behind = {r[0] for r in query("SELECT conindid::regclass::text FROM pg_constraint WHERE conindid <> 0")}
    return {name for name, d in index_defs(tables).items() if " UNIQUE " not in d and name not in behind}


def state_files() -> list:
    from desctom.core.config import load as load_config

    return sorted(load_config().run_dir.glob("snana-deferred-indexes-*.json"))


@pytest.fixture(autouse=True)
def indexes_back():
    """Whatever a test does, the indexes of the ten tables are back for the tests after it."""
    before = index_defs(PPDB_TABLES + TRAIN_TABLES)
    yield before
    now = index_defs(PPDB_TABLES + TRAIN_TABLES)
    with connection.cursor() as cur:
        for name, definition in before.items():
            if name not in now:
                cur.execute(definition)
    for path in state_files():
        path.unlink()


class Watch(StringIO):
    """Command output that also snapshots the indexes when the first loaded file is reported."""

    def __init__(self, tables=PPDB_TABLES):
        super().__init__()
        self.tables, self.during = tables, None

    def write(self, text):
        if self.during is None and text.startswith("file "):
            self.during = index_defs(self.tables)
        return super().write(text)


def watched(*args, dirs, tables=PPDB_TABLES) -> Watch:
    out = Watch(tables)
    call_command("load_snana_fits", "-d", *map(str, dirs), *args, stdout=out)
    return out


def test_deferred_load_keeps_keys_and_recreates_every_index_identically(elasticc2_test_dirs, expected):
    before, deferrable = index_defs(), secondary()
    assert {"idx_elasticc2_ppdbdiaobject_decl", "idx_elasticc2_ppdbdiasource_decl"} <= deferrable
    assert any("diaobject_id" in n and "forcedsource" in n for n in deferrable) and len(deferrable) >= 11
    assert any(n.endswith("_pkey") for n in before) and not any(n.endswith("_pkey") for n in deferrable)

    out = watched("--ppdb", "--do", "-n", "2", dirs=elasticc2_test_dirs)  # empty tables: deferred
    assert out.during == {n: d for n, d in before.items() if n not in deferrable}  # keys stayed
    assert index_defs() == before
    assert table_counts() == expected["counts"]
    text = out.getvalue()
    assert f"dropped {len(deferrable)} secondary index(es)" in text and "no existing" in text
    assert f"re-created {len(deferrable)} secondary index(es)" in text
    assert state_files() == []


def test_auto_rule_defers_only_when_the_files_hold_more_rows_than_the_table(elasticc2_test_dirs, expected):
    kn, mdwarf, snib = (next(d for d in elasticc2_test_dirs if d.name.endswith(end))
                        for end in ("KN_K17", "Mdwarf-flare", "SNIb-Templates"))
    forced = {d.name: totals([expected["dirs"][d.name]])["forced"] for d in elasticc2_test_dirs}
    assert forced[kn.name] < forced[snib.name] and forced[mdwarf.name] < forced[kn.name] + forced[snib.name]
    before = index_defs()

    first = watched("--ppdb", "--do", dirs=[kn])  # into empty tables
    assert "dropped" in first.getvalue() and first.during != before
    again = watched("--ppdb", "--do", dirs=[kn])  # a rerun of a complete load: as many rows as there are
    assert "dropped" not in again.getvalue() and again.during == before
    second = watched("--ppdb", "--do", dirs=[snib])  # more rows than the table holds
    rule = f"{forced[snib.name]:,} incoming forced sources > {forced[kn.name]:,} existing"
    assert rule in second.getvalue()
    assert second.during != before
    third = watched("--ppdb", "--do", dirs=[mdwarf])  # fewer: indexes stay
    assert "dropped" not in third.getvalue() and "re-creat" not in third.getvalue()
    assert third.during == before
    assert index_defs() == before
    assert table_counts() == expected["counts"]


@pytest.mark.parametrize("flag", ["--keep-indexes", "--dont-disable-indexes-fks"])
def test_keep_indexes_keeps_them_throughout(elasticc2_test_dirs, expected, flag):
    before = index_defs()
    out = watched("--ppdb", "--do", flag, dirs=elasticc2_test_dirs)
    assert out.during == before and index_defs() == before
    assert "dropped" not in out.getvalue() and state_files() == []
    assert table_counts() == expected["counts"]


def test_defer_and_keep_exclude_each_other(elasticc2_test_dirs):
    with pytest.raises(CommandError, match="not allowed with"):
        load("--ppdb", "--do", "--defer-indexes", "--keep-indexes", dirs=elasticc2_test_dirs[:1])


def test_dry_run_touches_no_index(elasticc2_test_dirs):
    before = index_defs()
    out = watched("--ppdb", "--defer-indexes", dirs=elasticc2_test_dirs)
    assert out.during == before and index_defs() == before
    assert f"would drop {len(secondary())} secondary index(es)" in out.getvalue()
    assert table_counts() == NOTHING and state_files() == []


def test_training_load_defers_the_training_indexes(elasticc2_test_dirs, expected):
    before_train, before_ppdb = index_defs(TRAIN_TABLES), index_defs()
    deferrable = secondary(TRAIN_TABLES)
    out = watched("--train", "--do", dirs=elasticc2_test_dirs[:1], tables=TRAIN_TABLES + PPDB_TABLES)
    assert out.during == {n: d for n, d in {**before_train, **before_ppdb}.items() if n not in deferrable}
    assert index_defs(TRAIN_TABLES) == before_train and index_defs() == before_ppdb


def test_error_during_a_deferred_load_brings_the_indexes_back(copied_dirs, expected):
    phot = sorted(copied_dirs[0].glob("*PHOT.FITS.gz"))[10]
    bad = bytearray(phot.read_bytes())
    bad[-12:-8] = bytes(b ^ 0xFF for b in bad[-12:-8])  # fails its CRC only while loading
    phot.write_bytes(bytes(bad))
    before = index_defs()
    out = Watch()
    with pytest.raises(CommandError, match=re.escape(str(phot))):
        call_command("load_snana_fits", "-d", *map(str, copied_dirs), "--ppdb", "--do", "-n", "2",
                     "--defer-indexes", stdout=out)
    assert "re-created" in out.getvalue()
    assert index_defs() == before and state_files() == []


# -- crashes: the saved definitions -------------------------------------------------------------------
def drop_like_a_crashed_load(tables) -> Path:
    """Drop the secondary indexes of ``tables`` with the loader's own code and never re-create them."""
    from desctom.core import bulkcopy
    from desctom.core.config import load as load_config
    from desctom.elasticc2.loaders.snana.indexes import IndexKeeper, state_path

    deferrable = secondary(tables)
    with bulkcopy.connect(connection.settings_dict, autocommit=True) as conn:
        keeper = IndexKeeper(conn, connection.settings_dict, tuple(tables),
                             state_path(load_config().run_dir, conn), print)
        assert keeper.drop() == len(deferrable) > 0
    assert not deferrable & set(index_defs(tables))
    return keeper.state


def test_saved_definitions_are_recreated_before_anything_else(elasticc2_test_dirs, expected, indexes_back):
    state = drop_like_a_crashed_load(TRAIN_TABLES)
    missing = set(index_defs(TRAIN_TABLES + PPDB_TABLES)) ^ set(indexes_back)
    assert missing and state.exists()
    assert {d["name"] for d in json.loads(state.read_text())["indexes"]} == missing

    dry = load("--ppdb", dirs=elasticc2_test_dirs[:1])  # a dry run only reports
    assert f"{len(missing)} secondary index(es) dropped by an interrupted load are missing" in dry
    assert set(index_defs(TRAIN_TABLES + PPDB_TABLES)) ^ set(indexes_back) == missing

    out = load("--ppdb", "--do", "--keep-indexes", dirs=elasticc2_test_dirs[:1])  # another family, even
    first = out.splitlines()[0]
    assert first == f"re-creating {len(missing)} secondary index(es) that an interrupted load_snana_fits " \
                    "left missing…"
    assert index_defs(TRAIN_TABLES + PPDB_TABLES) == indexes_back
    assert not state.exists()
    assert table_counts() == totals([expected["dirs"][elasticc2_test_dirs[0].name]])


def test_unbuildable_saved_definition_stops_the_run_the_others_are_rebuilt(elasticc2_test_dirs, indexes_back):
    state = drop_like_a_crashed_load(TRAIN_TABLES)
    data = json.loads(state.read_text())
    bad = data["indexes"][0]
    bad["definition"] = bad["definition"].replace("(", "(no_such_column, ", 1)
    state.write_text(json.dumps(data))
    with pytest.raises(CommandError, match=f"could not re-create 1 secondary index.*{bad['name']}: column "
                                           '"no_such_column" does not exist.* next load_snana_fits --do'):
        load("--ppdb", "--do", dirs=elasticc2_test_dirs[:1])
    assert set(indexes_back) - set(index_defs(TRAIN_TABLES + PPDB_TABLES)) == {bad["name"]}
    assert state.exists() and table_counts() == NOTHING


def test_tables_in_use_keep_their_indexes(elasticc2_test_dirs, expected, monkeypatch):
    from desctom.elasticc2.loaders.snana import indexes

    monkeypatch.setattr(indexes, "DROP_LOCK_TIMEOUT", "1s")  # configuration: wait 1 s, not 10
    before = index_defs()
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"]) as reader:  # a long read of the forced sources, still open
        reader.execute("SELECT count(*) FROM elasticc2_ppdbdiaforcedsource")
        out = watched("--ppdb", "--do", "--defer-indexes", dirs=elasticc2_test_dirs)
    assert "in use by other sessions (no lock within 1s): loading with the secondary indexes kept" \
        in out.getvalue()
    assert out.during == before and index_defs() == before and state_files() == []
    assert table_counts() == expected["counts"]


def cli(*args) -> subprocess.Popen:
    return subprocess.Popen([DESCTOM, "load_snana_fits", *args], env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def read_until_loading(proc, files: int = 1, objects: int = 0) -> list[str]:
    """Read the command's output until it has dropped the indexes and reported ``files`` files
    holding at least ``objects`` objects in all (many test files hold none)."""
    seen, loaded = [], 0
    for line in proc.stdout:
        seen.append(line)
        if m := re.match(r"\s*\[\d+/\d+ files, ([\d,]+) objects", line):
            loaded = int(m.group(1).replace(",", ""))
        if any(s.startswith("dropped ") for s in seen) and sum(s.startswith("file ") for s in seen) >= files \
                and loaded >= objects:
            return seen
    pytest.fail(f"the load ended before loading: {''.join(seen)} {proc.stderr.read()}")


def wait_for_lock_release(timeout: float = 30) -> None:
    from desctom.elasticc2.loaders.snana.indexes import LOCK_KEY

    deadline = time.monotonic() + timeout
    while query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid::bigint = %s",
                [LOCK_KEY & 0xFFFFFFFF]) != [(0,)]:
        assert time.monotonic() < deadline, "the killed loader's backend never went away"
        time.sleep(0.1)


def test_killed_load_is_repaired_by_the_next_run(elasticc2_test_dirs, expected):
    before, deferrable = index_defs(), secondary()
    proc = cli("-d", *map(str, elasticc2_test_dirs), "--ppdb", "--do", "-n", "2", "--defer-indexes")
    read_until_loading(proc, files=3)
    os.killpg(proc.pid, signal.SIGKILL)  # no finally, no cleanup: like a power cut for the client
    proc.communicate(timeout=60)
    wait_for_lock_release()
    assert set(before) - set(index_defs()) == deferrable
    assert len(state_files()) == 1

    out = load("--ppdb", "--do", dirs=elasticc2_test_dirs)
    assert out.startswith(f"re-creating {len(deferrable)} secondary index(es) that an interrupted")
    assert index_defs() == before and state_files() == []
    assert table_counts() == expected["counts"]


def test_ctrl_c_during_a_deferred_load_recreates_the_indexes(elasticc2_test_dirs, expected):
    before = index_defs()
    proc = cli("-d", *map(str, elasticc2_test_dirs), "--ppdb", "--do", "-n", "2", "--defer-indexes")
    read_until_loading(proc, files=3, objects=1)
    os.killpg(proc.pid, signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (err, rest)
    assert "re-created" in rest and "interrupted" in err and "Traceback" not in err
    assert index_defs() == before and state_files() == []
    assert 0 < table_counts()["objects"] < expected["counts"]["objects"]


def test_a_second_loader_neither_loads_nor_touches_indexes_while_one_runs(elasticc2_test_dirs, expected):
    before, deferrable = index_defs(), secondary()
    first = cli("-d", *map(str, elasticc2_test_dirs), "--ppdb", "--do", "-n", "2", "--defer-indexes")
    read_until_loading(first)
    os.killpg(first.pid, signal.SIGSTOP)  # frozen mid-load: its session (and lock) stays
    try:
        loaded = table_counts()
        dry = load("--ppdb", dirs=elasticc2_test_dirs)  # a dry run needs no lock, and says who drops them
        assert "are missing while a load_snana_fits (PostgreSQL backend pid" in dry
        with pytest.raises(CommandError, match=r"another load_snana_fits is writing to this database "
                                               r"\(PostgreSQL backend pid \d+\)"):
            load("--ppdb", "--do", "--defer-indexes", dirs=elasticc2_test_dirs)
        assert set(before) - set(index_defs()) == deferrable  # not repaired by the second one
        assert table_counts() == loaded
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    rest, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert index_defs() == before and table_counts() == expected["counts"]


def test_a_lock_held_by_another_session_refuses_a_writing_load(elasticc2_test_dirs):
    from desctom.elasticc2.loaders.snana.indexes import LOCK_KEY

    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(CommandError, match="another load_snana_fits"):
            load("--ppdb", "--do", dirs=elasticc2_test_dirs[:1])
        assert table_counts() == NOTHING
    load("--ppdb", "--do", dirs=elasticc2_test_dirs[:1])
    assert table_counts()["objects"] > 0
