"""`desctom backup` / `desctom restore`: a running demo campaign backed up, restored elsewhere, compared."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from desctom.localstack.procs import free_port
from desctom.testing.livestack import LiveStack, wait_for

#: Per table: row count and md5 of all rows' text in primary-key order (computed in SQL).
TABLE_MD5 = """
SELECT format('SELECT count(*), md5(coalesce(string_agg(t::text, E''\\n'' ORDER BY %s), '''')) FROM %I.%I t',
              coalesce((SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.ord)
                        FROM pg_index i CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                        WHERE i.indrelid = c.oid AND i.indisprimary), 't::text'),
              n.nspname, c.relname), n.nspname || '.' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 2"""


def table_md5s(stack: LiveStack) -> dict[str, tuple]:
    with psycopg.connect(stack.postgres.conninfo()) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return {name: conn.execute(query).fetchone() for query, name in conn.execute(TABLE_MD5).fetchall()}


def file_sha256s(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def fresh_env(env: dict) -> dict:
    """Another private installation: empty data dir, free ports."""
    home = Path(tempfile.mkdtemp(prefix="desctom-restore-"))
    home.chmod(0o755)
    return {**env, "DESCTOM_HOME": str(home), "DESCTOM_WEB_PORT": str(free_port()),
            "DESCTOM_PG_PORT": str(free_port()), "DESCTOM_KAFKA_PORT": str(free_port())}


def campaign(stack: LiveStack) -> dict:
    [(nights, messages, known)] = stack.sql(
        "SELECT (SELECT count(*) FROM elasticc2_alertsenderrun WHERE alerts_sent > 0), "
        "(SELECT count(*) FROM elasticc2_brokermessage), (SELECT count(*) FROM elasticc2_diaobject)")
    return {"nights": nights, "messages": messages, "known": known}


def test_backup_of_a_running_campaign_restores_identically(stack_env, tmp_path):
    a = LiveStack(stack_env)
    b = c = None
    try:
        res = a.desctom("up", "--detach", "--demo", "--demo-objects", "300", "--night-seconds", "3")
        assert res.returncode == 0, res.stderr + res.stdout
        wait_for(lambda: (s := campaign(a))["nights"] >= 3 and s["messages"] > 0 and s["known"] > 0, 240,
                 "a few simulated nights with broker messages")
        queryid = a.submit("SELECT classifier_id, count(*) AS n FROM elasticc2_brokermessage "
                           "GROUP BY classifier_id ORDER BY classifier_id", fmt="parquet")
        assert a.wait_query(queryid, timeout=150)["status"] == "finished"

        # 1. While the campaign runs (nights keep coming, the poller keeps writing).
        live = a.desctom("backup", str(tmp_path / "live"))
        assert live.returncode == 0, live.stderr
        assert "dumping database" in live.stdout and "backup written" in live.stdout
        manifest = json.loads((tmp_path / "live" / "manifest.json").read_text())
        assert list(manifest["results"]) == [queryid]
        assert manifest["tables"]["public.elasticc2_brokermessage"]["rows"] > 0
        again = a.desctom("backup", str(tmp_path / "live"))
        assert again.returncode == 1 and "not an empty folder" in again.stderr
        c = LiveStack(fresh_env(stack_env))
        restored = c.desctom("restore", str(tmp_path / "live"))
        assert restored.returncode == 0, restored.stderr  # every table matched the dump's snapshot
        assert "every table and file matches" in restored.stdout
        assert not c.postgres.running()

        # 2. Stopped: the backup starts PostgreSQL for itself; the restore must equal the source exactly.
        a.down()
        quiet = a.desctom("backup", str(tmp_path / "quiet"))
        assert quiet.returncode == 0, quiet.stderr
        assert not a.postgres.running()
        b = LiveStack(fresh_env(stack_env))
        restored = b.desctom("restore", str(tmp_path / "quiet"))
        assert restored.returncode == 0, restored.stderr
        a.postgres.start()
        b.postgres.start()
        source, copy = table_md5s(a), table_md5s(b)
        a.postgres.stop()
        b.postgres.stop()
        assert len(source) > 50 and source["public.elasticc2_brokermessage"][0] > 0
        assert copy == source
        assert file_sha256s(b.home / "query_results") == file_sha256s(a.home / "query_results")
        assert len(file_sha256s(b.home / "query_results")) == 1
        figures = [line.strip() for out in (live.stdout, quiet.stdout, restored.stdout)
                   for line in out.splitlines() if " in " in line and " s" in line]
        print("\nbackup figures:", *figures, sep="\n  ")

        # 3. The restored installation runs and serves the restored query's results (same accounts).
        shutil.copy(a.home / "secrets" / "admin_password", b.home / "secrets" / "admin_password")
        b.up()
        assert b.query_status(queryid)["status"] == "finished"
        result = b.api(f"/db/getsqlqueryresults/{queryid}/")
        assert result.status_code == 200
        assert result.content == (a.home / "query_results" / queryid).read_bytes()
        count = {"query": "SELECT count(*) AS n FROM elasticc2_brokermessage"}
        rows = b.api("/db/runsqlquery/", count).json()
        assert rows["rows"] == [{"n": source["public.elasticc2_brokermessage"][0]}]
    finally:
        for stack in (b, c, a):
            if stack is not None:
                stack.down()
        for stack in (b, c):
            if stack is not None:
                shutil.rmtree(stack.home, ignore_errors=True)


def test_restore_refuses_a_used_data_dir_and_a_damaged_backup(stack_env, tmp_path):
    backup = tmp_path / "backup"
    (backup / "query_results").mkdir(parents=True)
    (backup / "database.dump").write_bytes(b"dump")
    (backup / "query_results" / "q1").write_bytes(b"rows")
    manifest = {"format": 1, "dump": {"file": "database.dump", "bytes": 4,
                                      "sha256": hashlib.sha256(b"dump").hexdigest()},
                "results": {"q1": {"bytes": 4, "sha256": hashlib.sha256(b"rows").hexdigest()}}, "tables": {}}
    (backup / "manifest.json").write_text(json.dumps(manifest))
    stack = LiveStack(stack_env)
    (stack.home / "something").write_text("in use")
    res = stack.desctom("restore", str(backup))
    assert res.returncode == 1 and "is not empty" in res.stderr
    assert sorted(p.name for p in stack.home.iterdir()) == ["something"]

    (stack.home / "something").unlink()
    (backup / "query_results" / "q1").write_bytes(b"rowz")
    res = stack.desctom("restore", str(backup))
    assert res.returncode == 1 and "backup damaged" in res.stderr and "q1" in res.stderr
    assert list(stack.home.iterdir()) == []  # nothing written

    (backup / "manifest.json").unlink()
    res = stack.desctom("restore", str(backup))
    assert res.returncode == 1 and "not a DESC TOM backup" in res.stderr


@pytest.mark.parametrize("args", [["backup"], ["restore", "a", "b"]])
def test_backup_commands_need_one_path(stack_env, args):
    res = LiveStack(stack_env).desctom(*args)
    assert res.returncode == 2 and "usage: desctom" in res.stderr
