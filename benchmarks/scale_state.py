"""Shared by ``benchmarks/scale.py``: a synthetic campaign brought to mid-survey with set-based SQL.

The state is what the alert cycle leaves after running every night up to the simulated time ``now``
(as ``benchmarks/hot.py``'s ``--state sql``), except that the timestamps are spread as a campaign
spreads them: an alert of a detection at ``midpointtai`` was sent ``now - midpointtai`` real days
ago (one simulated night per real day, the pace of the live survey), and its two classifications
(the fake broker's NugentClassifier and RandomSNType) arrived seconds later. Per-day and per-week
metrics, the front page's "last hour" and the classifiers' latest messages then see a campaign's
history instead of one instant. ``elasticc2_diaobjectinfo`` is left to the updater (no read timed
here uses it).
"""

from __future__ import annotations

from _harness import Timer
from hot import run, scalar  # noqa: F401 (scale_measure imports them from here)

#: The 20 leaf classes RandomSNType spreads its probabilities over (as the fake broker).
LEAVES = [2222, 2223, 2224, 2225, 2226, 2232, 2233, 2234, 2235, 2242, 2243, 2244, 2245, 2246, 2322, 2323,
          2324, 2325, 2326, 2332]

#: The real-time instant of a detection at ``s.midpointtai`` seen from ``%(now)s`` (simulated MJD).
_SENT = "(now() - make_interval(secs => (%(now)s - s.midpointtai) * 86400))"

_MESSAGE_COLUMNS = ("streammessage_id, topicname, kafkapartition, alert_id, diasource_id, msghdrtimestamp, "
                    "descingesttimestamp, elasticcpublishtimestamp, brokeringesttimestamp, classifier_id, "
                    "classid, probability")


def state_steps() -> dict[str, str]:
    """Name -> SQL of each set-based step, in an order that works when run one after the other."""
    from desctom.survey.columns import FORCED_COLUMNS, OBJECT_COLUMNS, SOURCE_COLUMNS

    def cols(columns, prefix=""):
        return ", ".join(prefix + c for c in columns)

    return {
        "alerts marked sent": f"UPDATE elasticc2_ppdbalert a SET alertsenttimestamp = {_SENT} "
        "FROM elasticc2_ppdbdiasource s WHERE s.diasource_id = a.diasource_id AND s.midpointtai <= %(now)s",
        "known objects": f"INSERT INTO elasticc2_diaobject ({cols(OBJECT_COLUMNS)}) "
        f"SELECT {cols(OBJECT_COLUMNS, 'o.')} FROM elasticc2_ppdbdiaobject o "
        "WHERE EXISTS (SELECT 1 FROM elasticc2_ppdbdiasource s WHERE s.diaobject_id = o.diaobject_id "
        "AND s.midpointtai <= %(now)s)",
        "known sources": f"INSERT INTO elasticc2_diasource ({cols(SOURCE_COLUMNS)}) "
        f"SELECT {cols(SOURCE_COLUMNS)} FROM elasticc2_ppdbdiasource WHERE midpointtai <= %(now)s",
        "known forced sources": f"INSERT INTO elasticc2_diaforcedsource ({cols(FORCED_COLUMNS)}) "
        f"SELECT {cols(FORCED_COLUMNS, 'f.')} FROM elasticc2_ppdbdiaforcedsource f "
        "JOIN (SELECT diaobject_id, max(midpointtai) AS m FROM elasticc2_diasource GROUP BY 1) k "
        "ON k.diaobject_id = f.diaobject_id WHERE f.midpointtai <= k.m",
        "classifiers": "INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
        "classifierparams, modified) VALUES ('FakeBroker', 'v1.0', 'NugentClassifier', '100%%', now()), "
        "('FakeBroker', 'v1.0', 'RandomSNType', 'Perfect', now()) ON CONFLICT DO NOTHING",
        "NugentClassifier messages": f"""
         INSERT INTO elasticc2_brokermessage ({_MESSAGE_COLUMNS})
         SELECT row_number() OVER (ORDER BY s.midpointtai, s.diasource_id), 'classifications-bulk', 0,
                s.diasource_id, s.diasource_id, {_SENT} + interval '20 s', {_SENT} + interval '25 s',
                {_SENT}, {_SENT} + interval '10 s',
                (SELECT classifier_id FROM elasticc2_brokerclassifier
                 WHERE classifiername = 'NugentClassifier'),
                '{{2222}}', '{{1}}'
         FROM elasticc2_diasource s ORDER BY s.midpointtai, s.diasource_id""",
        "RandomSNType messages": f"""
         INSERT INTO elasticc2_brokermessage ({_MESSAGE_COLUMNS})
         SELECT 1000000000 + row_number() OVER (ORDER BY s.midpointtai, s.diasource_id),
                'classifications-bulk', 0, s.diasource_id, s.diasource_id,
                {_SENT} + interval '21 s', {_SENT} + interval '26 s',
                {_SENT}, {_SENT} + interval '11 s',
                (SELECT classifier_id FROM elasticc2_brokerclassifier WHERE classifiername = 'RandomSNType'),
                %(leaves)s::smallint[], p.probs
         FROM elasticc2_diasource s CROSS JOIN LATERAL (
             SELECT array_agg((w / total)::real ORDER BY i) AS probs FROM (
                 SELECT i, w, sum(w) OVER () AS total FROM (
                     SELECT i, random() + 0 * s.diasource_id AS w FROM generate_series(1, 20) i) a) b) p
         ORDER BY s.midpointtai, s.diasource_id""",
    }


#: Steps that only need the known sources, run in two lanes side by side (two cores): the forced
#: photometry in one, the messages and the latest classifications (which read messages and known
#: sources only) in the other.
FIRST = ("alerts marked sent", "known objects", "known sources")
LANES = (("known forced sources",), ("classifiers", "NugentClassifier messages", "RandomSNType messages",
                                     "latest classifications"))


def campaign_state(now: float, done: tuple[str, ...] = ()) -> None:
    """Write, with set-based SQL, what the alert cycle would have produced by simulated time ``now``
    (steps named in ``done`` are skipped: already committed by an interrupted build)."""
    import threading

    from django.db import connection

    steps = state_steps()
    params = {"now": now, "leaves": LEAVES}

    def do(name: str) -> None:
        if name in done:
            return
        with Timer() as t:
            if name == "latest classifications":
                n = latest_classifications()
            elif name in UNLOGGED:
                n = without_change_logs(steps[name], params)
            else:
                n = run(steps[name], params)
        print(f"  {name}: {n:,} rows, {t.seconds:.0f} s", flush=True)

    def lane(names, errors):
        try:
            for name in names:
                do(name)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    for name in FIRST:
        do(name)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=lane, args=(names, errors)) for names in LANES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    record_sender_run()
    with Timer() as t:
        run("VACUUM ANALYZE")
    print(f"  VACUUM ANALYZE: {t.seconds:.0f} s", flush=True)


#: Steps the metrics' change logs (migration metrics 0005) would log row by row: tens of millions of rows
#: that the first ``update_metrics`` of the campaign (in full: no family computed yet) would only delete.
UNLOGGED = ("alerts marked sent", "NugentClassifier messages", "RandomSNType messages")


def without_change_logs(sql: str, params) -> int:
    """Run ``sql`` with this session's triggers off (``session_replication_role``)."""
    run("SET session_replication_role = replica")
    try:
        return run(sql, params)
    finally:
        run("RESET session_replication_role")


def latest_classifications() -> int:
    """What ``update_elasticc2_sources`` keeps up to date as messages arrive, rebuilt at once. The
    metrics' change-log triggers are off meanwhile (``session_replication_role``): the first
    ``update_metrics`` of the campaign counts everything in full anyway and would empty the logs."""
    from desctom.elasticc2.workers.source_updater import rebuild_latest_classifications

    run("SET session_replication_role = replica")
    try:
        return rebuild_latest_classifications()
    finally:
        run("RESET session_replication_role")


def record_sender_run() -> None:
    """A finished sender run through the latest sent detection, as the sender records its runs (its
    ``-a`` start reads them); nothing if a run is recorded already."""
    run("""INSERT INTO elasticc2_alertsenderrun (started, finished, host, pid, through_day, alerts_sent,
               last_mjd, status)
           SELECT now(), now(), 'scale-benchmark', 1, max(s.midpointtai), count(*), max(s.midpointtai),
                  'finished'
           FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id
           WHERE a.alertsenttimestamp IS NOT NULL
           HAVING count(*) > 0 AND NOT EXISTS (SELECT 1 FROM elasticc2_alertsenderrun)""")


def describe_state() -> dict:
    """The sizes of the state (estimated counts of the biggest tables: exact counts take minutes)."""
    queries = {
        "objects in the PPDB": "SELECT count(*) FROM elasticc2_ppdbdiaobject",
        "alerts sent": "SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL",
        "known objects": "SELECT count(*) FROM elasticc2_diaobject",
        "broker messages": "SELECT reltuples::bigint FROM pg_class WHERE relname = 'elasticc2_brokermessage'",
        "known forced sources": "SELECT reltuples::bigint FROM pg_class "
                                "WHERE relname = 'elasticc2_diaforcedsource'",
        "PPDB forced sources": "SELECT reltuples::bigint FROM pg_class "
                               "WHERE relname = 'elasticc2_ppdbdiaforcedsource'",
    }
    return {name: int(scalar(sql)) for name, sql in queries.items()}


def disk_usage(top: int = 14) -> dict:
    """Database size and the biggest tables: table, index and total bytes."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        total = cur.fetchone()[0]
        cur.execute("""
            SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid), pg_total_relation_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
            ORDER BY pg_total_relation_size(c.oid) DESC LIMIT %s""", [top])
        tables = {name: {"table": t, "indexes": i, "total": tot} for name, t, i, tot in cur.fetchall()}
    return {"database": total, "tables": tables}
