"""Benchmark: ``gethottransients`` (1-day and 10-day windows) and ``spectrawanted`` latency.

    .venv/bin/python benchmarks/hot.py [--objects 100000] [--state cycle|sql] [--requests 30] [--explain]
                                       [--keep DIR]

Builds a synthetic survey (`desctom synth_survey`) in a throwaway PostgreSQL, then puts it in the
state the alert cycle leaves it in at mid-survey (simulated "now" T):

* ``--state cycle`` (the default): **runs the alert cycle itself** (``benchmarks/_cycle.py``), 30
  simulated days at a time, on a throwaway tansu: ``send_elasticc2_alerts`` sends every alert up to
  T as Avro, ``fakebroker`` classifies each (NugentClassifier: 2222 with probability 1;
  RandomSNType: a random vector over the 20 leaves), ``brokerpoll2`` stores the classifications and
  ``update_elasticc2_sources`` fills the known tables, as in a campaign (about 14 minutes on 100,000 objects);
* ``--state sql``: the same state written with set-based SQL instead (a few minutes): alerts of
  detections up to T marked sent, two messages per sent alert as the fake broker makes them, the
  known tables as the updater fills them (``elasticc2_diaobjectinfo`` is not filled: no endpoint
  here reads it).

Then, as an SRS would, asks for spectra of every object detected in the 14 days before T (through
the API), plans and reports a few, and times requests through Django's test client (URL routing,
middleware, login, view, SQL, JSON; no network): ``gethottransients`` at the clock (``mjd_now`` = T,
as clients ask during a campaign) and on the nights before T (questions about the past, which read
the consensus as of ``mjd_now`` for objects classified after it); ``spectrawanted`` on the nights
before T. Prints p50/p95 and the answer sizes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from _harness import Timer, django_on_throwaway_postgres

LEAVES = [2222, 2223, 2224, 2225, 2226, 2232, 2233, 2234, 2235, 2242, 2243, 2244, 2245, 2246, 2322, 2323,
          2324, 2325, 2326, 2332]


def run(sql: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def scalar(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def cycle_state(now: float) -> None:
    """What the alert cycle would have produced by simulated time ``now`` (see the module doc)."""
    from desctom.survey.columns import FORCED_COLUMNS, OBJECT_COLUMNS, SOURCE_COLUMNS

    steps = [
        ("alerts marked sent", "UPDATE elasticc2_ppdbalert a SET alertsenttimestamp = now() "
         "FROM elasticc2_ppdbdiasource s WHERE s.diasource_id = a.diasource_id AND s.midpointtai <= %(now)s"),
        ("known objects", f"INSERT INTO elasticc2_diaobject ({', '.join(OBJECT_COLUMNS)}) "
         f"SELECT {', '.join('o.' + c for c in OBJECT_COLUMNS)} FROM elasticc2_ppdbdiaobject o "
         "WHERE EXISTS (SELECT 1 FROM elasticc2_ppdbdiasource s WHERE s.diaobject_id = o.diaobject_id "
         "AND s.midpointtai <= %(now)s)"),
        ("known sources", f"INSERT INTO elasticc2_diasource ({', '.join(SOURCE_COLUMNS)}) "
         f"SELECT {', '.join(SOURCE_COLUMNS)} FROM elasticc2_ppdbdiasource WHERE midpointtai <= %(now)s"),
        ("known forced sources", f"INSERT INTO elasticc2_diaforcedsource ({', '.join(FORCED_COLUMNS)}) "
         f"SELECT {', '.join('f.' + c for c in FORCED_COLUMNS)} FROM elasticc2_ppdbdiaforcedsource f "
         "JOIN (SELECT diaobject_id, max(midpointtai) AS m FROM elasticc2_diasource GROUP BY 1) k "
         "ON k.diaobject_id = f.diaobject_id WHERE f.midpointtai <= k.m"),
        ("classifiers", "INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
         "classifierparams, modified) VALUES ('FakeBroker', 'v1.0', 'NugentClassifier', '100%%', now()), "
         "('FakeBroker', 'v1.0', 'RandomSNType', 'Perfect', now())"),
        ("NugentClassifier messages", """
         INSERT INTO elasticc2_brokermessage (streammessage_id, topicname, kafkapartition, alert_id,
             diasource_id, msghdrtimestamp, descingesttimestamp, elasticcpublishtimestamp,
             brokeringesttimestamp, classifier_id, classid, probability)
         SELECT row_number() OVER (ORDER BY s.midpointtai, s.diasource_id), 'classifications', 0,
                s.diasource_id, s.diasource_id, now(), now(), now(), now(),
                (SELECT classifier_id FROM elasticc2_brokerclassifier
                 WHERE classifiername = 'NugentClassifier'),
                '{2222}', '{1}'
         FROM elasticc2_diasource s"""),
        ("RandomSNType messages", """
         INSERT INTO elasticc2_brokermessage (streammessage_id, topicname, kafkapartition, alert_id,
             diasource_id, msghdrtimestamp, descingesttimestamp, elasticcpublishtimestamp,
             brokeringesttimestamp, classifier_id, classid, probability)
         SELECT 1000000000 + row_number() OVER (ORDER BY s.midpointtai, s.diasource_id), 'classifications', 0,
                s.diasource_id, s.diasource_id, now(), now(), now(), now(),
                (SELECT classifier_id FROM elasticc2_brokerclassifier WHERE classifiername = 'RandomSNType'),
                %(leaves)s::smallint[], p.probs
         FROM elasticc2_diasource s CROSS JOIN LATERAL (
             SELECT array_agg((w / total)::real ORDER BY i) AS probs FROM (
                 SELECT i, w, sum(w) OVER () AS total FROM (
                     SELECT i, random() + 0 * s.diasource_id AS w FROM generate_series(1, 20) i) a) b) p"""),
    ]
    for name, sql in steps:
        with Timer() as t:
            n = run(sql, {"now": now, "leaves": LEAVES})
        print(f"  {name}: {n:,} rows, {t.seconds:.0f} s", flush=True)
    from desctom.elasticc2.workers.source_updater import rebuild_latest_classifications

    with Timer() as t:  # what update_elasticc2_sources keeps up to date as messages arrive
        n = rebuild_latest_classifications()
    print(f"  latest classification per (object, classifier): {n:,} rows, {t.seconds:.0f} s", flush=True)
    with Timer() as t:
        run("VACUUM ANALYZE")
    print(f"  VACUUM ANALYZE: {t.seconds:.0f} s", flush=True)


def describe_state() -> None:
    """Print the sizes of the state the requests run on."""
    counts = [(name, scalar(sql)) for name, sql in [
        ("alerts sent", "SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL"),
        ("broker messages", "SELECT count(*) FROM elasticc2_brokermessage"),
        ("known objects", "SELECT count(*) FROM elasticc2_diaobject"),
        ("known sources", "SELECT count(*) FROM elasticc2_diasource"),
        ("known forced sources", "SELECT count(*) FROM elasticc2_diaforcedsource"),
        ("packed photometry rows", "SELECT count(*) FROM elasticc2_diaobjectpackedphotometry"),
        ("latest classifications", "SELECT count(*) FROM elasticc2_diaobjectlatestclassification")]]
    print("state: " + ", ".join(f"{n:,} {name}" for name, n in counts), flush=True)


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f})"


def timed(client, page: str, bodies: list[dict]):
    """POST each body (after one warm-up); the seconds of each, and the answers' sizes."""
    client.post(f"/elasticc2/{page}", json.dumps(bodies[0]), content_type="application/json")
    seconds, sizes, counts = [], [], []
    for body in bodies:
        with Timer() as t:
            res = client.post(f"/elasticc2/{page}", json.dumps(body), content_type="application/json")
        if res.status_code != 200:
            raise SystemExit(f"{page} {body}: HTTP {res.status_code} {res.content[:300]!r}")
        out = res.json()
        counts.append(len(out.get("diaobject", out.get("wantedspectra", []))))
        seconds.append(t.seconds)
        sizes.append(len(res.content))
    return seconds, sizes, counts


def explain(now: float, days: float) -> None:
    """EXPLAIN ANALYZE of gethottransients' two statements for a ``days`` window ending at ``now``."""
    from django.db import connection, transaction

    from desctom.elasticc2.queries.followup import fast_plans, knowledge_sql
    from desctom.elasticc2.queries.hot import hot_sql

    ids = _ids(now - days, now)
    for name, sql, params in [
            ("the whole answer", hot_sql(now), {"since": now - days, "mjd_now": now}),
            ("redshift and sncode alone", knowledge_sql(now), {"ids": ids, "mjd_now": now})]:
        with transaction.atomic(), connection.cursor() as cur:
            fast_plans(cur)
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(f"--- {name}, {days}-day window:")
            print("\n".join("    " + r[0] for r in cur.fetchall()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per case")
    parser.add_argument("--state", choices=("cycle", "sql"), default="cycle",
                        help="reach mid-survey by running the alert cycle (default) or by set-based SQL")
    parser.add_argument("--explain", action="store_true", help="print the plan of the hot-transient query")
    parser.add_argument("--keep", metavar="DIR", help="keep the database in DIR (stopped afterwards); a "
                        "later run with the same DIR and --objects reuses it instead of building the survey")
    args = parser.parse_args()

    with django_on_throwaway_postgres(args.keep) as server:
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment

        ready = Path(args.keep or ".", f"hot-{args.objects}-{args.state}.ready")
        if server.reused and ready.exists():
            print(f"reusing the survey of {args.objects:,} objects kept in {args.keep}", flush=True)
        else:
            if server.reused:
                raise SystemExit(f"{args.keep} holds a database but not a finished {args.objects:,}-object "
                                 "survey: remove the folder or give another one")
            print(f"building a synthetic survey of {args.objects:,} objects ...", flush=True)
            with Timer() as t:
                call_command("synth_survey", "--objects", str(args.objects), "--seed", "42", "--workers", "2")
            print(f"  done in {t.seconds:.0f} s", flush=True)
        lo, hi = (scalar(f"SELECT {f}(midpointtai) FROM elasticc2_ppdbdiasource") for f in ("min", "max"))
        now = round((lo + hi) / 2) + 0.5  # noon UTC: mid-survey, between two nights
        if not (server.reused and ready.exists()):
            if args.state == "sql":
                print(f"alert-cycle state at T = MJD {now} (set-based SQL, see the docstring):", flush=True)
                cycle_state(now)
            else:
                from _cycle import run_alert_cycle

                print(f"running the alert cycle from MJD {lo:.1f} to T = MJD {now}:", flush=True)
                with Timer() as t:
                    spent = run_alert_cycle(lo - 1, now)
                print(f"  alert cycle done in {t.seconds:.0f} s (" + ", ".join(
                    f"{k} {v:.0f} s" for k, v in spent.items()) + ")", flush=True)
                run("VACUUM ANALYZE")
            describe_state()
            if args.keep:
                ready.touch()

        setup_test_environment()
        client = Client()
        user = User.objects.filter(username="bench").first() or User.objects.create_user("bench")
        client.force_login(user)
        run("TRUNCATE elasticc2_wantedspectra, elasticc2_plannedspectra, elasticc2_spectruminfo")  # a kept DB
        nights = [now - k for k in range(args.requests)]
        results = {}
        for days in (1, 10):  # as clients ask: mjd_now = the simulation clock
            bodies = [{"mjd_now": now, "detected_in_last_days": days}] * args.requests
            results[f"gethottransients, {days}-day window at the clock"] = timed(
                client, "gethottransients", bodies)
        for days in (1, 10):  # questions about the past: the consensus reads those objects' messages
            bodies = [{"mjd_now": t, "detected_in_last_days": days} for t in nights]
            results[f"gethottransients, {days}-day window, past nights"] = timed(
                client, "gethottransients", bodies)

        recent = _ids(now - 14, now)
        prios = [i % 5 + 1 for i in range(len(recent))]
        body = json.dumps({"requester": "RESSPECT", "objectids": recent, "priorities": prios})
        with Timer() as t:
            res = client.post("/elasticc2/askforspectrum", body, content_type="application/json")
        print(f"askforspectrum of {len(recent):,} objects: {res.json()['num']:,} rows, "
              f"{t.seconds * 1000:.0f} ms")
        for oid in recent[:200]:
            client.post("/elasticc2/planspectrum", json.dumps({"objectid": oid, "facility": "Keck"}),
                        content_type="application/json")
        for oid in recent[200:300]:
            client.post("/elasticc2/reportspectruminfo", json.dumps(
                {"objectid": oid, "facility": "SOAR", "mjd": now - 1, "z": 0.1, "classid": 2222}),
                content_type="application/json")
        bodies = [{"mjd_now": t} for t in nights]
        results["spectrawanted (14 days, all requests)"] = timed(client, "spectrawanted", bodies)
        bodies = [{"mjd_now": t, "lim_mag": 22.0, "lim_mag_band": "r"} for t in nights]
        results["spectrawanted, lim_mag 22 in r"] = timed(client, "spectrawanted", bodies)

        print(f"\n{args.requests} requests each, one per night before T:")
        for name, (seconds, sizes, counts) in results.items():
            print(f"  {name}: {percentiles(seconds)}; {statistics.median(counts):,.0f} objects, "
                  f"{statistics.median(sizes) / 1e6:.2f} MB per answer (medians)")
        if args.explain:
            explain(now, 10)
    return 0


def _ids(since: float, until: float) -> list[int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT diaobject_id FROM elasticc2_diasource "
                    "WHERE midpointtai BETWEEN %s AND %s ORDER BY 1", [since, until])
        return [r[0] for r in cur.fetchall()]


if __name__ == "__main__":
    sys.exit(main())
