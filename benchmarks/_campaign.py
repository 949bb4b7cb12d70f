"""A simulated ELAsTiCC2 campaign's broker messages: keys in the order a real campaign produces them.

Message ``m`` of the campaign belongs to alert ``m // K`` (``K`` classifiers, each sending one
20-class message per alert, interleaved); alert ids and source ids grow with the alert, alerts
are sent night by night (``ALERTS_PER_NIGHT``), the broker topic has two partitions with offsets
growing per partition, and every timestamp (publish, broker ingest, header, DESC ingest) grows
with the message. :func:`prefill` writes the first ``n`` messages set-based (``generate_series``)
with the secondary indexes dropped, rebuilds them, then ``VACUUM ANALYZE``; :func:`produce`
sends later nights' alerts' messages to Kafka, continuing the campaign.
"""

from __future__ import annotations

import time

import numpy as np
import psycopg

CLASSIFIERS = 4
ALERTS_PER_NIGHT = 200_000
ALERT0, SOURCE0 = 1_000_000, 50_000_000
PREFILL_TOPIC = "bench-classifications-earlier"  # the campaign's earlier stream (another topic)
TABLE = "elasticc2_brokermessage"


def classifier_keys() -> list[tuple[str, str, str, str]]:
    from desctom.elasticc2.workers.fakebroker import BROKER_NAME, BROKER_VERSION, RANDOM

    return [(BROKER_NAME, BROKER_VERSION, RANDOM[0], RANDOM[1] if j == 0 else f"{RANDOM[1]}-{j}")
            for j in range(CLASSIFIERS)]


def _classifier_ids(conn: psycopg.Connection) -> list[int]:
    from desctom.elasticc2.workers.brokerstore import ClassifierRegistry

    keys = classifier_keys()
    with conn.transaction():
        ids, _ = ClassifierRegistry().ids_for(conn, set(keys))
    return [ids[k] for k in keys]


def stored_prefill(conn: psycopg.Connection) -> int:
    """How many prefill messages a kept cluster already holds (0 if none or unfinished)."""
    conn.execute("CREATE TABLE IF NOT EXISTS bench_prefill (n bigint, max_id bigint)")
    row = conn.execute("SELECT n FROM bench_prefill").fetchone()
    return row[0] if row else 0


def prefill_max_id(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT max_id FROM bench_prefill").fetchone()
    return row[0] if row else 0


def _index_defs(conn: psycopg.Connection, future_classifier_index: bool) -> list[tuple[str, str]]:
    """The secondary indexes to rebuild (remembered in ``bench_indexes`` should a fill be interrupted)."""
    conn.execute("CREATE TABLE IF NOT EXISTS bench_indexes (name text, ddl text)")
    rows = conn.execute("SELECT name, ddl FROM bench_indexes ORDER BY name").fetchall()
    if not rows:
        rows = conn.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s
                               AND indexname <> %s ORDER BY indexname""", (TABLE, f"{TABLE}_pkey")).fetchall()
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bench_indexes VALUES (%s, %s)", rows)
    out = []
    for name, ddl in rows:
        if future_classifier_index and ddl.endswith("(classifier_id)"):
            ddl = ddl.replace("(classifier_id)", "(classifier_id, descingesttimestamp)")
        out.append((name, ddl))
    return out


def prefill(conn: psycopg.Connection, n: int, *, future_classifier_index: bool = True,
            chunk: int = 2_000_000) -> None:
    """Empty the broker-message tables and store campaign messages ``0 .. n-1`` (autocommit ``conn``)."""
    start = time.perf_counter()
    conn.execute("TRUNCATE bench_prefill")
    conn.execute(f"TRUNCATE {TABLE}, elasticc2_brokersourceids RESTART IDENTITY CASCADE")
    cids = _classifier_ids(conn)
    indexes = _index_defs(conn, future_classifier_index)
    for name, _ in indexes:
        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    rng = np.random.default_rng(7)
    draws = rng.standard_exponential((997, 20))
    probs = (draws / draws.sum(axis=1, keepdims=True)).astype(np.float32)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS bench_probs (k int, probability real[])")
    conn.execute("TRUNCATE bench_probs")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO bench_probs VALUES (%s, %s)",
                        [(k, [float(x) for x in row]) for k, row in enumerate(probs)])
    from desctom.elasticc2.workers.fakebroker import RANDOM_CLASSES

    # Night d starts at T0 + d days; an alert every 50 ms within the night; T0 such that the last
    # prefilled night is yesterday.
    nights = (n // CLASSIFIERS) // ALERTS_PER_NIGHT + 1
    conn.execute("SET session_replication_role = replica")  # the metrics' change log: not for a prefill
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        conn.execute(f"""
            INSERT INTO {TABLE} (streammessage_id, topicname, kafkapartition, alert_id, diasource_id,
                msghdrtimestamp, descingesttimestamp, elasticcpublishtimestamp, brokeringesttimestamp,
                classifier_id, classid, probability)
            SELECT m / 2, %(topic)s, (m %% 2)::int, {ALERT0} + a, {SOURCE0} + a,
                   pub + interval '11 s', pub + interval '13 s', pub, pub + interval '10 s',
                   (%(cids)s::bigint[])[(m %% {CLASSIFIERS})::int + 1], %(classid)s::smallint[], p.probability
            FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS m
            CROSS JOIN LATERAL (SELECT m / {CLASSIFIERS} AS a) AS al
            CROSS JOIN LATERAL (SELECT date_trunc('day', now()) - %(nights)s * interval '1 day'
                + (a / {ALERTS_PER_NIGHT}) * interval '1 day'
                + (a %% {ALERTS_PER_NIGHT}) * interval '50 ms' AS pub) AS t
            JOIN bench_probs p ON p.k = (m %% 997)::int""",
            {"topic": PREFILL_TOPIC, "cids": cids, "classid": list(RANDOM_CLASSES),
             "lo": lo, "hi": hi, "nights": nights})
        print(f"  prefill {hi:,} / {n:,} rows ({time.perf_counter() - start:.0f} s)", flush=True)
    conn.execute("RESET session_replication_role")
    conn.execute("SET maintenance_work_mem = '1GB'")
    for name, ddl in indexes:
        t = time.perf_counter()
        conn.execute(ddl.replace(f"INDEX {name} ", f'INDEX "{name}" ', 1))
        print(f"  index {name}: {time.perf_counter() - t:.0f} s", flush=True)
    conn.execute(f"VACUUM ANALYZE {TABLE}")
    max_id = conn.execute(f"SELECT max(brokermessage_id) FROM {TABLE}").fetchone()[0] or 0
    conn.execute("INSERT INTO bench_prefill VALUES (%s, %s)", (n, max_id))
    print(f"prefilled {n:,} messages in {time.perf_counter() - start:.0f} s", flush=True)


def remove_after(conn: psycopg.Connection, max_id: int) -> None:
    """Delete the messages stored after the prefill (and the source-id queue), then VACUUM ANALYZE."""
    conn.execute("TRUNCATE elasticc2_brokersourceids, metrics_newmessage")
    if conn.execute(f"DELETE FROM {TABLE} WHERE brokermessage_id > %s", (max_id,)).rowcount:
        conn.execute(f"VACUUM ANALYZE {TABLE}")


def produce(servers: str, topic: str, n: int, first_message: int, partitions: int = 2) -> None:
    """Send campaign messages ``first_message .. first_message+n-1`` (whole alerts) to ``topic``
    (created with ``partitions`` partitions if it does not exist)."""
    from desctom.elasticc2.workers.fakebroker import BROKER_NAME, BROKER_VERSION, FakeBroker
    from desctom.survey.avro_wire import avro_string, zigzag_long
    from desctom.survey.kafka import ensure_topics, make_producer

    ensure_topics(servers, [topic], partitions=partitions)
    brokers = []
    for j, (_, _, name, params) in enumerate(classifier_keys()):
        fb = FakeBroker(["unused"], topic, source=servers, dest=servers, seed=1 + j)
        fb._random_tail = (avro_string(BROKER_NAME) + avro_string(BROKER_VERSION) + avro_string(name)
                           + avro_string(params))
        brokers.append(fb)
    producer = make_producer(servers)
    start = time.perf_counter()
    first_alert = -(-first_message // CLASSIFIERS)
    n_alerts = -(-n // CLASSIFIERS)
    sent = 0
    now_ms = int(time.time() * 1000)
    for lo in range(first_alert, first_alert + n_alerts, 25_000):
        hi = min(first_alert + n_alerts, lo + 25_000)
        alerts = [(zigzag_long(ALERT0 + a) + zigzag_long(SOURCE0 + a), now_ms + (a - first_alert) * 50)
                  for a in range(lo, hi)]
        per_classifier = [fb.classify(alerts)[1::2] for fb in brokers]
        for values in zip(*per_classifier, strict=True):  # alert by alert, classifiers interleaved
            for value in values:
                if sent == n:
                    break
                while True:
                    try:
                        producer.produce(topic, value)
                        break
                    except BufferError:
                        producer.poll(0.05)
                sent += 1
        producer.poll(0)
    assert producer.flush(120) == 0
    print(f"produced {sent:,} 20-class messages ({CLASSIFIERS} classifiers, alerts {ALERT0 + first_alert:,}.."
          f"{ALERT0 + first_alert + n_alerts - 1:,}) in {time.perf_counter() - start:.1f} s")
