"""Benchmark: ``update_metrics`` on a database of a few hundred thousand broker messages.

    .venv/bin/python benchmarks/metrics.py [--objects 40000] [--sources 10] [--classifiers 4]

Fills a throwaway PostgreSQL with SQL ``generate_series``: objects with truth (random simulated
gentypes, peaks spread over 100 days), ``--sources`` detections per object five days apart, their
alerts sent over the campaign (all but the last two detections of each object), and for each
classifier a message for 60-100 % of the sent alerts, with delays from seconds to hours and three
classes each, and the known tables as the source updater leaves them (the confusion matrices and
probability vs days from peak count known sources). Then times a full ``update_metrics``, an
incremental run with nothing new, an incremental run after one more day of alerts and messages,
and each metric page (test client).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from io import StringIO

from _harness import Timer, django_on_throwaway_postgres

GENTYPES = [10, 11, 12, 20, 21, 25, 26, 27, 30, 31, 32, 35, 36, 37, 40, 42, 45, 46, 50, 51, 59, 60, 80, 82,
            83, 84, 87, 88, 89, 90, 91]
LEAVES = [2222, 2223, 2224, 2225, 2226, 2232, 2233, 2234, 2235, 2242, 2243, 2244, 2245, 2246, 2322, 2323,
          2324, 2325, 2332]
TRUTH_ZEROS = ("libid", "sim_searcheff_mask", "sim_template_index", "zcmb", "zhelio", "zcmb_smear",
               "ra", "dec", "mwebv", "rv", "av", "mu", "lensdmu", "mjd_detect_first", "mjd_detect_last",
               "dtseason_peak", "peakmag_u", "peakmag_g", "peakmag_r", "peakmag_i", "peakmag_z",
               "peakmag_y", "snrmax", "snrmax2", "snrmax3", "nobs", "nobs_saturate")


def execute(sql: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def scalar(sql: str):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def fill(objects: int, sources: int, classifiers: int) -> None:
    execute("SELECT setseed(0.42)")
    execute("INSERT INTO elasticc2_ppdbdiaobject (diaobject_id, ra, decl, isddf) "
            "SELECT g, random() * 360, random() * 180 - 90, false FROM generate_series(1, %s) g", [objects])
    cols = ", ".join(TRUTH_ZEROS)
    zeros = ", ".join("0" for _ in TRUTH_ZEROS)
    execute(f"INSERT INTO elasticc2_diaobjecttruth (diaobject_id, gentype, peakmjd, {cols}) "  # noqa: S608
            f"SELECT g, (%s::int[])[1 + g %% %s], 60000 + (g %% 100), {zeros} "
            "FROM generate_series(1, %s) g", [GENTYPES, len(GENTYPES), objects])
    execute("INSERT INTO elasticc2_ppdbdiasource (diasource_id, diaobject_id, midpointtai, filtername, "
            "ra, decl, psflux, psfluxerr, snr) "
            "SELECT o * 100 + k, o, 59985 + (o %% 100) + 5 * k + random(), 'r', 0, 0, 1000, 10, 100 "
            "FROM generate_series(1, %s) o, generate_series(0, %s) k", [objects, sources - 1])
    # mjd 60000 -> 2025-01-01; alerts are sent a few hours after the observation
    execute("INSERT INTO elasticc2_ppdbalert (alert_id, diaobject_id, diasource_id, alertsenttimestamp) "
            "SELECT s.diasource_id, s.diaobject_id, s.diasource_id, "
            "CASE WHEN s.diasource_id %% 100 < %s THEN timestamptz '2025-01-01 00:00+00' "
            "  + make_interval(secs => (s.midpointtai - 60000) * 86400 + 3600 * random() * 6) END "
            "FROM elasticc2_ppdbdiasource s", [sources - 2])
    for c in range(classifiers):
        execute("INSERT INTO elasticc2_brokerclassifier (brokername, brokerversion, classifiername, "
                "classifierparams, modified) VALUES (%s, 'v1', %s, 'p', now())",
                [f"Broker{c // 2}", f"Classifier{c}"])
    execute("""
        INSERT INTO elasticc2_brokermessage (streammessage_id, topicname, alert_id, diasource_id,
            msghdrtimestamp, descingesttimestamp, classifier_id, classid, probability)
        SELECT -1, 'bench', a.alert_id, a.diasource_id, a.alertsenttimestamp + d.broker,
               a.alertsenttimestamp + d.broker + d.tom, c.classifier_id,
               ARRAY[(%(leaves)s::int[])[1 + (a.alert_id + c.classifier_id) %% 19],
                     (%(leaves)s::int[])[1 + (a.alert_id * 7) %% 19], 2000]::smallint[],
               ARRAY[0.6, 0.3, 0.1]::real[]
        FROM elasticc2_ppdbalert a
        CROSS JOIN elasticc2_brokerclassifier c
        CROSS JOIN LATERAL (SELECT make_interval(secs => exp(random() * ln(7200))) AS broker,
                                   make_interval(secs => random() * 20) AS tom) d
        WHERE a.alertsenttimestamp IS NOT NULL
          AND random() < 0.6 + 0.4 * (c.classifier_id %% 2)
    """, {"leaves": LEAVES})
    from desctom.elasticc2.workers.source_updater import update_known_tables

    update_known_tables(doall=True)
    execute("ANALYZE")


def next_day() -> int:
    """Send the next day's alerts (the not-yet-sent detections of 1000 objects) and classify them."""
    last = scalar("SELECT max(alertsenttimestamp) FROM elasticc2_ppdbalert")
    n = execute("UPDATE elasticc2_ppdbalert SET alertsenttimestamp = %s::timestamptz + interval '1 day' "
                "WHERE alertsenttimestamp IS NULL AND diaobject_id <= 1000", [last])
    execute("INSERT INTO elasticc2_brokermessage (streammessage_id, topicname, alert_id, diasource_id, "
            "msghdrtimestamp, descingesttimestamp, classifier_id, classid, probability) "
            "SELECT -1, 'bench', a.alert_id, a.diasource_id, a.alertsenttimestamp + interval '30 s', "
            "a.alertsenttimestamp + interval '35 s', c.classifier_id, ARRAY[2222]::smallint[], "
            "ARRAY[1.0]::real[] FROM elasticc2_ppdbalert a CROSS JOIN elasticc2_brokerclassifier c "
            "WHERE a.alertsenttimestamp > %s", [last])
    execute("INSERT INTO elasticc2_brokersourceids (diasource_id) "
            "SELECT diasource_id FROM elasticc2_ppdbalert WHERE alertsenttimestamp > %s "
            "ON CONFLICT DO NOTHING", [last])
    from desctom.elasticc2.workers.source_updater import update_known_tables

    update_known_tables()  # as the alert cycle does before the metrics
    return n


def timed_run(label: str, *args) -> None:
    from django.core.management import call_command

    out = StringIO()
    with Timer() as t:
        call_command("update_metrics", *args, stdout=out)
    print(f"\n{label}: {t.seconds:.2f} s")
    for line in out.getvalue().splitlines():
        if "computing" not in line:
            print(f"  {line}")


def time_pages() -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_user("bench", password=secrets.token_urlsafe(16)))
    cid = scalar("SELECT min(classifier_id) FROM elasticc2_brokerclassifier")
    print("\npages (test client, second request):")
    for url in ("/metrics/", "/metrics/alertstream/", "/metrics/delays/", f"/metrics/delays/?who=c:{cid}",
                "/metrics/completeness/", f"/metrics/confusion/?classifier={cid}&norm=pred",
                f"/metrics/probvstime/?classifier={cid}&trueclass=2222"):
        client.get(url)
        start = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, url
        print(f"  {url}: {1000 * (time.perf_counter() - start):.0f} ms, {len(response.content) // 1024} kB")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=40_000)
    parser.add_argument("--sources", type=int, default=10)
    parser.add_argument("--classifiers", type=int, default=4)
    args = parser.parse_args(argv)
    with django_on_throwaway_postgres():
        with Timer() as t:
            fill(args.objects, args.sources, args.classifiers)
        sent = scalar("SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
        days = scalar("SELECT count(DISTINCT alertsenttimestamp::date) FROM elasticc2_ppdbalert")
        messages = scalar("SELECT count(*) FROM elasticc2_brokermessage")
        print(f"filled in {t.seconds:.1f} s: {scalar('SELECT count(*) FROM elasticc2_ppdbalert')} alerts "
              f"({sent} sent over {days} days), {messages} broker messages, "
              f"{args.classifiers} classifiers")
        timed_run("first run (everything)")
        timed_run("second run (nothing new)")
        print(f"\nsent {next_day()} more alerts a day later, classified by every classifier")
        timed_run("third run (one new day)")
        timed_run("--full run", "--full")
        time_pages()
    return 0


if __name__ == "__main__":
    sys.exit(main())
