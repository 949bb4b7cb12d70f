"""Benchmark: the web under load while the poller ingests — throughput, p50/p99, errors.

    .venv/bin/python benchmarks/load.py [--objects 100000] [--clients 50] [--seconds 60]
                                        [--ingest-rate 2000] [--web-workers N] [--web-threads N]

In one run:

1. a throwaway PostgreSQL gets a synthetic survey (`desctom synth_survey`) put in the state the
   alert cycle leaves at mid-survey (set-based SQL, as ``benchmarks/hot.py --state sql`` does: alerts sent,
   known objects, two fake-broker classifiers' messages, latest classifications);
2. a throwaway tansu broker, the real web server (gunicorn with the configuration ``desctom up``
   uses: :func:`desctom.localstack.services.web_service`) and the real poller
   (``desctom brokerpoll2 --do-test``) start;
3. a producer writes 20-class ``brokerClassification`` messages about sent alerts to the poller's
   topic at ``--ingest-rate`` messages/s, while ``--clients`` logged-in clients (threads in a few
   processes, each with its own session) send requests back to back for ``--seconds``: a mix of
   ``ltcv`` (5 objects), ``gethottransients`` (1-day window at the simulation clock),
   ``spectrawanted``, ``getalert`` and HTML page views (the ELAsTiCC2 front page and object pages);
   the clients log in before the measured window starts;
4. afterwards the poller must have stored every produced message exactly once.

Prints requests/s, p50/p99 per kind and overall, the error count (any status other than 200, or a
failed connection), and the ingest rate achieved. Timings go to docs/reliability.md, never to tests.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Timer, django_on_throwaway_postgres  # noqa: E402

TOPIC = "classifications"
#: (kind, weight): the request mix.
MIX = [("ltcv", 30), ("gethottransients", 10), ("spectrawanted", 10), ("getalert", 30), ("page", 20)]


# -- the clients ------------------------------------------------------------------------------------
def client_process(url: str, password: str, threads: int, seconds: float, ids: dict, seed: int,
                   queue, ready, go) -> None:
    """``threads`` logged-in clients sending requests back to back; puts their samples on ``queue``.

    The clients log in first (a login is a deliberately slow password hash, not part of the mix); the
    process then says it is ``ready`` and the measured window starts when the main process sets ``go``.
    """
    from desctom.client import TomClient

    samples: list[tuple[str, float, int, float]] = []
    lock = threading.Lock()
    kinds, weights = zip(*MIX, strict=True)
    toms = [TomClient(url, username="loadbench", password=password, retries=0, timeout=(10, 60))
            for _ in range(threads)]
    ready.put(threads)
    go.wait()
    start_at = time.monotonic()

    def one_client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        tom = toms[k]
        mine = []
        while time.monotonic() < start_at + seconds:
            kind = rng.choices(kinds, weights)[0]
            t0 = time.perf_counter()
            try:
                res = send(tom, kind, ids, rng)
                status = res.status_code
            except Exception:  # noqa: BLE001 - a failed connection is an error sample
                status = -1
            mine.append((kind, time.perf_counter() - t0, status, time.monotonic() - start_at))
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=one_client, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(samples)


def send(tom, kind: str, ids: dict, rng: random.Random):
    if kind == "ltcv":
        return tom.post("elasticc2/ltcv", json={"objectids": rng.sample(ids["objects"], 5)})
    if kind == "gethottransients":
        return tom.post("elasticc2/gethottransients",
                        json={"mjd_now": ids["now"], "detected_in_last_days": 1})
    if kind == "spectrawanted":
        return tom.post("elasticc2/spectrawanted", json={"mjd_now": ids["now"]})
    if kind == "getalert":
        return tom.post("elasticc2/getalert", json={"alertid": rng.choice(ids["alerts"])})
    if rng.random() < 0.2:
        return tom.get("elasticc2/")
    return tom.get(f"elasticc2/object/{rng.choice(ids['objects'])}/")


# -- the producer -----------------------------------------------------------------------------------
def producer_process(servers: str, alerts: list[tuple[int, int]], rate: float, seconds: float, done) -> None:
    """Produce RandomSNType messages about ``alerts`` at ``rate``/s for ``seconds``; report the count."""
    from desctom.elasticc2.workers.fakebroker import FakeBroker, zigzag_long
    from desctom.survey.kafka import make_producer

    broker = FakeBroker(["unused"], TOPIC, source=servers, dest=servers, seed=7)
    producer = make_producer(servers)
    tick, sent, i = 0.1, 0, 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start + tick) * rate) - sent
        if due > 0:
            now_ms = int(time.time() * 1000)
            # just enough of an alert for the fake broker: its two leading longs (alert id, source id)
            chunk = [(b"".join(zigzag_long(v) for v in alerts[(i + j) % len(alerts)]), now_ms)
                     for j in range(due)]
            i += due
            for value in broker.classify(chunk)[1::2]:
                while True:
                    try:
                        producer.produce(TOPIC, value)
                        break
                    except BufferError:
                        producer.poll(0.05)
            sent += due
        producer.poll(0)
        time.sleep(tick)
    assert producer.flush(120) == 0
    done.put((sent, time.monotonic() - start))


# -- the run ----------------------------------------------------------------------------------------
def record_sender_clock(now: float) -> None:
    """Record the state's sender run, as the real sender would have: the campaign's clock is ``now``."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("INSERT INTO elasticc2_alertsenderrun (started, finished, host, pid, through_day, "
                    "alerts_sent, last_mjd, status) SELECT now(), now(), 'load.py', 0, %s, count(*), "
                    "max(s.midpointtai), 'done' FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                    "USING (diasource_id) WHERE a.alertsenttimestamp IS NOT NULL", [now])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(samples: list[tuple], seconds: float) -> int:
    errors = [s for s in samples if s[2] != 200]
    print(f"\n{len(samples):,} requests in {seconds:.0f} s: {len(samples) / seconds:,.1f} requests/s, "
          f"{len(errors)} errors")
    for kind in [k for k, _ in MIX] + ["all"]:
        mine = [s[1] * 1000 for s in samples if kind in ("all", s[0])]
        if mine:
            print(f"  {kind:17s} n={len(mine):6,}  p50 {statistics.median(mine):7.0f} ms  "
                  f"p95 {percentile(mine, 0.95):7.0f} ms  p99 {percentile(mine, 0.99):7.0f} ms  "
                  f"max {max(mine):7.0f} ms")
    windows = [0] * (int(seconds) // 10 + 1)
    for s in samples:
        if s[1] > 2.0:
            windows[min(len(windows) - 1, max(0, int(s[3] // 10)))] += 1
    print("  requests over 2 s, per 10 s of the run:", " ".join(str(n) for n in windows))
    by_status: dict[int, int] = {}
    for _, _, status, _ in errors:
        by_status[status] = by_status.get(status, 0) + 1
    if by_status:
        print("  errors by status (-1: no answer):", by_status)
    return len(errors)


def scalar(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def column(sql: str, params=None) -> list:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [r[0] if len(r) == 1 else tuple(r) for r in cur.fetchall()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--client-processes", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ingest-rate", type=float, default=2000.0, help="messages/s to the poller")
    parser.add_argument("--web-workers", default=None, help="DESCTOM_WEB_WORKERS for this run")
    parser.add_argument("--web-threads", default=None, help="DESCTOM_WEB_THREADS for this run")
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="keep the database in DIR and reuse it on the next run with the same DIR "
                             "(the survey and the alert-cycle state are then built only once)")
    args = parser.parse_args()

    from desctom.localstack.procs import free_port
    from desctom.testing.services import ThrowawayKafka

    os.environ["DESCTOM_WEB_PORT"] = str(free_port())
    for name, value in (("DESCTOM_WEB_WORKERS", args.web_workers), ("DESCTOM_WEB_THREADS", args.web_threads)):
        if value is not None:
            os.environ[name] = str(value)
    kafka = ThrowawayKafka()
    kafka.start()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.bootstrap
    procs: list[subprocess.Popen] = []
    with django_on_throwaway_postgres(args.keep) as server:
        try:
            return run(args, kafka, procs, reused=server.reused)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
            kafka.destroy()


def run(args, kafka, procs: list, reused: bool = False) -> int:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from hot import cycle_state

    from desctom.core.config import load as load_config
    from desctom.localstack.services import background_workers, web_service
    from desctom.survey.kafka import ensure_topics

    has_survey = reused and scalar("SELECT EXISTS (SELECT 1 FROM elasticc2_ppdbdiaobject)")
    has_state = reused and scalar("SELECT EXISTS (SELECT 1 FROM elasticc2_alertsenderrun)")
    if has_survey:
        print(f"reusing the survey kept in {args.keep}", flush=True)
    else:
        print(f"building a synthetic survey of {args.objects:,} objects ...", flush=True)
        with Timer() as t:
            call_command("synth_survey", "--objects", str(args.objects), "--seed", "42", "--workers", "2")
        print(f"  done in {t.seconds:.0f} s", flush=True)
    lo, hi = (scalar(f"SELECT {f}(midpointtai) FROM elasticc2_ppdbdiasource") for f in ("min", "max"))
    now = round((lo + hi) / 2) + 0.5
    if not has_state:
        print(f"alert-cycle state at T = MJD {now}:", flush=True)
        cycle_state(now)
        record_sender_clock(now)
    password = f"lb-{random.SystemRandom().getrandbits(64):x}"
    user, _ = User.objects.get_or_create(username="loadbench")
    user.set_password(password)
    user.save()
    recent = column("SELECT DISTINCT diaobject_id FROM elasticc2_diasource WHERE midpointtai > %s",
                    [now - 14])
    from django.db import connection

    with connection.cursor() as cur:  # an SRS asked for spectra of the last two weeks' objects
        cur.execute("INSERT INTO elasticc2_wantedspectra (wantspec_id, diaobject_id, user_id, wanttime, "
                    "requester, priority) SELECT o || ' ; RESSPECT', o, %s, now(), 'RESSPECT', 3 "
                    "FROM unnest(%s::bigint[]) o ON CONFLICT (wantspec_id) DO UPDATE SET wanttime = now()",
                    [user.id, recent])
        cur.execute("VACUUM ANALYZE elasticc2_wantedspectra")
    ids = {"now": now,
           "objects": column("SELECT diaobject_id FROM elasticc2_diaobject ORDER BY random() LIMIT 20000"),
           "alerts": column("SELECT alert_id FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL "
                            "ORDER BY random() LIMIT 20000")}
    produce_for = column("SELECT alert_id, diasource_id FROM elasticc2_ppdbalert "
                         "WHERE alertsenttimestamp IS NOT NULL ORDER BY alert_id DESC LIMIT 200000")
    before = scalar("SELECT count(*) FROM elasticc2_brokermessage")

    cfg = load_config()
    web = web_service(cfg)
    env = {**os.environ}
    logs = Path(os.environ["DESCTOM_HOME"]) / "log"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"web: {' '.join(web.argv[2:])}", flush=True)
    procs.append(subprocess.Popen(web.argv, env=env, stdout=open(logs / "web.log", "ab"),
                                  stderr=subprocess.STDOUT))
    ensure_topics(kafka.bootstrap, [TOPIC], partitions=2)
    poller = next(w for w in background_workers(cfg) if w.name == "brokerpoll")  # as `desctom up` runs it
    procs.append(subprocess.Popen(poller.argv, env=env, stdout=open(logs / "poll.log", "ab"),
                                  stderr=subprocess.STDOUT))
    wait_for(f"{cfg.web_url}/healthz")

    ctx = multiprocessing.get_context("spawn")
    queue, done, ready, go = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
    per = [args.clients // args.client_processes + (1 if k < args.clients % args.client_processes else 0)
           for k in range(args.client_processes)]
    clients = [ctx.Process(target=client_process,
                           args=(cfg.web_url, password, n, args.seconds, ids, k, queue, ready, go))
               for k, n in enumerate(per) if n]
    producer = ctx.Process(target=producer_process,
                           args=(kafka.bootstrap, produce_for, args.ingest_rate, args.seconds + 1, done))
    for c in clients:
        c.start()
    logged_in = sum(ready.get(timeout=600) for _ in clients)  # every client logs in before the window
    print(f"{logged_in} logged-in clients for {args.seconds:.0f} s, producing {args.ingest_rate:,.0f} "
          "messages/s ...", flush=True)
    producer.start()
    go.set()
    samples = []
    for _ in clients:
        samples.extend(queue.get())
    for c in clients:
        c.join()
    produced, produce_seconds = done.get()
    producer.join()
    errors = report(samples, args.seconds)
    stored = wait_stored(before + produced)
    print(f"ingest: {produced:,} messages produced in {produce_seconds:.0f} s "
          f"({produced / produce_seconds:,.0f}/s); {stored - before:,} stored "
          f"(lost: {max(0, before + produced - stored):,}, "
          f"duplicated: {max(0, stored - before - produced):,})")
    return 1 if errors or stored != before + produced else 0


def wait_for(url: str, timeout: float = 120) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still booting
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def wait_stored(expected: int, timeout: float = 300) -> int:
    """The message count once it reaches ``expected`` (or stops growing for 30 s)."""
    last, still_since = -1, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = scalar("SELECT count(*) FROM elasticc2_brokermessage")
        if n >= expected:
            return n
        if n != last:
            last, still_since = n, time.monotonic()
        elif time.monotonic() - still_since > 30:
            return n
        time.sleep(1)
    return last


if __name__ == "__main__":
    sys.exit(main())
