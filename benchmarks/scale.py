"""Benchmark: campaign scale — each nightly operation and each read at several survey sizes.

    .venv/bin/python benchmarks/scale.py --objects 100000,300000,1000000 [--keep DIR] [--nights 3]
                                         [--requests 10] [--json FILE] [--discard] [--build-only]

For each size (in its own process, one after the other): a synthetic survey (``desctom synth_survey``)
in a PostgreSQL cluster (kept in ``DIR/objects-N`` with ``--keep``, reused by later runs), brought to
mid-survey minus ``--nights`` nights by set-based SQL (``scale_state.py``; about 69 GB for 1 M
objects), then ``--nights`` nights through the real alert cycle on a throwaway tansu, each timed:
``send_elasticc2_alerts -a 1``, ``fakebroker``, ``brokerpoll2``, ``update_elasticc2_sources``,
``update_metrics``, the classifiers page and the ELAsTiCC2 front page (and, per operation, the
database blocks touched per alert of the night and the seconds waiting on block reads). Then, at
the clock, the reads through Django's test client (time to the first byte and to the last, p50 of
``--requests``): ``gethottransients`` (1 and 10 days), ``spectrawanted``, ``ltcv`` of 100 objects,
an object page, a cone search and a fast-SQL count of one object's forced sources; and the table
and index sizes.

A kept state moves on by ``--nights`` nights per run. ``--discard`` deletes each size's cluster once
measured (one large size on disk at a time). At the end: the figures of every size, the growth ratio
of each operation from the smallest to the largest size, and the load average. Each size's figures
stay in ``DIR/objects-N.result.json``; ``--report-only`` reports sizes measured by earlier runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NIGHTLY = ("send", "fakebroker", "ingest", "update sources", "update metrics", "classifiers page",
           "front page")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", default="100000,300000,1000000",
                        help="comma-separated survey sizes (default: %(default)s)")
    parser.add_argument("--keep", metavar="DIR", help="keep each size's cluster in DIR/objects-N, reuse it")
    parser.add_argument("--nights", type=int, default=3, help="nights through the real alert cycle (>= 1)")
    parser.add_argument("--requests", type=int, default=10, help="timed requests per read (after a warm-up)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument("--discard", action="store_true", help="delete each size's cluster once measured")
    parser.add_argument("--build-only", action="store_true", help="build (or check) the states, time nothing")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: report the results kept in --keep DIR for these sizes")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.nights < 1 or args.requests < 1:
        parser.error("--nights and --requests must be >= 1")
    if args.one_size:
        from scale_measure import measure_one_size

        return measure_one_size(args)
    try:
        sizes = sorted({int(s) for s in args.objects.split(",") if s.strip()})
    except ValueError:
        parser.error(f"--objects must be comma-separated integers, not {args.objects!r}")
    if not sizes or min(sizes) < 100:
        parser.error("--objects needs sizes of at least 100 objects")
    results = {}
    if args.report_only:
        if not args.keep:
            parser.error("--report-only needs --keep DIR")
        results = {n: json.loads((Path(args.keep) / f"objects-{n}.result.json").read_text()) for n in sizes}
        sizes = []
    for n in sizes:
        keep = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="desctom-scale-"))
        if not args.keep:
            keep.chmod(0o755)  # run as root, the cluster runs as 'postgres', who must enter the folder
        out = keep / f"objects-{n}.result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one-size", str(n), "--out", str(out),
               "--keep", str(keep), "--nights", str(args.nights), "--requests", str(args.requests)]
        if args.build_only:
            cmd.append("--build-only")
        print(f"\n=== {n:,} objects ===", flush=True)
        code = subprocess.call(cmd, cwd=HERE)
        if code != 0:
            print(f"the {n:,}-object run failed (exit {code})", file=sys.stderr)
            return code
        if not args.build_only:
            results[n] = json.loads(out.read_text())
        if args.discard or not args.keep:
            shutil.rmtree(keep / f"objects-{n}", ignore_errors=True)
            if not args.keep:
                shutil.rmtree(keep, ignore_errors=True)
    if results:
        from scale_report import print_report

        report = print_report(results)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
