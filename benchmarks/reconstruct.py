"""Benchmark: batch alert reconstruction + Avro encoding, against a naive one-query-per-alert ORM baseline.

    .venv/bin/python benchmarks/reconstruct.py [--objects 100000] [--alerts 30000] [--baseline-alerts 500]

Builds a synthetic survey (`desctom synth_survey`) in a throwaway PostgreSQL, then reconstructs
alerts in simulated-time order, as the alert sender does, in batches, and encodes each as
schemaless Avro. The baseline builds the same alerts one at a time with ORM queries. Both runs
check they produce the same bytes for the alerts they share. Prints alerts/s of each and the ratio.
"""

from __future__ import annotations

import argparse
import sys

from _harness import Timer, django_on_throwaway_postgres


def naive_alert(alert_id: int, daysprevious: float = 365.0) -> dict:
    """One alert the straightforward way: ORM queries for the alert, object, sources, forced sources."""
    from desctom.elasticc2.models import PPDBAlert, PPDBDiaForcedSource, PPDBDiaSource
    from desctom.survey.columns import OBJECT_COLUMNS, avro_name

    alert = PPDBAlert.objects.select_related("diasource", "diaobject").get(alert_id=alert_id)
    src, obj = alert.diasource, alert.diaobject

    def source_dict(s):
        return {"diaSourceId": s.diasource_id, "diaObjectId": s.diaobject_id, "midPointTai": s.midpointtai,
                "filterName": s.filtername, "ra": s.ra, "decl": s.decl, "psFlux": s.psflux,
                "psFluxErr": s.psfluxerr, "snr": s.snr}

    prv = PPDBDiaSource.objects.filter(
        diaobject_id=obj.diaobject_id, midpointtai__gte=src.midpointtai - daysprevious,
        midpointtai__lt=src.midpointtai).order_by("midpointtai", "diasource_id")
    first = PPDBDiaSource.objects.filter(diaobject_id=obj.diaobject_id).order_by("midpointtai").first()
    forced = []
    if src.midpointtai - first.midpointtai > 0.5:
        qs = PPDBDiaForcedSource.objects.filter(
            diaobject_id=obj.diaobject_id, midpointtai__gte=max(src.midpointtai - daysprevious,
                                                                first.midpointtai - 30),
            midpointtai__lt=src.midpointtai).order_by("midpointtai", "diaforcedsource_id")
        forced = [{"diaForcedSourceId": f.diaforcedsource_id, "diaObjectId": f.diaobject_id,
                   "midPointTai": f.midpointtai, "filterName": f.filtername, "psFlux": f.psflux,
                   "psFluxErr": f.psfluxerr} for f in qs]
    return {"alertId": alert.alert_id, "diaSource": source_dict(src),
            "prvDiaSources": [source_dict(s) for s in prv], "prvDiaForcedSources": forced,
            "diaObject": {avro_name(c): getattr(obj, c) for c in OBJECT_COLUMNS if c != "isddf"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=30_000, help="alerts reconstructed in batches")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--baseline-alerts", type=int, default=500)
    args = parser.parse_args()

    with django_on_throwaway_postgres():
        from django.core.management import call_command
        from django.db import connection

        from desctom.elasticc2.queries.alerts import AlertBatch
        from desctom.survey.schemas import alert_schema, encode

        print(f"building a synthetic survey of {args.objects:,} objects ...", flush=True)
        with Timer() as t:
            call_command("synth_survey", "--objects", str(args.objects), "--seed", "42")
        print(f"  done in {t.seconds:.0f} s", flush=True)
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM elasticc2_ppdbalert")
            total_alerts = cur.fetchone()[0]
            # Simulated-time order from the middle of the survey, as the sender streams them.
            cur.execute("SELECT a.alert_id FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                        "ON s.diasource_id = a.diasource_id ORDER BY s.midpointtai, a.alert_id "
                        "OFFSET %s LIMIT %s", [total_alerts // 3, args.alerts])
            ids = [r[0] for r in cur.fetchall()]
        print(f"survey: {total_alerts:,} alerts; benchmarking {len(ids):,} of them", flush=True)
        schema = alert_schema()

        encoded = {}
        with Timer() as batch_time:
            for start in range(0, len(ids), args.batch):
                encoded.update(AlertBatch(ids[start:start + args.batch]).avro())
        batch_rate = len(ids) / batch_time.seconds
        sizes = sorted(len(b) for b in encoded.values())

        sample = ids[:: max(1, len(ids) // args.baseline_alerts)][: args.baseline_alerts]
        with Timer() as naive_time:
            naive = {aid: encode(schema, naive_alert(aid)) for aid in sample}
        naive_rate = len(sample) / naive_time.seconds
        mismatches = sum(1 for aid in sample if naive[aid] != encoded[aid])

    print()
    print(f"batch reconstruction + Avro : {batch_rate:10,.0f} alerts/s  ({len(ids):,} alerts, "
          f"batches of {args.batch}, median alert {sizes[len(sizes) // 2]:,} bytes)")
    print(f"naive ORM, one alert a time : {naive_rate:10,.0f} alerts/s  ({len(sample):,} alerts)")
    print(f"speed-up                    : {batch_rate / naive_rate:10.1f} x")
    print(f"identical bytes             : {len(sample) - mismatches}/{len(sample)}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
