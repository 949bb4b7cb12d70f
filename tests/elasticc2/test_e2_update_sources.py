"""``update_elasticc2_sources`` on the real ELAsTiCC2 test data (346 objects loaded into the PPDB).

Source ids are queued in ``elasticc2_brokersourceids`` as broker ingest would; the known tables are
then checked against independent SQL over the PPDB. The command's lock, rollback and ``--loop``
need committed data and other connections, hence ``django_db(transaction=True)``.
"""

from __future__ import annotations

import signal
import subprocess
import time
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from desctom.core import bulkcopy
from desctom.elasticc2.workers.source_updater import LOCK_KEY, update_known_tables
from desctom.testing.cli import DESCTOM, cli_env

pytestmark = pytest.mark.django_db(transaction=True)

INFO_COLUMNS = ("diaobject_id, filtername, firstsource_id, firstsourceflux, firstsourcefluxerr, "
                "firstsourcemjd, latestsource_id, latestsourceflux, latestsourcefluxerr, latestsourcemjd")
KNOWN = ("diaobject", "diasource", "diaforcedsource", "diaobjectinfo", "brokersourceids",
         "diaobjectlatestclassification", "diasourcelatestclassification", "diaobjectconsensus",
         "diaobjectconsensusasof", "diaobjectpackedphotometry")


# -- helpers --------------------------------------------------------------------------------------------
def query(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def ids(sql, params=()) -> set[int]:
    return {r[0] for r in query(sql, params)}


def queue(source_ids) -> None:
    """Queue source ids as broker ingest does (duplicates ignored)."""
    query("INSERT INTO elasticc2_brokersourceids (diasource_id) SELECT unnest(%s::bigint[]) "
          "ON CONFLICT DO NOTHING", [sorted(source_ids)])


def run(*args) -> str:
    out = StringIO()
    call_command("update_elasticc2_sources", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row of the known tables and the queue (diaobjectinfo without its serial key)."""
    tables = {}
    for name in KNOWN:
        cols = "*" if name != "diaobjectinfo" else INFO_COLUMNS
        tables[name] = sorted(query(f"SELECT {cols} FROM elasticc2_{name}"), key=repr)
    return tables


def detections() -> dict[int, list[int]]:
    """{object: its PPDB source ids in time order}."""
    per_object: dict[int, list[int]] = {}
    for oid, sid in query("SELECT diaobject_id, diasource_id FROM elasticc2_ppdbdiasource "
                          "ORDER BY diaobject_id, midpointtai, diasource_id"):
        per_object.setdefault(oid, []).append(sid)
    return per_object


def early_half(per_object, every=3) -> set[int]:
    """The first half (at least one) of the detections of every ``every``-th object."""
    chosen = set()
    for k, (_, sids) in enumerate(sorted(per_object.items())):
        if k % every == 0:
            chosen.update(sids[:max(1, len(sids) // 2)])
    return chosen


def assert_known_tables_match(source_ids: set[int]) -> None:
    """The known tables hold exactly what ``source_ids`` imply, by independent SQL over the PPDB."""
    sids = sorted(source_ids)
    want_objects = ids("SELECT DISTINCT diaobject_id FROM elasticc2_ppdbdiasource "
                       "WHERE diasource_id = ANY(%s)", [sids])
    assert ids("SELECT diaobject_id FROM elasticc2_diaobject") == want_objects
    assert query("SELECT count(*) FROM (SELECT * FROM elasticc2_diaobject EXCEPT "
                 "SELECT * FROM elasticc2_ppdbdiaobject) x") == [(0,)]
    assert ids("SELECT diasource_id FROM elasticc2_diasource") == set(source_ids) & ids(
        "SELECT diasource_id FROM elasticc2_ppdbdiasource")
    assert query("SELECT count(*) FROM (SELECT * FROM elasticc2_diasource EXCEPT "
                 "SELECT * FROM elasticc2_ppdbdiasource) x") == [(0,)]
    want_forced = ids("""
        SELECT f.diaforcedsource_id FROM elasticc2_ppdbdiaforcedsource f
        JOIN (SELECT diaobject_id, max(midpointtai) AS mjd FROM elasticc2_ppdbdiasource
              WHERE diasource_id = ANY(%s) GROUP BY diaobject_id) m ON m.diaobject_id = f.diaobject_id
        WHERE f.midpointtai <= m.mjd""", [sids])
    assert ids("SELECT diaforcedsource_id FROM elasticc2_diaforcedsource") == want_forced
    assert query("SELECT count(*) FROM (SELECT * FROM elasticc2_diaforcedsource EXCEPT "
                 "SELECT * FROM elasticc2_ppdbdiaforcedsource) x") == [(0,)]
    picked = ("FROM elasticc2_ppdbdiasource WHERE diasource_id = ANY(%(s)s) "
              "ORDER BY diaobject_id, filtername, ")
    want_info = query(f"""
        SELECT f.diaobject_id, f.filtername,
               f.diasource_id, f.psflux::float8, f.psfluxerr::float8, f.midpointtai,
               l.diasource_id, l.psflux::float8, l.psfluxerr::float8, l.midpointtai
        FROM (SELECT DISTINCT ON (diaobject_id, filtername) * {picked} midpointtai, diasource_id) f
        JOIN (SELECT DISTINCT ON (diaobject_id, filtername) * {picked} midpointtai DESC, diasource_id DESC) l
          ON l.diaobject_id = f.diaobject_id AND l.filtername = f.filtername
        ORDER BY 1, 2""", {"s": sids})
    got_info = query(f"SELECT {INFO_COLUMNS} FROM elasticc2_diaobjectinfo ORDER BY 1, 2")
    assert got_info == want_info
    assert len(got_info) > len(want_objects)  # several bands per object: the check is not vacuous
    # the packed photometry (kept by triggers) has every object with forced photometry, whole
    assert query("SELECT diaobject_id, npoints FROM elasticc2_diaobjectpackedphotometry ORDER BY 1") == query(
        "SELECT diaobject_id, count(*) FROM elasticc2_diaforcedsource GROUP BY 1 ORDER BY 1")


@pytest.fixture
def ppdb(elasticc2_test_dirs):
    """The real test data in the PPDB; the known tables and the queue empty."""
    call_command("load_snana_fits", "-d", *map(str, elasticc2_test_dirs), "--ppdb", "--do", "-n", "1",
                 stdout=StringIO())
    assert all(query(f"SELECT count(*) FROM elasticc2_{t}") == [(0,)] for t in KNOWN)
    return detections()


def other_connection() -> psycopg.Connection:
    return bulkcopy.connect(connection.settings_dict, autocommit=True)



# -- copying --------------------------------------------------------------------------------------------
def test_queued_sources_are_copied_and_a_second_run_adds_nothing(ppdb):
    chosen = early_half(ppdb)
    queue(chosen)
    out = run()
    assert_known_tables_match(chosen)
    n_obj = len(ids("SELECT diaobject_id FROM elasticc2_diaobject"))
    n_forced = query("SELECT count(*) FROM elasticc2_diaforcedsource")[0][0]
    n_info = query("SELECT count(*) FROM elasticc2_diaobjectinfo")[0][0]
    assert n_forced < query("SELECT count(*) FROM elasticc2_ppdbdiaforcedsource WHERE diaobject_id IN "
                            "(SELECT diaobject_id FROM elasticc2_diaobject)")[0][0]  # the future is left out
    assert (f"{len(chosen):,} source ids processed (0 not in the PPDB, ignored); added {n_obj:,} objects, "
            f"{len(chosen):,} sources, {n_forced:,} forced sources; {n_info:,} diaobjectinfo rows "
            "upserted") in out
    assert query("SELECT count(*) FROM elasticc2_brokersourceids") == [(0,)]
    assert query("SELECT running FROM elasticc2_importppdbrunning") == [(False,)]  # row made, left idle

    before = snapshot()
    queue(chosen)  # the same ids again (brokers classify a source many times)
    again = run()
    assert snapshot() == before
    assert (f"{len(chosen):,} source ids processed (0 not in the PPDB, ignored); added 0 objects, 0 sources, "
            "0 forced sources; 0 diaobjectinfo rows upserted") in again
    assert "0 source ids processed" in run()


def test_later_sources_extend_the_forced_photometry_and_the_latest_detections(ppdb):
    first = early_half(ppdb)
    queue(first)
    run()
    before_forced = ids("SELECT diaforcedsource_id FROM elasticc2_diaforcedsource")
    before_info = dict(((o, b), (f, la)) for o, b, f, la in query(
        "SELECT diaobject_id, filtername, firstsource_id, latestsource_id FROM elasticc2_diaobjectinfo"))
    known = ids("SELECT diaobject_id FROM elasticc2_diaobject")
    later = {sids[-1] for oid, sids in ppdb.items() if oid in known and sids[-1] not in first}
    assert len(later) > 10
    queue(later)
    result = update_known_tables()
    assert_known_tables_match(first | later)
    assert (result.source_ids, result.objects_added, result.sources_added) == (len(later), 0, len(later))
    after_forced = ids("SELECT diaforcedsource_id FROM elasticc2_diaforcedsource")
    assert before_forced < after_forced and result.forced_added == len(after_forced - before_forced)
    changed = {(o, b) for o, b, f, la in query("SELECT diaobject_id, filtername, firstsource_id, "
                                               "latestsource_id FROM elasticc2_diaobjectinfo")
               if before_info.get((o, b)) != (f, la)}
    assert changed and result.objectinfo_upserted == len(changed)


def test_an_out_of_order_earlier_source_becomes_the_first_of_its_band(ppdb):
    oid, sids = next((o, s) for o, s in sorted(ppdb.items()) if len(s) >= 4)
    queue([sids[-1]])
    run()
    queue(sids[:-1])
    run()
    assert_known_tables_match(set(sids))


def test_doall_reads_the_broker_messages_and_leaves_the_queue_alone(ppdb):
    chosen = early_half(ppdb, every=4)
    query("""INSERT INTO elasticc2_brokermessage (alert_id, diasource_id, descingesttimestamp, classifier_id,
                                                  classid, probability)
             SELECT s, s, now(), c, '{2222}', '{1.0}' FROM unnest(%s::bigint[]) s, generate_series(1, 2) c""",
          [sorted(chosen)])
    queue([12345])
    out = run("--doall")
    assert_known_tables_match(chosen)
    assert f"{len(chosen):,} source ids processed" in out
    assert ids("SELECT diasource_id FROM elasticc2_brokersourceids") == {12345}


def test_a_queue_run_copies_only_the_new_forced_photometry_and_doall_repairs_gaps(ppdb):
    first = early_half(ppdb, every=2)
    queue(first)
    run()
    known = ids("SELECT diaobject_id FROM elasticc2_diaobject")
    later = {sids[-1] for oid, sids in ppdb.items() if oid in known and sids[-1] not in first}
    # a gap in one object's known forced photometry, before its latest known forced source
    oid = min(o for o in known if any(s in later for s in ppdb[o]))
    gap = ids("SELECT diaforcedsource_id FROM elasticc2_diaforcedsource WHERE diaobject_id = %s "
              "ORDER BY midpointtai LIMIT 3", [oid])
    query("DELETE FROM elasticc2_diaforcedsource WHERE diaforcedsource_id = ANY(%s)", [sorted(gap)])
    queue(later)
    result = update_known_tables()
    # only what follows each object's latest known forced source was offered: the gap stays
    assert not gap & ids("SELECT diaforcedsource_id FROM elasticc2_diaforcedsource")
    assert result.forced_added > 0
    query("""INSERT INTO elasticc2_brokermessage (alert_id, diasource_id, descingesttimestamp, classifier_id,
                                                  classid, probability)
             SELECT s, s, now(), 1, '{2222}', '{1.0}' FROM unnest(%s::bigint[]) s""", [sorted(first | later)])
    assert update_known_tables(doall=True).forced_added == len(gap)
    assert_known_tables_match(first | later)


def test_verbose_run_says_where_the_time_went(ppdb):
    queue(early_half(ppdb, every=5))
    out = run("-v", "2")
    line = next(x for x in out.splitlines() if x.startswith("time by step: "))
    for step in ("ids", "objects", "sources", "forced", "objectinfo", "classifications", "consensus",
                 "dequeue"):
        assert f" {step} " in line, line
    assert "time by step" not in run()


def latest_classifications() -> dict[tuple[int, int], tuple]:
    return {(o, c): (s, m, list(k), [round(p, 6) for p in pr]) for o, c, s, m, k, pr in query(
        "SELECT diaobject_id, classifier_id, diasource_id, brokermessage_id, classid, probability "
        "FROM elasticc2_diaobjectlatestclassification")}


def consensus() -> dict[int, tuple]:
    return {o: (c, m) for o, c, m in query(
        "SELECT diaobject_id, classid, midpointtai FROM elasticc2_diaobjectconsensus")}


def mjd(sid: int) -> float:
    return query("SELECT midpointtai FROM elasticc2_diasource WHERE diasource_id = %s", [sid])[0][0]


def test_latest_classification_per_object_and_classifier_whatever_the_arrival_order(ppdb):
    from desctom.elasticc2.workers.source_updater import rebuild_latest_classifications

    oid, sids = next((o, s) for o, s in sorted(ppdb.items()) if len(s) >= 4)
    a, b = (query("INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
                  "classifierparams, modified) VALUES ('T', 'v', %s, 'p', now()) RETURNING classifier_id",
                  [name])[0][0] for name in ("A", "B"))

    def message(classifier, sid, minute, classes) -> int:
        queue([sid])
        return query("INSERT INTO elasticc2_brokermessage (alert_id, diasource_id, descingesttimestamp, "
                     "classifier_id, classid, probability) VALUES (%s, %s, "
                     "'2026-01-01'::timestamptz + %s * interval '1 minute', %s, %s, %s) "
                     "RETURNING brokermessage_id",
                     [sid, sid, minute, classifier, list(classes), list(classes.values())])[0][0]

    first = message(a, sids[1], 0, {2222: 1.0})
    result = update_known_tables()
    assert result.classifications_upserted == 1
    assert latest_classifications() == {(oid, a): (sids[1], first, [2222], [1.0])}
    assert consensus() == {oid: (2222, mjd(sids[1]))} and result.consensus_upserted == 1
    message(a, sids[0], 5, {2223: 1.0})  # about an earlier detection, arriving later: not the latest
    b_msg = message(b, sids[2], 1, {2232: 0.75, 2222: 0.25})
    update_known_tables()
    assert latest_classifications() == {(oid, a): (sids[1], first, [2222], [1.0]),
                                        (oid, b): (sids[2], b_msg, [2232, 2222], [0.75, 0.25])}
    assert consensus() == {oid: (2222, mjd(sids[2]))}  # 2222: 1.0 + 0.25 beats 2232: 0.75
    again = message(a, sids[1], 9, {2224: 1.0})  # the same detection, ingested later: replaces
    newest = message(a, sids[3], 2, {2225: 1.0})  # a later detection
    assert update_known_tables().classifications_upserted == 1  # only the later detection's message wins
    want = {(oid, a): (sids[3], newest, [2225], [1.0]),
            (oid, b): (sids[2], b_msg, [2232, 2222], [0.75, 0.25])}
    assert latest_classifications() == want and again < newest
    assert consensus() == {oid: (2225, mjd(sids[3]))}  # 2225: 1.0 beats 2232: 0.75
    assert rebuild_latest_classifications() == 2 and latest_classifications() == want
    assert consensus() == {oid: (2225, mjd(sids[3]))}
    result = update_known_tables()
    assert result.classifications_upserted == 0 and result.consensus_upserted == 0  # nothing queued


def source_classifications() -> set[tuple]:
    return set(query("SELECT diasource_id, classifier_id, diaobject_id, midpointtai, brokermessage_id "
                     "FROM elasticc2_diasourcelatestclassification"))


def test_consensus_as_of_a_past_mjd_now_whatever_the_arrival_order(ppdb):
    """Per (source, classifier) the latest message is kept; a question about an earlier ``mjd_now``
    gets the consensus of each classifier's latest message about a detection up to then."""
    import random

    from desctom.elasticc2.queries.followup import LEAF_CLASSES, best_knowledge
    from desctom.elasticc2.workers.source_updater import rebuild_latest_classifications

    objects = [(o, s) for o, s in sorted(ppdb.items()) if len(s) >= 5][:4]
    classifiers = [query("INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
                         "classifierparams, modified) VALUES ('T', 'v', %s, 'p', now()) "
                         "RETURNING classifier_id", [name])[0][0] for name in ("A", "B", "C")]
    rng = random.Random(5)
    sent = []  # (object, classifier, source mjd, ingest minute, message id, {class: probability})
    plan = [(oid, sid, c) for oid, sids in objects for sid in sids for c in classifiers if rng.random() < 0.7]
    rng.shuffle(plan)  # messages about earlier detections often arrive after those about later ones
    for batch in (plan[:len(plan) // 3], plan[len(plan) // 3:]):
        for minute, (oid, sid, c) in enumerate(batch, start=len(sent)):
            classes = {k: rng.randint(1, 63) / 64 for k in rng.sample(LEAF_CLASSES[:6], 3)}  # exact sums
            mid = query("INSERT INTO elasticc2_brokermessage (alert_id, diasource_id, descingesttimestamp, "
                        "classifier_id, classid, probability) VALUES (%s, %s, "
                        "'2026-01-01'::timestamptz + %s * interval '1 minute', %s, %s, %s) "
                        "RETURNING brokermessage_id",
                        [sid, sid, minute, c, list(classes), list(classes.values())])[0][0]
            sent.append((oid, c, sid, minute, mid, classes))
        queue([sid for _, sid, _ in batch])
        update_known_tables()
    when = {sid: mjd(sid) for _, _, sid, *_ in sent}
    latest_per_source = {}
    for oid, c, sid, minute, mid, _ in sent:
        if (sid, c) not in latest_per_source or (minute, mid) > latest_per_source[sid, c][1:]:
            latest_per_source[sid, c] = (oid, minute, mid)
    want = {(sid, c, oid, when[sid], mid) for (sid, c), (oid, _, mid) in latest_per_source.items()}
    assert source_classifications() == want

    def expected(until: float) -> dict[int, int]:
        best = {}
        for oid, c, sid, minute, mid, classes in sent:
            key = (when[sid], minute, mid)
            if when[sid] <= until and ((oid, c) not in best or key > best[oid, c][0]):
                best[oid, c] = (key, classes)
        sums = {}
        for (oid, _), (_, classes) in best.items():
            for k, p in classes.items():
                sums.setdefault(oid, {}).setdefault(k, 0.0)
                sums[oid][k] += p
        return {oid: min(v, key=lambda k: (-v[k], k)) for oid, v in sums.items()}

    times = sorted(set(when.values()))

    def check() -> int:
        checked = 0
        for until in [times[0] - 1, *times, times[-1] + 1]:
            got = {oid: code for oid, (_, code) in best_knowledge([o for o, _ in objects], until).items()
                   if code != -99}
            assert got == expected(until), until
            checked += len(got)
        return checked

    assert check() > 10
    as_of = query("SELECT diaobject_id, midpointtai, classid FROM elasticc2_diaobjectconsensusasof "
                  "ORDER BY 1, 2")
    assert [r[:2] for r in as_of] == sorted({(oid, when[sid]) for oid, _, sid, *_ in sent})  # per detection
    assert rebuild_latest_classifications() > 0 and source_classifications() == want
    assert query("SELECT diaobject_id, midpointtai, classid FROM elasticc2_diaobjectconsensusasof "
                 "ORDER BY 1, 2") == as_of
    assert check() > 10


def test_consensus_ties_go_to_the_lower_class_and_non_leaf_classes_do_not_count(ppdb):
    objects = [(o, s) for o, s in sorted(ppdb.items()) if len(s) >= 2][:3]
    a, b = (query("INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
                  "classifierparams, modified) VALUES ('T', 'v', %s, 'p', now()) RETURNING classifier_id",
                  [name])[0][0] for name in ("A", "B"))
    votes = [({2232: 0.5, 2222: 0.5}, {}),  # a tie between two leaves: the lower id
             ({2220: 0.9, 300: 0.1}, {2000: 1.0}),  # only non-leaf classes: no consensus class
             ({2242: 0.6, 2246: 0.4}, {2246: 0.3, 2242: 0.0})]  # 0.6 + 0 against 0.4 + 0.3
    for (_oid, sids), per_classifier in zip(objects, votes, strict=True):
        for classifier, classes in zip((a, b), per_classifier, strict=True):
            if classes:
                query("INSERT INTO elasticc2_brokermessage (alert_id, diasource_id, descingesttimestamp, "
                      "classifier_id, classid, probability) VALUES (%s, %s, now(), %s, %s, %s)",
                      [sids[0], sids[0], classifier, list(classes), list(classes.values())])
        queue([sids[0]])
    update_known_tables()
    assert consensus() == {objects[0][0]: (2222, mjd(objects[0][1][0])),
                           objects[1][0]: (None, mjd(objects[1][1][0])),
                           objects[2][0]: (2246, mjd(objects[2][1][0]))}


def test_unknown_source_ids_are_ignored_counted_and_dequeued(ppdb):
    chosen = early_half(ppdb, every=5)
    unknown = {7, 8, 99_999_999_999_999}
    queue(chosen | unknown)
    result = update_known_tables()
    assert (result.source_ids, result.unknown_ids) == (len(chosen) + 3, 3)
    assert_known_tables_match(chosen)
    assert query("SELECT count(*) FROM elasticc2_brokersourceids") == [(0,)]


def test_forced_step_reads_the_ppdb_forced_table_by_object(ppdb):
    index = query("SELECT indexname FROM pg_indexes WHERE tablename = 'elasticc2_ppdbdiaforcedsource' "
                  "AND indexdef LIKE '%%(diaobject_id)'")[0][0]
    query("ANALYZE elasticc2_ppdbdiaforcedsource")
    queue(early_half(ppdb, every=1))  # every object: a hash join over the whole table would be cheaper
    result = update_known_tables(explain=True)
    plan = result.forced_plan
    assert f"Index Scan using {index} on elasticc2_ppdbdiaforcedsource" in plan or \
        f"Bitmap Index Scan on {index}" in plan, plan
    assert "Seq Scan on elasticc2_ppdbdiaforcedsource" not in plan
    assert "midpointtai_" not in result.forced_plan


def test_a_psycopg_connection_works_too(ppdb):
    chosen = early_half(ppdb, every=7)
    queue(chosen)
    with other_connection() as conn:
        conn.autocommit = False
        result = update_known_tables(connection=conn)
        conn.commit()
    assert result.sources_added == len(chosen)
    assert_known_tables_match(chosen)


# -- locking and failures ----------------------------------------------------------------------------------
def test_a_concurrent_run_is_refused_and_changes_nothing(ppdb):
    queue(early_half(ppdb))
    before = snapshot()
    with other_connection() as other:
        with other.transaction():
            other.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            with pytest.raises(CommandError, match="another update of the known tables is running"):
                run()
            cli = subprocess.run([DESCTOM, "update_elasticc2_sources"], env=cli_env(), capture_output=True,
                                 text=True, timeout=120)
            assert cli.returncode != 0 and "another update" in cli.stderr
        assert snapshot() == before
        # an older updater's way: the importppdbrunning row locked, or its flag set
        other.execute("INSERT INTO elasticc2_importppdbrunning (running) VALUES (false)")
        with other.transaction():
            other.execute("SELECT * FROM elasticc2_importppdbrunning FOR UPDATE")
            with pytest.raises(CommandError, match="importppdbrunning row is locked"):
                run()
        other.execute("UPDATE elasticc2_importppdbrunning SET running = true")
        with pytest.raises(CommandError, match="running is true"):
            run()
        assert snapshot() == before
        other.execute("UPDATE elasticc2_importppdbrunning SET running = false")
    assert "0 not in the PPDB" in run()
    assert query("SELECT count(*) FROM elasticc2_importppdbrunning") == [(1,)]


def test_a_failure_midway_leaves_every_table_as_it_was(ppdb):
    first = early_half(ppdb)
    queue(first)
    run()
    queue({sids[-1] for sids in ppdb.values()} | {42})
    before = snapshot()
    query("""CREATE FUNCTION _test_refuse() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'test trigger refuses forced sources'; END $$""")
    query("CREATE TRIGGER _test_refuse BEFORE INSERT ON elasticc2_diaforcedsource "
          "FOR EACH ROW EXECUTE FUNCTION _test_refuse()")
    try:
        with pytest.raises(CommandError, match="nothing was changed.*test trigger refuses forced sources"):
            run()
        assert snapshot() == before
        cli = subprocess.run([DESCTOM, "update_elasticc2_sources"], env=cli_env(), capture_output=True,
                             text=True, timeout=120)
        assert cli.returncode != 0 and "test trigger refuses" in cli.stderr
        assert snapshot() == before
    finally:
        query("DROP TRIGGER _test_refuse ON elasticc2_diaforcedsource")
        query("DROP FUNCTION _test_refuse()")
    run()
    assert_known_tables_match(first | {sids[-1] for sids in ppdb.values()})


# -- --loop ---------------------------------------------------------------------------------------------
def wait_for(condition, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def queue_empty() -> bool:
    return query("SELECT count(*) FROM elasticc2_brokersourceids") == [(0,)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_loop_repeats_until_a_signal_then_exits_cleanly(ppdb, sig):
    chosen = early_half(ppdb)
    proc = subprocess.Popen([DESCTOM, "update_elasticc2_sources", "--loop", "0.2"], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        queue(chosen)
        wait_for(queue_empty, "the first batch")
        later = {sids[-1] for sids in ppdb.values()}
        queue(later)
        wait_for(queue_empty, "the second batch")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.splitlines()[-1] == "stopped" and "source ids processed" in out
    assert_known_tables_match(chosen | later)


def test_loop_needs_a_positive_interval():
    with pytest.raises(CommandError, match="positive"):
        run("--loop", "0")
