"""Benchmark: users' SQL on the primary vs on a hot standby while ingest writes to the primary.

    .venv/bin/python benchmarks/sql_replica.py [--objects 100000] [--per-object 30] [--writers 1]
                                               [--repeat 5]

Makes a throwaway primary (node-sized, the project's schema), a forced-source-shaped science table
(``--objects`` x ``--per-object`` rows, indexed by object), and a ``pg_basebackup`` hot standby of
it. While ``--writers`` processes insert broker-message-shaped rows (ids, timestamps, class and
probability arrays, two indexes) on the primary in batches, it times two typical user queries
through the SQL API's code path (:func:`fastsql.run_fast`, read-only role, sandbox and caps):
one object's forced-source count (an index probe) and a per-band aggregate over the whole table
(a full scan). Each runs on the primary, then on the standby; medians, ratio, ingest rows/s with
no user queries and in each phase, replication lag and the load average are printed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

from _harness import Timer, django_on_throwaway_postgres

TABLE = "elasticc2_bench_forced"
LOAD = "elasticc2_bench_ingest"
QUERIES = {
    "one object's forced sources": f"SELECT count(*) AS n FROM {TABLE} WHERE diaobject_id = 4242",
    "per-band aggregate (full scan)": f"SELECT filtername, count(*) AS n, avg(psflux) AS mean, "
                                      f"max(psflux) AS top FROM {TABLE} GROUP BY filtername ORDER BY 1",
}


def fill(objects: int, per_object: int) -> None:
    from desctom.core.bulkcopy import connect
    from desctom.db.workers.roles import ensure_readonly_role

    with connect(autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (diaforcedsource_id bigint PRIMARY KEY, diaobject_id bigint, "
                     "midpointtai double precision, filtername text, psflux real, psfluxerr real)")
        conn.execute(f"INSERT INTO {TABLE} SELECT i, i / %s, 60000 + i * 1e-3, "
                     "(ARRAY['u','g','r','i','z','Y'])[1 + i %% 6], (i %% 9973) * 1.5, 12.5 "
                     "FROM generate_series(0, %s) i", (per_object, objects * per_object - 1))
        conn.execute(f"CREATE INDEX ON {TABLE} (diaobject_id)")
        conn.execute(f"VACUUM ANALYZE {TABLE}")
        conn.execute(f"DROP TABLE IF EXISTS {LOAD}")
        conn.execute(f"CREATE TABLE {LOAD} (id bigserial PRIMARY KEY, alertid bigint, classifier int, "
                     "ingested timestamptz DEFAULT now(), classid smallint[], probability real[])")
        conn.execute(f"CREATE INDEX ON {LOAD} (classifier, ingested)")
    ensure_readonly_role()


def writer(url: str, stop, counter) -> None:
    """Insert broker-message-shaped rows in committed batches of 1000 until ``stop`` is set."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        batch = 0
        while not stop.is_set():
            conn.execute(f"INSERT INTO {LOAD} (alertid, classifier, classid, probability) "
                         "SELECT %s * 1000 + i, i %% 20, ARRAY[2222,2223,2224,2225,2226]::smallint[], "
                         "ARRAY[0.1,0.2,0.3,0.2,0.2]::real[] FROM generate_series(1, 1000) i", (batch,))
            batch += 1
            with counter.get_lock():
                counter.value += 1000


def time_queries(repeat: int) -> dict[str, float]:
    from desctom.db.queries import fastsql

    out = {}
    for name, query in QUERIES.items():
        fastsql.run_fast([query], [{}])  # warm the cache and the connection path
        times = []
        for _ in range(repeat):
            with Timer() as t:
                fastsql.run_fast([query], [{}])
            times.append(t.seconds)
        out[name] = statistics.median(times)
    return out


def phase(label: str, repeat: int, counter) -> tuple[dict[str, float], float]:
    before, t0 = counter.value, time.monotonic()
    timings = time_queries(repeat)
    rate = (counter.value - before) / (time.monotonic() - t0)
    print(f"{label}: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in timings.items())
          + f"; ingest {rate:,.0f} rows/s; load average {os.getloadavg()[0]:.2f}", flush=True)
    return timings, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--per-object", type=int, default=30)
    parser.add_argument("--writers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from desctom.localstack.procs import free_port
    from desctom.localstack.replica import LocalStandby, replication_status

    with django_on_throwaway_postgres() as primary:
        with Timer() as t:
            fill(args.objects, args.per_object)
        print(f"filled {args.objects * args.per_object:,} forced sources in {t.seconds:.0f} s", flush=True)
        standby = LocalStandby(primary, primary.base / "standby", free_port(), slot=None)
        with Timer() as t:
            standby.init()
            standby.start()
        print(f"standby base-backed-up and started in {t.seconds:.0f} s", flush=True)
        from django.db import connection

        name = connection.settings_dict["NAME"]
        stop, counter = multiprocessing.Event(), multiprocessing.Value("q", 0)
        procs = [multiprocessing.Process(target=writer, args=(primary.url(), stop, counter))
                 for _ in range(args.writers)]
        try:
            for p in procs:
                p.start()
            time.sleep(3)
            before, t0 = counter.value, time.monotonic()
            time.sleep(8)
            rate_idle = (counter.value - before) / (time.monotonic() - t0)
            print(f"no user queries: ingest {rate_idle:,.0f} rows/s", flush=True)
            os.environ.pop("DESCTOM_SQL_DATABASE_URL", None)
            on_primary, rate_p = phase("primary", args.repeat, counter)
            os.environ["DESCTOM_SQL_DATABASE_URL"] = f"postgresql://127.0.0.1:{standby.port}/{name}"
            os.environ["DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS"] = "3600"  # measure, do not refuse
            on_replica, rate_r = phase("replica", args.repeat, counter)
            lag = replication_status(primary.conninfo(), standby.conninfo())
        finally:
            stop.set()
            for p in procs:
                p.join(30)
            standby.stop()
        print(f"replication lag under load: {lag['lag_bytes']} bytes, {lag['lag_seconds']} s")
        for key in QUERIES:
            print(f"{key}: primary {on_primary[key] * 1000:.1f} ms, replica {on_replica[key] * 1000:.1f} ms, "
                  f"replica/primary {on_replica[key] / on_primary[key]:.2f}")
        print(f"ingest with no user queries {rate_idle:,.0f} rows/s; while querying: primary phase "
              f"{rate_p:,.0f} rows/s, replica phase {rate_r:,.0f} rows/s")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
