"""``benchmarks/scale.py``'s child: build (or reuse) one size, run its nights, time its reads."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from io import StringIO
from pathlib import Path

from _harness import Timer, django_on_throwaway_postgres
from scale_state import campaign_state, describe_state, disk_usage, record_sender_run, run, scalar


def measure_one_size(args) -> int:
    n = args.one_size
    keep = Path(args.keep) / f"objects-{n}"
    with django_on_throwaway_postgres(str(keep)) as server:
        ready = keep / "built.json"
        if server.reused and ready.exists():
            built = json.loads(ready.read_text())
            print(f"reusing the {n:,}-object campaign kept in {keep} (clock at MJD {built['clock']})",
                  flush=True)
        else:
            if server.reused:
                raise SystemExit(f"{keep} holds a database but not a finished {n:,}-object campaign: "
                                 "remove the folder or give another --keep")
            built = build(n, args.nights)
            ready.write_text(json.dumps(built))
        if args.build_only:
            print(json.dumps(describe_state()), flush=True)
            return 0
        result = {"objects": n, "built": built, "load_before": os.getloadavg()}
        track_io_timing()
        catch_up()
        print("warm-up night (not counted: a restarted cluster reads its tables from disk first):",
              flush=True)
        night(built, keep)
        result["nights"] = [night(built, keep) for _ in range(args.nights)]
        result["state"] = describe_state()
        result["reads"] = reads(built["clock"], args.requests)
        result["disk"] = disk_usage()
        result["load_after"] = os.getloadavg()
        Path(args.out).write_text(json.dumps(result, indent=1))
        return 0


def build(n: int, nights: int) -> dict:
    from django.core.management import call_command

    print(f"building a synthetic survey of {n:,} objects ...", flush=True)
    with Timer() as survey:
        call_command("synth_survey", "--objects", str(n), "--seed", "42", "--workers", "2")
    print(f"  done in {survey.seconds:.0f} s", flush=True)
    lo, hi = (scalar(f"SELECT {f}(midpointtai) FROM elasticc2_ppdbdiasource") for f in ("min", "max"))
    clock = round((lo + hi) / 2) + 0.5 - nights  # noon UTC; the nights bring it to mid-survey
    print(f"campaign state at MJD {clock} (set-based SQL):", flush=True)
    with Timer() as state:
        campaign_state(clock)
    return {"clock": clock, "survey_seconds": survey.seconds, "state_seconds": state.seconds}


def catch_up() -> None:
    """Metrics and known tables up to date before the timed nights (a kept state built by older code)."""
    from django.core.management import call_command

    record_sender_run()  # a state built before the shortcut recorded one
    with Timer() as t:
        call_command("update_elasticc2_sources", stdout=StringIO())
        call_command("update_metrics", stdout=StringIO())
    print(f"catch-up (updater and metrics before the first timed night): {t.seconds:.0f} s", flush=True)


def night(built: dict, keep: Path) -> dict:
    """One simulated night through the real alert cycle; the seconds of each step."""
    from django.core.management import call_command

    from desctom.testing.services import ThrowawayKafka

    kafka = ThrowawayKafka()
    kafka.start()
    tag = uuid.uuid4().hex[:8]
    wfd, full, limited, classes = (f"{t}-{tag}"
                                   for t in ("wfd", "ddf-full", "ddf-limited", "classifications"))
    servers = kafka.bootstrap
    steps = [
        ("send", "send_elasticc2_alerts",
         ["-a", "1", "--do", "-k", servers, "--wfd-topic", wfd, "--ddf-full-topic", full,
          "--ddf-limited-topic", limited, "-n", "2", "-v", "2"]),
        ("fakebroker", "fakebroker",
         ["--source", servers, "--dest", servers, "--alert-topics", wfd, full, "--dest-topic", classes,
          "--group", f"fakebroker-{tag}", "--seed", "7", "--idle-exit", "3"]),
        ("ingest", "brokerpoll2",
         ["--do-test", "--test-topic", classes, "--test-server", servers, "--idle-exit", "3",
          "--batch-timeout", "0.5", "--batch-size", "20000"]),
        ("update sources", "update_elasticc2_sources", ["-v", "2"]),
        ("update metrics", "update_metrics", []),
    ]
    seconds, where, io = {}, {}, {}
    sent_before = scalar("SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
    try:
        for key, command, argv in steps:
            out = StringIO()
            before = io_counters()
            with Timer() as t:
                call_command(command, *argv, stdout=out, stderr=StringIO())
            io[key] = io_delta(before, io_counters())
            # where the time went, as the command tells with -v 2
            for line in out.getvalue().splitlines():
                if line.startswith("time"):
                    where[key] = line
            # the idle wait of the Kafka readers is not work: take it off
            seconds[key] = t.seconds - (3.0 if "--idle-exit" in argv else 0.0)
    finally:
        kafka.destroy()
    families = dict(_rows("SELECT family, seconds FROM metrics_metricrun"))
    client = _client()
    for key, url in (("classifiers page", "/elasticc2/classifiers"), ("front page", "/elasticc2/")):
        client.get(url)
        seconds[key] = statistics.median(_get(client, url)[1] for _ in range(3))
    sent = scalar("SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
    sent -= sent_before
    built["clock"] += 1
    (keep / "built.json").write_text(json.dumps(built))
    line = ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items())
    print(f"  night to MJD {built['clock']}: {sent:,} alerts; {line}", flush=True)
    print("    metrics: " + ", ".join(f"{k} {v:.2f} s" for k, v in families.items()), flush=True)
    for key, line in where.items():
        print(f"    {key}: {line}", flush=True)
    for key, d in io.items():
        print(f"    {key}: {d['blocks'] / max(sent, 1):.1f} blocks per alert ({d['read']:,} of "
              f"{d['blocks']:,} read outside shared buffers), {d['read_seconds']:.2f} s reading", flush=True)
    return {"alerts": sent, "seconds": seconds, "metric_families": families, "where": where, "io": io}


def track_io_timing() -> None:
    """Have PostgreSQL time its block reads (``blk_read_time``): the benchmark's cluster only."""
    run("ALTER SYSTEM SET track_io_timing = on")
    scalar("SELECT pg_reload_conf()")


def io_counters() -> tuple[int, int, float]:
    """(blocks found in shared buffers, blocks read from the OS, ms reading them) of this database so far.

    Django's connection is closed first: a backend hands its counters to the statistics at exit, and
    the nightly commands' connections (and the sender's builder processes) have ended by then."""
    from django.db import connections

    connections.close_all()
    time.sleep(1.2)  # a backend's counters may wait up to a second before they are published
    row = _rows("SELECT blks_hit, blks_read, blk_read_time FROM pg_stat_database "
                "WHERE datname = current_database()")[0]
    connections.close_all()
    return int(row[0]), int(row[1]), float(row[2])


def io_delta(before: tuple[int, int, float], after: tuple[int, int, float]) -> dict:
    """Blocks touched and read, and seconds reading, between two :func:`io_counters`."""
    hit, read, ms = (b - a for a, b in zip(before, after, strict=True))
    return {"blocks": hit + read, "read": read, "read_seconds": ms / 1000}


def _client():
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment

    try:
        setup_test_environment()
    except RuntimeError:
        pass  # already set up by an earlier night
    client = Client()
    user = User.objects.filter(username="bench").first() or User.objects.create_user("bench")
    client.force_login(user)
    return client


def _get(client, url: str) -> tuple[float, float, bytes]:
    return _timed(lambda: client.get(url))


def _post(client, url: str, body: dict) -> tuple[float, float, bytes]:
    return _timed(lambda: client.post(url, json.dumps(body), content_type="application/json"))


def _timed(call) -> tuple[float, float, bytes]:
    """(seconds to the first byte, seconds to the last, body) of one request."""
    start = time.perf_counter()
    res = call()
    if res.status_code != 200:
        raise SystemExit(f"HTTP {res.status_code}: {res.content[:300] if not res.streaming else ''!r}")
    if res.streaming:
        chunks = iter(res.streaming_content)
        first = next(chunks, b"")
        first_at = time.perf_counter() - start
        body = first + b"".join(chunks)
    else:
        body = res.content
        first_at = time.perf_counter() - start
    if res.get("Content-Encoding") == "gzip":
        import gzip

        body = gzip.decompress(body)
    return first_at, time.perf_counter() - start, body


def reads(clock: float, requests: int) -> dict:
    """p50 time to first and last byte of each read at the clock (each answer computed, not served from
    the answers cache), and what it returned."""
    client = _client()
    run("TRUNCATE elasticc2_wantedspectra, elasticc2_plannedspectra, elasticc2_spectruminfo")
    run("""INSERT INTO elasticc2_wantedspectra
               (wantspec_id, wanttime, diaobject_id, user_id, requester, priority)
           SELECT d.diaobject_id::text || ' ; RESSPECT', now(), d.diaobject_id, %(user)s, 'RESSPECT',
                  1 + d.diaobject_id %% 5
           FROM (SELECT DISTINCT diaobject_id FROM elasticc2_diasource WHERE midpointtai > %(now)s - 14) d""",
        {"now": clock, "user": scalar("SELECT id FROM auth_user WHERE username = 'bench'")})
    run("ANALYZE elasticc2_wantedspectra")
    recent = [r for r, in _rows("SELECT DISTINCT diaobject_id FROM elasticc2_diasource "
                                "WHERE midpointtai > %s - 30 ORDER BY 1 LIMIT 100", [clock])]
    sample = recent[len(recent) // 2]
    ra, dec = _rows("SELECT ra, decl FROM elasticc2_diaobject WHERE diaobject_id = %s", [sample])[0]
    cases = {
        "gethottransients 1 day": ("post", "/elasticc2/gethottransients",
                                   {"mjd_now": clock, "detected_in_last_days": 1}, "diaobject"),
        "gethottransients 10 days": ("post", "/elasticc2/gethottransients",
                                     {"mjd_now": clock, "detected_in_last_days": 10}, "diaobject"),
        "spectrawanted": ("post", "/elasticc2/spectrawanted", {"mjd_now": clock}, "wantedspectra"),
        "ltcv of 100 objects": ("post", "/elasticc2/ltcv", {"objectids": recent}, None),
        "object page": ("get", f"/elasticc2/object/{sample}/", None, None),
        "cone search 10 arcsec": ("post", "/elasticc2/conesearch",
                                  {"ra": ra, "dec": dec, "radius_arcsec": 10}, "objects"),
        "fast SQL count of one object's forced sources": (
            "post", "/db/runsqlquery/",
            {"query": f"SELECT count(*) FROM elasticc2_diaforcedsource WHERE diaobject_id = {sample}"}, None),
    }
    from django.core.cache import caches

    from desctom.elasticc2.queries.answercache import CACHE_ALIAS

    out = {}
    for name, (method, url, body, key) in cases.items():
        # every timed request computes its answer: the follow-up answers cache (answercache.py) would
        # otherwise serve the repeats of a small answer from memory
        if method == "get":
            def call(u=url):
                caches[CACHE_ALIAS].clear()
                return _get(client, u)
        else:
            def call(u=url, b=body):
                caches[CACHE_ALIAS].clear()
                return _post(client, u, b)
        call()  # warm-up
        timings = [call() for _ in range(requests)]
        body_bytes = timings[-1][2]
        returned = _returned(name, body_bytes, key)
        first = statistics.median(t[0] for t in timings)
        last = statistics.median(t[1] for t in timings)
        out[name] = {"first_byte": first, "seconds": last, "returned": returned, "bytes": len(body_bytes),
                     "per_object_ms": 1000 * last / max(returned, 1)}
        print(f"  {name}: first byte {first * 1000:.0f} ms, whole {last * 1000:.0f} ms, {returned:,} "
              f"returned, {len(body_bytes) / 1e6:.2f} MB", flush=True)
    return out


def _returned(name: str, body: bytes, key: str | None) -> int:
    """How many objects (or rows) an answer holds."""
    if name == "object page":
        return 1
    data = json.loads(body)
    if name.startswith("ltcv"):
        return len(data["diaobject"])
    if name.startswith("fast SQL"):
        return 1
    if isinstance(data, dict) and key in data:
        return len(data[key])
    return len(data)


def _rows(sql: str, params=None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
