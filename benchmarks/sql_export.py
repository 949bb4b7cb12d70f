"""Benchmark: exporting a large query through the long-query queue (``long_query_runner``).

    .venv/bin/python benchmarks/sql_export.py [--rows 5000000] [--small 1000000]

Fills a forced-photometry-shaped science table (bigint ids, double MJD, text band, real fluxes)
in a throwaway PostgreSQL, submits ``SELECT * FROM it`` in parquet and csv, and runs each with
``desctom long_query_runner --once`` in its own process; reports rows/s (the runner's own
started -> finished time) and the runner's peak resident memory. The same export of ``--small``
rows shows whether memory grows with the result size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid

from _harness import Timer, django_on_throwaway_postgres

TABLE = "elasticc2_bench_export"


def fill(rows: int) -> None:
    from desctom.core.bulkcopy import connect
    from desctom.db.workers.roles import ensure_readonly_role

    with connect(autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (diaforcedsource_id bigint PRIMARY KEY, diaobject_id bigint, "
                     "midpointtai double precision, filtername text, psflux real, psfluxerr real)")
        conn.execute(f"INSERT INTO {TABLE} SELECT i, i / 30, 60000 + i * 1e-3, "
                     "(ARRAY['u','g','r','i','z','Y'])[1 + i %% 6], (i %% 9973) * 1.5, 12.5 "
                     "FROM generate_series(1, %s) i", (rows,))
        conn.execute(f"VACUUM ANALYZE {TABLE}")
    ensure_readonly_role()


def export(fmt: str, limit: int) -> dict:
    """Queue one export, run it in a separate runner process; rows/s and that process's peak RSS."""
    from django.utils import timezone

    from desctom.core import config
    from desctom.db.models import QueryQueue

    row = QueryQueue.objects.create(queryid=uuid.uuid4(), submitted=timezone.now(), format=fmt,
                                    queries=[f"SELECT * FROM {TABLE} WHERE diaforcedsource_id <= %(n)s"],
                                    subdicts=[{"n": limit}])
    proc = subprocess.Popen([sys.executable, "-m", "desctom.cli", "long_query_runner", "--once"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    row.refresh_from_db()
    if row.error or row.finished is None:
        raise SystemExit(f"export failed: {row.errortext or proc.stderr.read().decode()[-2000:]}")
    seconds = (row.finished - row.started).total_seconds()
    size = (config.load().sql_results_dir / str(row.queryid)).stat().st_size
    return {"rows": limit, "seconds": seconds, "rate": limit / seconds, "peak_mb": usage.ru_maxrss / 1024,
            "file_mb": size / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    args = parser.parse_args()
    with django_on_throwaway_postgres():
        with Timer() as t:
            fill(args.rows)
        print(f"filled {TABLE} with {args.rows:,} rows in {t.seconds:.1f} s")
        print(f"{'format':8} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak RSS MB':>12} {'file MB':>8}")
        for fmt in ("parquet", "csv"):
            for limit in (args.small, args.rows):
                r = export(fmt, limit)
                print(f"{fmt:8} {r['rows']:>10,} {r['seconds']:>8.2f} {r['rate']:>10,.0f} "
                      f"{r['peak_mb']:>12.0f} {r['file_mb']:>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
