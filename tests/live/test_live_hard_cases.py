"""The simulator's hard cases through the real Kafka and the live pollers, checked against its truth.

Two fake brokers' BrokerMessages and the plain alert stream (Confluent wire format, the alert
schema changing from lsst.v11_0 to lsst.v11_1 mid-stream, twins, the same alert from two brokers,
out-of-order and late messages) are polled by ``brokerpoll2``; the truth is the simulator's own
account of what it sent, computed without any of the ingest code.
"""

import uuid

import pytest
from django.core.management import call_command
from django.db import connection

from desctom.live.workers.simulator import publish


def query(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@pytest.mark.django_db(transaction=True)
def test_hard_cases_stored_as_the_simulator_says(kafka_server, tmp_path):
    from desctom.live.workers.simulator import LiveSurveySimulator

    prefix = f"h{uuid.uuid4().hex[:6]}-"
    sim = LiveSurveySimulator(60, 6, seed=11, topic_prefix=prefix)
    truth = sim.truth()
    publish(sim, kafka_server.bootstrap)
    streams = []
    for topic in sim.topics():
        name = topic.removeprefix(prefix)
        fmt = "lsst-alert" if name == "alerts" else "desc-brokermessage"
        streams.append(f'[[brokers]]\nname = "{name}"\nservers = "{kafka_server.bootstrap}"\n'
                       f'topics = ["{topic}"]\nformat = "{fmt}"\ngroup = "{prefix}{name}"\n')
    cfg = tmp_path / "brokers.toml"
    cfg.write_text("\n".join(streams))
    call_command("brokerpoll2", "--config", str(cfg), "--idle-exit", "4", "--batch-timeout", "0.5",
                 "--batch-size", "300")

    sent_sources = set(truth.source_object)
    assert {r[0] for r in query("SELECT diasourceid FROM diasource")} == sent_sources
    assert query("SELECT count(*) FROM diasource") == [(len(sent_sources),)]
    forced = {r[0] for r in query("SELECT diaforcedsourceid FROM diaforcedsource")}
    assert forced == set(truth.forced_source_ids)
    # association: one root per physical source, every twin with its object
    roots = dict(query("SELECT diaobjectid, rootid FROM diaobject"))
    assert set(roots) == set(truth.diaobject_ids)
    by_physical: dict = {}
    for oid, root in roots.items():
        by_physical.setdefault(truth.physical_source[oid], set()).add(root)
    assert all(len(r) == 1 for r in by_physical.values())
    assert len({next(iter(r)) for r in by_physical.values()}) == len(by_physical)
    assert truth.same_source and all(roots[a] == roots[b] for a, b in truth.same_source)
    # provenance: one row per message, per stream
    per_stream = dict(query("SELECT brokername, count(*) FROM diasource_brokerinfo GROUP BY 1"))
    assert per_stream.pop("alerts") == truth.counts["alerts"]
    assert sum(per_stream.values()) == truth.counts["brokermessages"]
    # classifications per classifier, schema versions seen
    for (broker, name, version), sources in truth.messages_by_classifier.items():
        got = query("SELECT i.diasourceid FROM diasource_brokerinfo i JOIN live_brokerclassifier c "
                    "USING (classifier_id) WHERE c.brokername = %s AND c.classifiername = %s "
                    "AND c.classifierparams = %s", [broker, name, version])
        assert sorted(r[0] for r in got) == sorted(sources)
    assert {r[0] for r in query("SELECT DISTINCT schemaversion FROM diasource_brokerinfo")} == \
        set(truth.versions.values()) == {"lsst.v11_0", "lsst.v11_1"}
    assert query("SELECT count(*) FROM elasticc2_brokermessagequarantine") == [(0,)]
    # the root objects' detection counts and dates follow every stored detection (late ones included)
    wrong = query("""SELECT count(*) FROM root_diaobject r WHERE ndetections <> (
                         SELECT count(*) FROM diasource s WHERE s.rootid = r.id)
                     OR first_mjd <> (SELECT min(midpointmjdtai) FROM diasource s WHERE s.rootid = r.id)
                     OR last_mjd <> (SELECT max(midpointmjdtai) FROM diasource s WHERE s.rootid = r.id)""")
    assert wrong == [(0,)]
