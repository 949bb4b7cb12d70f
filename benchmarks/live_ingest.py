"""Live-stream ingest, Kafka -> PostgreSQL: DESC BrokerMessages with history, against an ORM baseline.

    .venv/bin/python benchmarks/live_ingest.py [--alerts 20000] [--baseline-alerts 1000]
        [--history 30] [--forced 100] [--keep DIR]

A throwaway PostgreSQL (migrated) and a throwaway tansu broker are started. The state is a survey
in progress: ``--alerts`` objects (95 % of them known: their root object, survey object, ``--history``
detections and ``--forced`` forced sources but the 3 newest already stored; 5 % new objects with no
history). Tonight each object gets one alert, as a ``BrokerMessage`` of one classifier (20 classes):
the new detection, its previous detections and forced sources (what Rubin sends), produced to a
topic with two partitions. Then, in the same run:

* **baseline**: a straightforward per-message ingest: confluent-kafka, fastavro per message, the
  ORM per message (survey object and root looked up or created, nearest root by a position query,
  ``bulk_create(ignore_conflicts=True)`` of the message's detections and forced sources, one
  provenance row), one transaction per message, on the first ``--baseline-alerts`` messages;
  what it stored is deleted afterwards;
* **desctom**: :class:`LiveStreamConsumer` (the poller process's class, a fresh one: its memory of
  stored ids starts empty) on every message.

Rates are alerts per second from the first batch to the last commit.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import django_on_throwaway_postgres  # noqa: E402
from _live_alerts import BrokerMessageEncoder  # noqa: E402

TOPIC = "bench-live"
TONIGHT = 61200.0
CLASSES = [111, 112, 113, 114, 115, 121, 122, 123, 124, 131, 132, 133, 134, 135, 211, 212, 213, 214, 221, 200]
BANDS = "ugrizy"


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Survey:
    """Ids and values of the benchmark's objects (deterministic)."""

    def __init__(self, n: int, history: int, forced: int):
        self.n, self.history, self.forced = n, history, forced
        rng = np.random.default_rng(42)
        self.oid = 9_000_000_000 + np.arange(n, dtype=np.int64) * 7
        self.ra = rng.uniform(0, 360, n)
        self.dec = np.degrees(np.arcsin(rng.uniform(-1, 0.2, n)))
        self.known = rng.uniform(size=n) >= 0.05

    def source_id(self, k: int, j: int) -> int:  # j = 0 .. history (history = tonight's)
        return int(self.oid[k]) * 1000 + j

    def forced_id(self, k: int, j: int) -> int:
        return int(self.oid[k]) * 1000 + 500 + j

    def source_mjd(self, j: int) -> float:
        return TONIGHT - 3.0 * (self.history - j)

    def forced_mjd(self, j: int) -> float:
        return TONIGHT - 1.0 * (self.forced - j)


def encode_messages(s: Survey) -> list[bytes]:
    enc = BrokerMessageEncoder()
    out = []
    probs = np.full(len(CLASSES), 1.0 / len(CLASSES))
    classes = list(zip(CLASSES, probs.tolist(), strict=True))
    for k in range(s.n):
        oid, ra, dec = int(s.oid[k]), float(s.ra[k]), float(s.dec[k])

        def src(j, k=k, oid=oid, ra=ra, dec=dec):
            mjd = s.source_mjd(j)
            return enc.source.encode({
                "diaSourceId": s.source_id(k, j), "visit": int(mjd * 100), "detector": 7, "diaObjectId": oid,
                "midpointMjdTai": mjd, "ra": ra, "dec": dec, "psfFlux": 1000.0 + j, "psfFluxErr": 50.0,
                "band": BANDS[j % 6], "timeProcessedMjdTai": mjd + 0.01, "x": 100.0, "y": 200.0, "snr": 20.0})

        def fs(j, k=k, oid=oid, ra=ra, dec=dec):
            mjd = s.forced_mjd(j)
            return enc.forced.encode({
                "diaForcedSourceId": s.forced_id(k, j), "diaObjectId": oid, "ra": ra, "dec": dec,
                "visit": int(mjd * 100), "detector": 7, "psfFlux": 300.0 + j, "psfFluxErr": 40.0,
                "midpointMjdTai": mjd, "band": BANDS[j % 6], "timeProcessedMjdTai": mjd + 0.01})

        known = bool(s.known[k])
        prv = [src(j) for j in range(s.history)] if known else []
        prv_forced = [fs(j) for j in range(s.forced)] if known else [fs(s.forced - 1)]
        obj = enc.object.encode({"diaObjectId": oid, "validityStartMjdTai": TONIGHT, "ra": ra, "dec": dec,
                                 "nDiaSources": len(prv) + 1})
        out.append(enc.message(s.source_id(k, s.history), src(s.history), prv, prv_forced, obj,
                               "BenchBroker", "BenchClassifier", "1.0", classes))
    return out


def check_first(messages: list[bytes], s: Survey) -> None:
    """The hand-encoded bytes decode with fastavro to the records meant."""
    import fastavro

    from desctom.survey.lsst_schemas import broker_message_schema

    schema = fastavro.parse_schema(broker_message_schema("lsst.v11_1"))
    k = int(np.flatnonzero(s.known)[0])
    buf = io.BytesIO(messages[k])
    rec = fastavro.schemaless_reader(buf, schema)
    assert buf.tell() == len(messages[k])
    assert rec["diaSourceId"] == s.source_id(k, s.history) == rec["diaSource"]["diaSourceId"]
    assert len(rec["prvDiaSources"]) == s.history and len(rec["prvDiaForcedSources"]) == s.forced
    assert rec["prvDiaForcedSources"][3]["diaForcedSourceId"] == s.forced_id(k, 3)
    assert len(rec["classifications"]) == len(CLASSES)


def prefill(conn, s: Survey) -> None:
    """The known objects' roots, survey objects, history and all but the 3 newest forced sources."""
    from desctom.core.bulkcopy import copy_arrays

    known = np.flatnonzero(s.known)
    conn.execute("CREATE TEMP TABLE pf_obj (diaobjectid bigint, ra float8, dec float8)")
    copy_arrays(conn, "pf_obj", ["diaobjectid", "ra", "dec"], [s.oid[known], s.ra[known], s.dec[known]],
                types=["int8", "float8", "float8"])
    conn.execute(f"""
        INSERT INTO root_diaobject (id, ra, dec, first_mjd, last_mjd, ndetections, created_at)
        SELECT md5(diaobjectid::text)::uuid, ra, dec, {s.source_mjd(0)}, {s.source_mjd(s.history - 1)},
               {s.history}, now() - interval '1 day' FROM pf_obj""")
    conn.execute("""
        INSERT INTO diaobject (diaobjectid, rootid, ra, dec, first_seen)
        SELECT diaobjectid, md5(diaobjectid::text)::uuid, ra, dec, now() - interval '1 day' FROM pf_obj""")
    for table, key, count, mjd in (("diasource", "diasourceid", s.history, s.source_mjd),
                                   ("diaforcedsource", "diaforcedsourceid", s.forced - 3, s.forced_mjd)):
        j = np.tile(np.arange(count), len(known))
        k = np.repeat(known, count)
        ids = s.oid[k] * 1000 + (j if table == "diasource" else 500 + j)
        mjds = np.array([mjd(x) for x in range(count)])[j]
        conn.execute(f"CREATE TEMP TABLE pf_{table} "
                     "(id bigint, oid bigint, mjd float8, ra float8, dec float8)")
        copy_arrays(conn, f"pf_{table}", ["id", "oid", "mjd", "ra", "dec"],
                    [ids, s.oid[k], mjds, s.ra[k], s.dec[k]],
                    types=["int8", "int8", "float8", "float8", "float8"])
        conn.execute(f"""
            INSERT INTO {table} ({key}, diaobjectid, rootid, visit, detector, midpointmjdtai, band, ra, dec,
                                 psfflux, psffluxerr, timeprocessedmjdtai, ingested_at)
            SELECT id, oid, md5(oid::text)::uuid, (mjd * 100)::bigint, 7, mjd, 'r', ra, dec, 1000, 50,
                   mjd + 0.01, now() - interval '1 day' FROM pf_{table}""")
    conn.execute("ANALYZE")
    print(f"prefilled {len(known):,} objects with {s.history} detections and {s.forced - 3} "
          "forced sources each")


def clean(conn) -> None:
    """Remove what a timed run stored (everything newer than the prefill)."""
    conn.execute("DELETE FROM diasource_brokerinfo")
    for table in ("diasource", "diaforcedsource"):
        conn.execute(f"DELETE FROM {table} WHERE ingested_at > now() - interval '12 hours'")
    conn.execute("DELETE FROM diaobject WHERE first_seen > now() - interval '12 hours'")
    conn.execute("DELETE FROM root_diaobject WHERE created_at > now() - interval '12 hours'")
    conn.execute("DELETE FROM elasticc2_brokerpollerstatus")
    # the rows a previous run left and this one deleted must not slow the next (a campaign deletes nothing)
    conn.execute("VACUUM (ANALYZE) diasource, diaforcedsource, diaobject, root_diaobject, "
                 "diasource_brokerinfo")


def baseline(servers: str, n: int) -> float:
    """One message at a time: fastavro, ORM lookups and bulk_create, one transaction each."""
    import fastavro
    from django.db import transaction

    from desctom.live.models import (
        BrokerInfo,
        DiaForcedSource,
        DiaObject,
        DiaSource,
        LiveClassifier,
        RootDiaObject,
    )
    from desctom.survey.kafka import make_consumer
    from desctom.survey.lsst_schemas import broker_message_schema, split_confluent

    schema = fastavro.parse_schema(broker_message_schema("lsst.v11_1"))
    consumer = make_consumer(servers, "bench-live-baseline")
    consumer.subscribe([TOPIC])
    done, first = 0, None
    radius = 1 / 3600
    while done < n:
        msgs = [m for m in consumer.consume(min(500, n - done), 1.0) if m.error() is None]
        first = first or (time.perf_counter() if msgs else None)
        for m in msgs:
            body = m.value()
            framed = split_confluent(body)
            rec = fastavro.schemaless_reader(io.BytesIO(framed[1] if framed else body), schema)
            with transaction.atomic():
                src = rec["diaSource"]
                obj = DiaObject.objects.filter(diaobjectid=src["diaObjectId"]).first()
                if obj is None:
                    near = RootDiaObject.objects.filter(dec__range=(src["dec"] - radius, src["dec"] + radius),
                                                        ra__range=(src["ra"] - radius, src["ra"] + radius))
                    root = near.first() or RootDiaObject.objects.create(ra=src["ra"], dec=src["dec"])
                    obj = DiaObject.objects.create(diaobjectid=src["diaObjectId"], rootid=root, ra=src["ra"],
                                                   dec=src["dec"])
                DiaSource.objects.bulk_create([DiaSource(
                    diasourceid=d["diaSourceId"], diaobjectid=d["diaObjectId"], rootid=obj.rootid_id,
                    visit=d["visit"], detector=d["detector"], midpointmjdtai=d["midpointMjdTai"],
                    band=d["band"], ra=d["ra"], dec=d["dec"], psfflux=d["psfFlux"],
                    psffluxerr=d["psfFluxErr"],
                    timeprocessedmjdtai=d["timeProcessedMjdTai"])
                    for d in [src, *(rec["prvDiaSources"] or [])]], ignore_conflicts=True)
                DiaForcedSource.objects.bulk_create([DiaForcedSource(
                    diaforcedsourceid=d["diaForcedSourceId"], diaobjectid=d["diaObjectId"],
                    rootid=obj.rootid_id,
                    visit=d["visit"], detector=d["detector"], midpointmjdtai=d["midpointMjdTai"],
                    band=d["band"], ra=d["ra"], dec=d["dec"], psfflux=d["psfFlux"],
                    psffluxerr=d["psfFluxErr"],
                    timeprocessedmjdtai=d["timeProcessedMjdTai"])
                    for d in rec["prvDiaForcedSources"] or []], ignore_conflicts=True)
                classifier, _ = LiveClassifier.objects.get_or_create(
                    brokername=rec["brokerName"], brokerversion=None, classifiername=rec["classifierName"],
                    classifierparams=rec["classifierVersion"])
                BrokerInfo.objects.create(
                    brokername="bench", topic=m.topic(), kafkapartition=m.partition(), kafkaoffset=m.offset(),
                    diasourceid=rec["diaSourceId"], diaobjectid=src["diaObjectId"], rootid=obj.rootid_id,
                    schemaversion="lsst.v11_1", classifier=classifier,
                    classid=[c["classId"] for c in rec["classifications"]],
                    probability=[c["probability"] for c in rec["classifications"]])
            done += 1
    seconds = time.perf_counter() - first
    consumer.close()
    print(f"baseline (fastavro + ORM per message): {done:,} alerts in {seconds:.1f} s "
          f"= {done / seconds:,.0f}/s")
    return done / seconds


def desctom_poller(servers: str, n: int, batch_size: int) -> float:
    from desctom.elasticc2.workers.brokerpoll.streams import BrokerStream
    from desctom.live.workers.poller import LiveStreamConsumer

    stream = BrokerStream("bench", servers=servers, topics=[TOPIC], group="bench-live-desctom",
                          format="desc-brokermessage")
    consumer = LiveStreamConsumer(stream, batch_size=batch_size, batch_timeout=0.5, idle_exit=5)
    marks: list[float] = []
    process, decode, in_decode = consumer._process, consumer.decoder.decode, [0.0]

    def timed(messages):
        marks.append(time.perf_counter()) if not marks else None
        process(messages)
        marks[1:] = [time.perf_counter()]

    def timed_decode(values):
        t = time.perf_counter()
        try:
            return decode(values)
        finally:
            in_decode[0] += time.perf_counter() - t

    consumer._process = timed
    consumer.decoder.decode = timed_decode
    started = time.perf_counter()
    counts = consumer.run()
    assert counts.stored == n, f"stored {counts.stored:,} of {n:,}"
    seconds = marks[1] - marks[0]
    print(f"desctom poller: {counts.stored:,} alerts in {seconds:.1f} s = {counts.stored / seconds:,.0f}/s "
          f"({counts.batches} batches; group join {marks[0] - started:.1f} s; decode {in_decode[0]:.1f} s, "
          f"the rest (association, database, Kafka, commits) {seconds - in_decode[0]:.1f} s)")
    return counts.stored / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--baseline-alerts", type=int, default=1000)
    parser.add_argument("--history", type=int, default=30, help="previous detections per alert")
    parser.add_argument("--forced", type=int, default=100, help="previous forced sources per alert")
    parser.add_argument("--batch-size", type=int, default=5000, help="as brokerpoll2's default")
    parser.add_argument("--keep", metavar="DIR", help="keep the cluster (and its prefill) in DIR")
    args = parser.parse_args()
    import psycopg

    from desctom.survey.kafka import ensure_topics, make_producer
    from desctom.testing.services import ThrowawayKafka

    print(f"load average at start: {_loadavg()}")
    s = Survey(args.alerts, args.history, args.forced)
    t = time.perf_counter()
    messages = encode_messages(s)
    check_first(messages, s)
    size = sum(map(len, messages))
    print(f"encoded {len(messages):,} BrokerMessages ({size / len(messages) / 1024:.1f} kB each) "
          f"in {time.perf_counter() - t:.1f} s")
    kafka = ThrowawayKafka()
    kafka.start()
    try:
        with django_on_throwaway_postgres(args.keep) as server, \
                psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_live_prefill "
                         "(alerts int, history int, forced int)")
            shape = (args.alerts, args.history, args.forced)
            if conn.execute("SELECT alerts, history, forced FROM bench_live_prefill").fetchone() != shape:
                for table in ("diasource_brokerinfo", "diasource", "diaforcedsource", "diaobject",
                              "root_diaobject", "bench_live_prefill"):
                    conn.execute(f"TRUNCATE {table} CASCADE")
                with conn.transaction():
                    prefill(conn, s)
                    conn.execute("INSERT INTO bench_live_prefill VALUES (%s, %s, %s)", shape)
            else:
                print("reusing the prefill")
            clean(conn)
            ensure_topics(kafka.bootstrap, [TOPIC], partitions=2)
            producer = make_producer(kafka.bootstrap)
            for i, m in enumerate(messages):
                producer.produce(TOPIC, m, partition=i % 2)
                producer.poll(0)
            assert producer.flush(60) == 0
            print(f"load average before the timed part: {_loadavg()}")
            base = baseline(kafka.bootstrap, min(args.baseline_alerts, args.alerts))
            clean(conn)
            ours = desctom_poller(kafka.bootstrap, args.alerts, args.batch_size)
            rows = conn.execute("SELECT (SELECT count(*) FROM diasource), "
                                "(SELECT count(*) FROM diaforcedsource), "
                                "(SELECT count(*) FROM root_diaobject)").fetchone()
            print(f"tables now: {rows[0]:,} detections, {rows[1]:,} forced sources, {rows[2]:,} root objects")
            print(f"load average at the end: {_loadavg()}")
            print(f"RESULT live ingest: {ours:,.0f} alerts/s ({args.history} previous detections, "
                  f"{args.forced} forced sources each); baseline {base:,.0f} alerts/s; "
                  f"ratio {ours / base:.1f}x")
    finally:
        kafka.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
