"""The live poller on the real Kafka: two brokers, plain alerts, bad messages, SIGKILL and restart."""

import os
import signal
import subprocess
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from live_messages import alert, broker_message, dia_object, encode, forced, source

from desctom.survey.kafka import ensure_topics, make_producer
from desctom.testing.cli import DESCTOM, cli_env

V = "lsst.v11_1"
ARCSEC = 1 / 3600


def query(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def produce(servers, topic, values, partitions=1):
    ensure_topics(servers, [topic], partitions=partitions)
    producer = make_producer(servers)
    for v in values:
        producer.produce(topic, v)
        producer.poll(0)
    assert producer.flush(30) == 0


def survey(n_objects, n_alerts, first_oid=1, twin_every=0):
    """Alerts of ``n_objects`` objects, ``n_alerts`` each with their history; every ``twin_every``-th
    object has a twin id 0.3" away that carries its last alert."""
    alerts, twins = [], {}
    for k in range(n_objects):
        oid = first_oid + k
        ra, dec = 10.0 + k * 0.01, -30.0 + k * 0.001
        srcs = [source(V, oid * 1000 + j, oid, 61000.0 + j, ra, dec) for j in range(n_alerts)]
        fs = [forced(V, oid * 100000 + j, oid, 60990.0 + j, ra, dec) for j in range(5)]
        for j in range(n_alerts):
            alerts.append(alert(V, srcs[j], prv=srcs[:j], prv_forced=fs[:3 + j % 3],
                                obj=dia_object(V, oid, ra, dec)))
        if twin_every and k % twin_every == 0:
            twin = oid + 500_000
            twins[twin] = oid
            s = source(V, twin * 1000, twin, 61000.0 + n_alerts, ra + 0.3 * ARCSEC, dec)
            alerts.append(alert(V, s, obj=dia_object(V, twin, ra + 0.3 * ARCSEC, dec)))
    return alerts, twins


def config(tmp_path, bootstrap, streams):
    text = ""
    for name, topic, fmt in streams:
        text += (f'[[brokers]]\nname = "{name}"\nservers = "{bootstrap}"\ntopics = ["{topic}"]\n'
                 f'format = "{fmt}"\ngroup = "g-{name}-{uuid.uuid4().hex[:6]}"\n\n')
    path = tmp_path / "brokers.toml"
    path.write_text(text)
    return path


@pytest.mark.django_db(transaction=True)
def test_two_brokers_and_an_alert_stream_stored_as_computed(kafka_server, tmp_path):
    alerts, twins = survey(12, 4, twin_every=4)
    tag = uuid.uuid4().hex[:6]
    t1, t2, t3 = f"b1-{tag}", f"b2-{tag}", f"alerts-{tag}"
    b1 = [encode(broker_message(V, a, broker="B1", classifier="RF"), framed=True) for a in alerts]
    b2 = [encode(broker_message(V, a, broker="B2", classifier="NN", cversion="2", classes=((2222, 0.9),)),
                 framed=False) for a in reversed(alerts)]  # another order, schemaless
    b1.insert(7, b"\x00\x00\x00\x03\xe7" + b1[0][5:])  # unknown schema id 999
    b2.insert(3, b"garbage that is no Avro")
    produce(kafka_server.bootstrap, t1, b1, partitions=2)
    produce(kafka_server.bootstrap, t2, b2)
    produce(kafka_server.bootstrap, t3, [encode(a, kind="alert") for a in alerts[:10]])
    cfg = config(tmp_path, kafka_server.bootstrap, [("B1", t1, "desc-brokermessage"),
                                                    ("B2", t2, "desc-brokermessage"),
                                                    ("rubin", t3, "lsst-alert")])
    call_command("brokerpoll2", "--config", str(cfg), "--idle-exit", "4", "--batch-timeout", "0.5",
                 "--batch-size", "17")
    # the independent computation, from the records themselves
    src_ids = {s["diaSourceId"] for a in alerts for s in [a["diaSource"], *a["prvDiaSources"]]}
    fs_ids = {f["diaForcedSourceId"] for a in alerts for f in a["prvDiaForcedSources"]}
    assert query("SELECT count(*), count(DISTINCT diasourceid) FROM diasource") == [(len(src_ids),) * 2]
    assert {r[0] for r in query("SELECT diasourceid FROM diasource")} == src_ids
    assert {r[0] for r in query("SELECT diaforcedsourceid FROM diaforcedsource")} == fs_ids
    n = len(alerts)
    assert query("SELECT brokername, count(*), count(DISTINCT diasourceid), count(classifier_id) "
                 "FROM diasource_brokerinfo GROUP BY 1 ORDER BY 1") == [("B1", n, n, n), ("B2", n, n, n),
                                                                        ("rubin", 10, 10, 0)]
    per_classifier = query("SELECT c.brokername, c.classifiername, c.classifierparams, count(*) "
                           "FROM diasource_brokerinfo i "
                           "JOIN live_brokerclassifier c USING (classifier_id) "
                           "GROUP BY 1, 2, 3 ORDER BY 1")
    assert per_classifier == [("B1", "RF", "1.0", n), ("B2", "NN", "2", n)]
    roots = dict(query("SELECT diaobjectid, rootid FROM diaobject"))
    assert len(roots) == 12 + len(twins)
    assert all(roots[t] == roots[o] for t, o in twins.items())
    assert query("SELECT count(*) FROM root_diaobject") == [(12,)]
    bad = query("SELECT broker, kafkaoffset, error FROM elasticc2_brokermessagequarantine ORDER BY 1")
    assert [(b, o) for b, o, _ in bad] == [("B1", bad[0][1]), ("B2", 3)]
    assert "unknown schema id 999" in bad[0][2]
    status = dict((b, (c, s, q)) for b, c, s, q in query(
        "SELECT broker, consumed, stored, quarantined FROM elasticc2_brokerpollerstatus"))
    assert status == {"B1": (n + 1, n, 1), "B2": (n + 1, n, 1), "rubin": (10, 10, 0)}
    # everything read again from the start: nothing doubles
    call_command("brokerpoll2", "--config", str(cfg), "--idle-exit", "4", "--batch-timeout", "0.5", "--reset")
    assert query("SELECT count(*) FROM diasource_brokerinfo") == [(2 * n + 10,)]
    assert query("SELECT count(*) FROM diasource") == [(len(src_ids),)]


@pytest.mark.django_db(transaction=True)
def test_a_sigkilled_live_poller_resumes_with_nothing_lost_or_doubled(kafka_server, tmp_path):
    alerts, _ = survey(400, 10, first_oid=10_000)
    topic = f"kill-{uuid.uuid4().hex[:6]}"
    produce(kafka_server.bootstrap, topic, [encode(broker_message(V, a)) for a in alerts], partitions=2)
    cfg = config(tmp_path, kafka_server.bootstrap, [("B1", topic, "desc-brokermessage")])
    argv = [DESCTOM, "brokerpoll2", "--config", str(cfg), "--batch-size", "200", "--batch-timeout", "0.5"]
    proc = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while query("SELECT count(*) FROM diasource_brokerinfo")[0][0] < 400:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert query("SELECT count(*) FROM diasource_brokerinfo")[0][0] < len(alerts), "killed too late"
    done = subprocess.run([*argv, "--idle-exit", "4"], env=cli_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    n = len(alerts)
    assert query("SELECT count(*), count(DISTINCT diasourceid) FROM diasource_brokerinfo") == [(n, n)]
    assert query("SELECT count(*) FROM diasource") == [(n,)]
    assert query("SELECT count(*) FROM diaforcedsource") == [(400 * 5,)]
    assert query("SELECT sum(ndetections), count(*) FROM root_diaobject") == [(n, 400)]
