"""Benchmark: ``update_elasticc2_sources`` (the known-table updater) on a synthetic survey.

    .venv/bin/python benchmarks/update_sources.py [--objects 100000] [--fraction 0.1]

Builds a synthetic survey (`desctom synth_survey`) in a throwaway PostgreSQL, then, as broker ingest
would, queues in ``elasticc2_brokersourceids`` the detections up to mid-survey of ``--fraction`` of
the objects, each with two classifications as the fake broker sends them, and times one update (a
big catch-up batch); then the next night's detections of the same objects (a typical incremental
batch); then a run with an empty queue. Checks the forced-source
count against independent SQL and prints the plan of the forced-source step.
"""

from __future__ import annotations

import argparse
import sys

from _harness import Timer, django_on_throwaway_postgres


def scalar(sql: str, params=()):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def queue(where: str, params) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("INSERT INTO elasticc2_brokersourceids (diasource_id) SELECT diasource_id "
                    f"FROM elasticc2_ppdbdiasource WHERE {where} ON CONFLICT DO NOTHING", params)
        return cur.rowcount


def classify_queued() -> int:
    """Two broker messages per queued source without any (classifiers ``A``: 2222 with probability 1,
    ``B``: three leaves with random probabilities), as broker ingest stores them."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
                    "classifierparams, modified) SELECT 'Bench', 'v1', n, 'p', now() "
                    "FROM unnest('{A,B}'::text[]) n "
                    "WHERE NOT EXISTS (SELECT 1 FROM elasticc2_brokerclassifier WHERE brokername = 'Bench')")
        cur.execute("""
            INSERT INTO elasticc2_brokermessage (alert_id, diasource_id, descingesttimestamp, classifier_id,
                                                 classid, probability)
            SELECT q.diasource_id, q.diasource_id, now(), c.classifier_id,
                   CASE c.classifiername WHEN 'A' THEN '{2222}'::smallint[] ELSE '{2222,2232,2242}' END,
                   CASE c.classifiername WHEN 'A' THEN ARRAY[1.0]::real[]
                        ELSE ARRAY[random(), random(), random()]::real[] END
            FROM elasticc2_brokersourceids q CROSS JOIN elasticc2_brokerclassifier c
            WHERE c.brokername = 'Bench' AND NOT EXISTS (
                SELECT 1 FROM elasticc2_brokermessage m WHERE m.diasource_id = q.diasource_id)""")
        return cur.rowcount


def steps(res) -> str:
    return ", ".join(f"{name} {sec:.2f} s" for name, sec in res.step_seconds.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the objects queued")
    parser.add_argument("--compare-jit", action="store_true",
                        help="also time a batch of other objects with PostgreSQL's JIT off")
    args = parser.parse_args()
    every = max(1, round(1 / args.fraction))
    with django_on_throwaway_postgres():
        from django.core.management import call_command

        from desctom.elasticc2.workers.source_updater import update_known_tables

        print(f"building a synthetic survey of {args.objects:,} objects ...", flush=True)
        with Timer() as t:
            call_command("synth_survey", "--objects", str(args.objects), "--seed", "42")
        print(f"  {t.seconds:.0f} s: {scalar('SELECT count(*) FROM elasticc2_ppdbdiasource'):,} sources, "
              f"{scalar('SELECT count(*) FROM elasticc2_ppdbdiaforcedsource'):,} forced sources")
        lo, hi = (scalar(f"SELECT {f}(midpointtai) FROM elasticc2_ppdbdiasource") for f in ("min", "max"))
        mid = (lo + hi) / 2
        picked = f"diaobject_id %% {every} = 0"

        n = queue(f"{picked} AND midpointtai <= %s", [mid])
        print(f"  {classify_queued():,} broker messages for the {n:,} queued sources", flush=True)
        res = update_known_tables(explain=True)
        expected = scalar(f"""SELECT count(*) FROM elasticc2_ppdbdiaforcedsource f JOIN
            (SELECT diaobject_id, max(midpointtai) m FROM elasticc2_ppdbdiasource
             WHERE {picked} AND midpointtai <= %s GROUP BY 1) s USING (diaobject_id)
            WHERE f.midpointtai <= s.m""", [mid])
        if res.forced_added != expected or res.source_ids != n:
            print(f"MISMATCH: forced {res.forced_added} != {expected} or ids {res.source_ids} != {n}")
            return 1
        print("plan of the forced-source step:")
        print("\n".join("    " + line for line in res.forced_plan.splitlines() if "JIT" not in line))
        print(f"catch-up batch (1/{every} of the objects, detections up to mid-survey): {res.summary()}")
        print(f"  -> {res.source_ids / res.seconds:,.0f} source ids/s, "
              f"{(res.forced_added + res.sources_added) / res.seconds:,.0f} rows/s; {steps(res)}")
        if args.compare_jit:
            from django.db import connection

            with connection.cursor() as cur:
                cur.execute("SET jit = off")
            queue(f"diaobject_id %% {every} = 1 AND midpointtai <= %s", [mid])
            classify_queued()
            res = update_known_tables()
            print(f"the same with jit off, other objects: {res.summary()}; {steps(res)}")
            with connection.cursor() as cur:
                cur.execute("RESET jit")

        queue(f"{picked} AND midpointtai > %s AND midpointtai <= %s", [mid, mid + 1])
        classify_queued()
        res = update_known_tables()
        print(f"next night's detections of the same objects: {res.summary()}; {steps(res)}")
        res = update_known_tables()
        print(f"empty queue: {res.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
