"""Benchmark: server time per HTML page (p50) on a synthetic survey after an alert cycle.

    .venv/bin/python benchmarks/pages.py [--objects 100000] [--requests 20]

Builds a synthetic survey (`desctom synth_survey`) in a throwaway PostgreSQL and puts it in the
state the alert cycle leaves at mid-survey with ``benchmarks/hot.py``'s set-based SQL
(:func:`hot.cycle_state`). Adds spectrum requests, plans and reports, one sender-run row, and a
TOM target. Then times each page through Django's test client (routing, middleware, login,
view, SQL, template; no network, no browser), after one warm-up request per page.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _harness import Timer, django_on_throwaway_postgres
from hot import cycle_state, percentiles, scalar


def followup_rows(now: float) -> None:
    """Requests for the objects detected in the 14 days before ``now``; plans and reports for some."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO elasticc2_wantedspectra
                (wantspec_id, wanttime, diaobject_id, user_id, requester, priority)
            SELECT d.diaobject_id::text || ' ; RESSPECT', now(), d.diaobject_id, %(user)s, 'RESSPECT',
                   1 + d.diaobject_id %% 5
            FROM (SELECT DISTINCT diaobject_id FROM elasticc2_diasource
                  WHERE midpointtai > %(now)s - 14) d""",
                    {"now": now, "user": scalar("SELECT id FROM auth_user LIMIT 1")})
        cur.execute("INSERT INTO elasticc2_plannedspectra (diaobject_id, facility, created_at, comment) "
                    "SELECT diaobject_id, 'Keck', now(), '' FROM elasticc2_wantedspectra LIMIT 200")
        cur.execute("INSERT INTO elasticc2_spectruminfo "
                    "(diaobject_id, facility, inserted_at, mjd, z, classid) "
                    "SELECT diaobject_id, 'SOAR', now(), %s, 0.1, 2222 FROM elasticc2_wantedspectra "
                    "OFFSET 200 LIMIT 100", [now - 1])
        cur.execute("INSERT INTO elasticc2_alertsenderrun (started, finished, host, pid, through_day, "
                    "alerts_sent, last_mjd, status) SELECT now(), now(), 'bench', 1, %s, count(*), %s, "
                    "'finished' FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL", [now, now])
        cur.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    args = parser.parse_args()

    with django_on_throwaway_postgres():
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment

        print(f"building a synthetic survey of {args.objects:,} objects ...", flush=True)
        with Timer() as t:
            call_command("synth_survey", "--objects", str(args.objects), "--seed", "42", "--workers", "2")
        print(f"  done in {t.seconds:.0f} s", flush=True)
        lo, hi = (scalar(f"SELECT {f}(midpointtai) FROM elasticc2_ppdbdiasource") for f in ("min", "max"))
        now = round((lo + hi) / 2) + 0.5
        print(f"alert-cycle state at T = MJD {now}:", flush=True)
        cycle_state(now)
        user = User.objects.create_superuser("bench", "", "x")
        followup_rows(now)

        from desctom.elasticc2.http.pages.objects import target_for
        from desctom.elasticc2.models import DiaObject

        busiest = scalar("SELECT diaobject_id FROM elasticc2_diasource WHERE midpointtai > %s - 30 "
                         "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", [now])
        ra, dec = DiaObject.objects.values_list("ra", "decl").get(pk=busiest)
        target = target_for(DiaObject.objects.get(pk=busiest), user)
        points = scalar("SELECT count(*) FROM elasticc2_diaforcedsource WHERE diaobject_id = %s", [busiest])
        print(f"object page: {busiest} ({points} forced points)")

        setup_test_environment()
        client = Client()
        client.force_login(user)
        pages = {
            "home": "/", "ELAsTiCC2 front page": "/elasticc2/", "classifiers": "/elasticc2/classifiers",
            "admin summary": "/elasticc2/adminsummary",
            "cone search (10″)": f"/elasticc2/objects/?ra={ra}&dec={dec}&radius=10",
            "object page": f"/elasticc2/object/{busiest}/",
            "follow-up board (10 days)": "/elasticc2/followup/?days=10",
            "follow-up board (30 days, page 3)": "/elasticc2/followup/?days=30&hotpage=3&wantpage=3",
            "TOM target page": f"/targets/{target.pk}/",
        }
        results = {}
        for name, url in pages.items():
            res = client.get(url)
            if res.status_code != 200:
                raise SystemExit(f"{url}: HTTP {res.status_code}")
            seconds = []
            for _ in range(args.requests):
                with Timer() as t:
                    client.get(url)
                seconds.append(t.seconds)
            results[name] = (seconds, len(res.content))
        print(f"\n{args.requests} requests per page:")
        for name, (seconds, size) in results.items():
            print(f"  {name}: {percentiles(seconds)}; {size / 1e3:.0f} kB")
        print(f"p50 of all pages: max {max(statistics.median(s) for s, _ in results.values()) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
