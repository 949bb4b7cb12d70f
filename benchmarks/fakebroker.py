"""Benchmark: the fake broker's throughput on a throwaway tansu broker.

    .venv/bin/python benchmarks/fakebroker.py [--alerts 50000] [--previous 20] [--forced 40]

Produces ``--alerts`` synthetic alerts (each with ``--previous`` earlier sources and ``--forced``
forced sources, roughly the size of real ELAsTiCC2 alerts), then times ``FakeBroker.classify``
alone (CPU) and a full ``FakeBroker.run`` (consume, classify, produce, flush, commit) over them.
Prints alerts/s in and messages/s out.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid

from _harness import Timer


def _alert_bytes(n_previous: int, n_forced: int):
    from desctom.survey import schemas

    def source(sid):
        return {"diaSourceId": sid, "diaObjectId": 42, "midPointTai": 60000.5, "filterName": "r",
                "ra": 10.0, "decl": -5.0, "psFlux": 123.0, "psFluxErr": 4.5, "snr": 27.0}

    forced = [{"diaForcedSourceId": k, "diaObjectId": 42, "midPointTai": 59990.0 + k, "filterName": "g",
               "psFlux": 1.0, "psFluxErr": 0.5} for k in range(n_forced)]
    obj = {"diaObjectId": 42, "simVersion": "bench", "ra": 10.0, "decl": -5.0, "mwebv": 0.02,
           "hostgal_zphot": 0.3}
    schema = schemas.alert_schema()

    def make(i):
        return schemas.encode(schema, {"alertId": 10**9 + i, "diaSource": source(10**10 + i),
                                       "prvDiaSources": [source(k) for k in range(n_previous)],
                                       "prvDiaForcedSources": forced, "diaObject": obj})
    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=50_000)
    parser.add_argument("--previous", type=int, default=20)
    parser.add_argument("--forced", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("DESCTOM_HOME", tempfile.mkdtemp(prefix="desctom-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desctom.settings")
    import django

    django.setup()
    from desctom.elasticc2.workers.fakebroker import FakeBroker
    from desctom.survey.kafka import ensure_topics, make_producer
    from desctom.testing.services import ThrowawayKafka

    make = _alert_bytes(args.previous, args.forced)
    values = [make(i) for i in range(args.alerts)]
    size = sum(map(len, values)) / len(values)
    print(f"{args.alerts:,} alerts of {size:,.0f} bytes on average")

    with Timer() as t:
        FakeBroker(["a"], "o", source="x:1", dest="x:1", seed=1).classify([(v, 0) for v in values])
    print(f"classify() alone: {args.alerts / t.seconds:,.0f} alerts/s ({2 * args.alerts / t.seconds:,.0f} "
          "messages/s)")

    kafka = ThrowawayKafka()
    kafka.start()
    try:
        bootstrap, topic, dest = kafka.bootstrap, f"alerts-{uuid.uuid4().hex[:6]}", "classifications"
        ensure_topics(bootstrap, [topic])
        producer = make_producer(bootstrap)
        with Timer() as t:
            for v in values:
                producer.produce(topic, v)
            producer.flush(120)
        print(f"producing the alerts: {args.alerts / t.seconds:,.0f} alerts/s")
        broker = FakeBroker([topic], dest, source=bootstrap, dest=bootstrap, seed=1, log=lambda line: None)
        summary = broker.run(max_alerts=args.alerts)
        print(summary.line())
    finally:
        kafka.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
