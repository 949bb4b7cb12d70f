"""Benchmark: the web worker's memory while a client downloads a very large streamed answer.

    .venv/bin/python benchmarks/stream_memory.py [--objects 200000] [--points 80] [--gzip] [--keep DIR]

Writes ``--objects`` known objects with ``--points`` forced-photometry points each (set-based SQL,
in a throwaway PostgreSQL; the packed-photometry triggers run as in a campaign), each with one
detection, then starts gunicorn (one sync worker, as ``desctom start`` serves) and downloads
``gethottransients`` (every object is hot) and ``ltcv`` of every object, reading the body 1 MB at a
time. The worker's resident memory (``VmRSS`` of its process, sampled every 20 ms, and its kernel
high-water mark ``VmHWM``) is printed before and during each download: the growth is what the
answer costs the worker. Prints the answer's size, the time, and the load average.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

import requests
from _harness import Timer, django_on_throwaway_postgres

from desctom.localstack.procs import free_port

BATCH = 20_000


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def build(objects: int, points: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for lo in range(1, objects + 1, BATCH):
            hi = min(objects, lo + BATCH - 1)
            cur.execute("INSERT INTO elasticc2_diaobject (diaobject_id, simversion, ra, decl, isddf, "
                        "hostgal_zphot) SELECT i, 'bench', (i * 0.0137) %% 360, -60 + (i %% 9000) * 0.01, "
                        "false, 0.1 + (i %% 100) * 0.01 FROM generate_series(%s, %s) i", [lo, hi])
            cur.execute("INSERT INTO elasticc2_diaforcedsource (diaforcedsource_id, diaobject_id, "
                        "midpointtai, filtername, psflux, psfluxerr) SELECT o::bigint * 1000 + j, o, "
                        "60000 + j * 1.7 + (o %% 997) * 0.001, "
                        "(ARRAY['u','g','r','i','z','Y'])[1 + (j + o) %% 6], "
                        "(100 + (o %% 977) * 1.37 + j * 2.1)::real, (1 + j * 0.13)::real "
                        "FROM generate_series(%s, %s) o, generate_series(0, %s) j", [lo, hi, points - 1])
            cur.execute("INSERT INTO elasticc2_diasource (diasource_id, diaobject_id, midpointtai, "
                        "filtername, ra, decl, psflux, psfluxerr, snr) SELECT o::bigint * 1000, o, "
                        "60000 + (o %% 997) * 0.001, 'r', 1, 1, 1000, 10, 100 "
                        "FROM generate_series(%s, %s) o", [lo, hi])
            print(f"  {hi:,} objects written", flush=True)
        cur.execute("VACUUM ANALYZE")


def serve(env: dict) -> tuple[subprocess.Popen, int, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "desctom.wsgi:application", "--bind",
                             f"127.0.0.1:{port}", "--workers", "1", "--timeout", "3000"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/healthz?scope=web", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        children = found.stdout.split()
        return proc, int(children[0]), url
    except BaseException:
        proc.terminate()
        proc.wait(30)
        raise


def download(url: str, path: str, body: dict, headers: dict, worker: int) -> None:
    requests.post(f"{url}{path}", json={**body, **({"objectids": body["objectids"][:50]}
                                                     if "objectids" in body else {})},
                  headers=headers, timeout=600)  # warm-up: modules, connection, plans
    before = rss_kb(worker)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(worker))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    size = 0
    with Timer() as t:
        with requests.post(f"{url}{path}", json=body, headers=headers, stream=True, timeout=3000) as res:
            res.raise_for_status()
            for block in res.raw.stream(1 << 20, decode_content=False):
                size += len(block)
    done.set()
    sampler.join()
    enc = res.headers.get("Content-Encoding", "identity")
    hwm = rss_kb(worker, "VmHWM")
    print(f"  {path}: {size / 1e6:,.0f} MB on the wire ({enc}) in {t.seconds:.0f} s; worker RSS before "
          f"{before / 1024:.0f} MB, peak during {peak[0] / 1024:.0f} MB (VmHWM {hwm / 1024:.0f} MB): "
          f"growth {(peak[0] - before) / 1024:.0f} MB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--points", type=int, default=80)
    parser.add_argument("--gzip", action="store_true", help="ask for gzip (default: identity)")
    parser.add_argument("--only", choices=("hot", "ltcv"), help="one endpoint only")
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) the database in DIR")
    args = parser.parse_args()
    with django_on_throwaway_postgres(args.keep) as server:
        from django.contrib.auth.models import User
        from rest_framework.authtoken.models import Token

        from desctom.elasticc2.models import DiaObject

        if not (server.reused and DiaObject.objects.exists()):
            print(f"writing {args.objects:,} objects x {args.points} points ...", flush=True)
            with Timer() as t:
                build(args.objects, args.points)
            print(f"  done in {t.seconds:.0f} s", flush=True)
        ids = list(DiaObject.objects.order_by("pk").values_list("pk", flat=True))
        user = User.objects.filter(username="bench").first() or User.objects.create_user("bench")
        token = Token.objects.get_or_create(user=user)[0].key
        headers = {"Authorization": f"Token {token}", "Accept-Encoding": "gzip" if args.gzip else "identity"}
        proc, worker, url = serve({**os.environ, "DESCTOM_DB_CONN_MAX_AGE": "0"})
        try:
            print(f"{len(ids):,} objects; gunicorn worker pid {worker}; load average before "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
            if args.only in (None, "hot"):
                download(url, "/elasticc2/gethottransients", {"detected_since_mjd": 59000}, headers, worker)
            if args.only in (None, "ltcv"):
                download(url, "/elasticc2/ltcv", {"objectids": ids}, headers, worker)
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
