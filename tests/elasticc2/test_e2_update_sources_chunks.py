"""``update_elasticc2_sources --chunk``: whole objects per transaction, restart-safe after SIGKILL.

A statement trigger that sleeps makes each chunk take a moment, so that a kill lands mid-queue;
the known tables are then checked against independent SQL over the PPDB, and the completed run
against one unchunked run of the same queue.
"""

from __future__ import annotations

import signal
import subprocess

import pytest
from django.core.management import CommandError
from test_e2_update_sources import (  # noqa: F401 - ppdb is a fixture
    KNOWN,
    assert_known_tables_match,
    detections,
    ids,
    ppdb,
    query,
    queue,
    run,
    wait_for,
)

from desctom.elasticc2.workers.source_updater import update_known_tables
from desctom.testing.cli import DESCTOM, cli_env

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN = {7, 8, 99_999_999_999_999}
#: Per (object, classifier), the latest message among those of the sources ``%(s)s``, by independent SQL.
WANT_LATEST = """
SELECT DISTINCT ON (s.diaobject_id, m.classifier_id) s.diaobject_id, m.classifier_id, s.diasource_id,
       m.brokermessage_id
FROM elasticc2_ppdbdiasource s JOIN elasticc2_brokermessage m ON m.diasource_id = s.diasource_id
WHERE s.diasource_id = ANY(%(s)s)
ORDER BY 1, 2, s.midpointtai DESC, m.descingesttimestamp DESC, m.brokermessage_id DESC"""
GOT_LATEST = ("SELECT diaobject_id, classifier_id, diasource_id, brokermessage_id "
              "FROM elasticc2_diaobjectlatestclassification ORDER BY 1, 2")
RESET = ("diaobjectconsensusasof", "diaobjectconsensus", "diasourcelatestclassification",
         "diaobjectlatestclassification", "diaobjectinfo", "diaforcedsource", "diaobjectpackedphotometry",
         "diasource", "diaobject")


def classify_everything() -> set[int]:
    """Two classifiers' messages about every PPDB source, in a shuffled ingest order; queue them all."""
    every = {sid for sids in detections().values() for sid in sids}
    classifiers = [query("INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
                         "classifierparams, modified) VALUES ('T', 'v', %s, 'p', now()) "
                         "RETURNING classifier_id", [name])[0][0] for name in ("A", "B")]
    query("""INSERT INTO elasticc2_brokermessage (alert_id, diasource_id, descingesttimestamp, classifier_id,
                                                  classid, probability)
             SELECT s, s, '2026-01-01'::timestamptz + ((s * 7919 + c) %% 10007) * interval '1 second', c,
                    ARRAY[2222 + (s + c) %% 3 * 10, 2242], '{0.75, 0.25}'
             FROM unnest(%s::bigint[]) s, unnest(%s::bigint[]) c""", [sorted(every), classifiers])
    queue(every | UNKNOWN)
    return every | UNKNOWN


def queued() -> set[int]:
    return ids("SELECT diasource_id FROM elasticc2_brokersourceids")


def slow_chunks(on: bool) -> None:
    """Each chunk's object copy sleeps a moment (so that a signal lands between or within chunks)."""
    if on:
        query("CREATE FUNCTION _test_slow() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN PERFORM pg_sleep(0.2); RETURN NULL; END $$")
        query("CREATE TRIGGER _test_slow BEFORE INSERT ON elasticc2_diaobject "
              "FOR EACH STATEMENT EXECUTE FUNCTION _test_slow()")
    else:
        query("DROP TRIGGER _test_slow ON elasticc2_diaobject")
        query("DROP FUNCTION _test_slow()")


def assert_whole_objects(done: set[int], left: set[int]) -> None:
    """No object has processed and unprocessed queued sources; the known tables are those of ``done``."""
    objects = "SELECT DISTINCT diaobject_id FROM elasticc2_ppdbdiasource WHERE diasource_id = ANY(%s)"
    assert not ids(objects, [sorted(done)]) & ids(objects, [sorted(left)])
    assert_known_tables_match(done)
    assert query(GOT_LATEST) == query(WANT_LATEST, {"s": sorted(done)})
    assert ids("SELECT diaobject_id FROM elasticc2_diaobjectconsensus") == ids(objects, [sorted(done)])


def content() -> dict[str, list[str]]:
    """Every row of the known tables and the queue, without serial keys (they differ between runs)."""
    tables = {}
    for name in KNOWN:
        cols = [c for (c,) in query("SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                                    " AND column_name NOT IN ('id', '_id') ORDER BY ordinal_position",
                                    [f"elasticc2_{name}"])]
        tables[name] = sorted(map(repr, query(f"SELECT {', '.join(cols)} FROM elasticc2_{name}")))
    return tables


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([DESCTOM, "update_elasticc2_sources", *args], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.usefixtures("ppdb")
def test_sigkill_mid_queue_leaves_whole_objects_and_the_rerun_loses_and_doubles_nothing():
    everything = classify_everything()
    size = max(1, len(everything) // 40)
    slow_chunks(True)
    proc = start("--chunk", str(size))
    try:
        wait_for(lambda: len(queued()) <= len(everything) - 2 * size or proc.poll() is not None,
                 "two chunks committed", limit=120)
        # meanwhile no other updater gets in, not even between chunks
        with pytest.raises(CommandError, match="another update"):
            run("--chunk", "0")
        proc.kill()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    left = queued()
    done = everything - left
    assert left and len(done) >= 2 * size  # killed mid-queue, after some chunks
    assert_whole_objects(done, left)

    slow_chunks(False)
    out = run("--chunk", str(size))
    assert f"{len(left):,} source ids processed" in out and "chunks" in out
    assert not queued()
    assert_known_tables_match(everything)
    assert query(GOT_LATEST) == query(WANT_LATEST, {"s": sorted(everything)})
    chunked = content()
    assert all(chunked[t] for t in KNOWN if t != "brokersourceids")  # the comparison is not vacuous

    for table in RESET:  # the same queue again, from empty known tables, in one transaction
        query(f"DELETE FROM elasticc2_{table}")
    queue(everything)
    result = update_known_tables()
    assert result.chunks == 1 and result.source_ids == len(everything)
    assert content() == chunked


@pytest.mark.usefixtures("ppdb")
def test_sigterm_stops_after_the_current_chunk():
    everything = classify_everything()
    size = max(1, len(everything) // 40)
    slow_chunks(True)
    try:
        proc = start("--chunk", str(size))
        try:
            wait_for(lambda: len(queued()) < len(everything) or proc.poll() is not None, "a chunk", limit=120)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        slow_chunks(False)
    assert proc.returncode == 0, err
    assert "stopped before the end of the queue" in out
    left = queued()
    assert left
    assert_whole_objects(everything - left, left)
    run("--chunk", str(size))
    assert not queued()
    assert_known_tables_match(everything)


@pytest.mark.usefixtures("ppdb")
def test_chunks_sum_up_and_doall_chunks_too():
    everything = classify_everything()
    size = max(1, len(everything) // 7)
    result = update_known_tables(chunk=size)
    assert result.chunks >= 7 and result.source_ids == len(everything)
    assert result.unknown_ids == len(UNKNOWN) and not queued()
    assert result.sources_added == len(everything - UNKNOWN)
    assert_known_tables_match(everything)
    before = content()
    queue({1, 2})
    result = update_known_tables(doall=True, chunk=size)
    assert result.chunks >= 7 and result.source_ids == len(everything - UNKNOWN)
    assert content() == {**before, "brokersourceids": ["(1,)", "(2,)"]}
