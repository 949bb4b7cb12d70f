"""The live-survey simulator: real-format alerts and BrokerMessages, the hard cases, history sizes,
determinism, and publishing to the real Kafka (tansu)."""

from __future__ import annotations

import io
import math
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter, defaultdict

import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from django.core.management import call_command
from django.core.management.base import CommandError
from live_helpers import decode, encode

from desctom.live.management.commands import live_simulate
from desctom.live.workers.simulator import (
    HardCases,
    LiveSurveySimulator,
    PublishResult,
    SimulatorError,
    SimulatorInterrupted,
    publish,
)
from desctom.survey.kafka import make_consumer
from desctom.survey.lsst_schemas import alert_schema, schema_id, split_confluent

ARCSEC = 1 / 3600


def _required(version: str, part: str) -> list[str]:
    for f in alert_schema(version)["fields"]:
        if f["name"] == part:
            kind = f["type"]
            if isinstance(kind, list):
                kind = next(k for k in kind if k != "null")
            record = kind["items"] if kind["type"] == "array" else kind
            return [g["name"] for g in record["fields"] if not isinstance(g["type"], list)]
    raise AssertionError(part)


def _decoded(messages):
    return [(m, *decode(m.value, m.kind)) for m in messages]


def test_every_message_decodes_against_its_version_and_matches_fastavro(hard_stream):
    sim, messages = hard_stream
    assert {m.kind for m in messages} == {"alert", "brokermessage"}
    for m, version, rec in _decoded(messages):
        framed = split_confluent(m.value)
        assert framed[0] == schema_id(m.schema_version) and version == m.schema_version
        # The simulator's own encoder writes exactly what fastavro writes for the same record.
        assert encode(rec, m.kind, version) == framed[1]
        assert rec["diaSourceId"] == rec["diaSource"]["diaSourceId"] == m.diasource_id
        assert rec["diaSource"]["diaObjectId"] == rec["diaObject"]["diaObjectId"] == m.diaobject_id
        assert rec["diaSource"]["midpointMjdTai"] == pytest.approx(m.mjd)
        if m.kind == "brokermessage":
            assert m.topic == f"sim-{m.broker}" and rec["brokerName"] == m.broker
            assert (rec["brokerName"], rec["classifierName"], rec["classifierVersion"]) == m.classifier
            probs = {c["classId"]: c["probability"] for c in rec["classifications"]}
            assert 200 in probs and len(probs) == len(rec["classifications"])
            assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-5)
            assert all(0 <= p <= 1 for p in probs.values())
        else:
            assert m.topic == "sim-alerts" and m.broker is None


def test_fields_are_filled_with_plausible_values(hard_stream):
    sim, messages = hard_stream
    for m, version, rec in _decoded([m for m in messages if m.kind == "alert"]):
        src = rec["diaSource"]
        for name in _required(version, "diaSource") + ["psfFlux", "psfFluxErr", "scienceFlux", "snr", "band",
                                                        "reliability", "diaObjectId", "templateFlux"]:
            assert src[name] is not None, name
        assert src["band"] in "ugrizy" and len(src["band"]) == 1
        assert src["psfFluxErr"] > 0 and src["snr"] >= 4.99 and 0 <= src["reliability"] <= 1
        assert src["timeProcessedMjdTai"] > src["midpointMjdTai"]
        assert 0 <= src["detector"] < 189 and str(src["visit"]).startswith("202")
        assert sim.live_start_mjd <= src["midpointMjdTai"] < sim.live_start_mjd + sim.nights
        assert ("exposureTime" in src) == (version == "lsst.v11_1")
        obj = rec["diaObject"]
        for name in _required(version, "diaObject"):
            assert obj[name] is not None, name
        n_bands = sum(obj[f"{b}_psfFluxNdata"] for b in "ugrizy")
        assert obj["nDiaSources"] == n_bands >= len(rec["prvDiaSources"]) + 1
        band = src["band"]
        assert obj[f"{band}_psfFluxMin"] <= src["psfFlux"] <= obj[f"{band}_psfFluxMax"]
        assert abs(obj["dec"] - src["dec"]) < 0.3 * ARCSEC
        for prv in rec["prvDiaSources"]:
            assert prv["diaObjectId"] == m.diaobject_id
            assert src["midpointMjdTai"] - 365 <= prv["midpointMjdTai"] < src["midpointMjdTai"]
        for fs in rec["prvDiaForcedSources"]:
            for name in _required(version, "prvDiaForcedSources"):
                assert fs[name] is not None, name
            assert fs["diaObjectId"] == m.diaobject_id and fs["band"] in "ugrizy"
            assert src["midpointMjdTai"] - 365 <= fs["midpointMjdTai"] < src["midpointMjdTai"]
        times = [p["midpointMjdTai"] for p in rec["prvDiaSources"]]
        assert times == sorted(times)
        assert rec["cutoutDifference"] is None and rec["ssSource"] is None


def test_history_sizes():
    sim = LiveSurveySimulator(30, 3, seed=4, hard_cases=False, max_prv_sources=5, max_prv_forced=12)
    sizes = [(len(r["prvDiaSources"]), len(r["prvDiaForcedSources"]))
             for _, _, r in _decoded(m for m in sim.messages() if m.kind == "alert")]
    assert max(s for s, _ in sizes) == 5 and max(f for _, f in sizes) == 12
    default = LiveSurveySimulator(30, 3, seed=4, hard_cases=False)
    sizes = [(len(r["prvDiaSources"]), len(r["prvDiaForcedSources"]))
             for _, _, r in _decoded(m for m in default.messages() if m.kind == "alert")]
    assert max(s for s, _ in sizes) <= 30 and max(f for _, f in sizes) == 100
    assert sum(f for _, f in sizes) / len(sizes) > 40   # a year of forced photometry, mostly


def test_twins_same_source_under_two_object_ids(hard_stream):
    sim, messages = hard_stream
    truth = sim.truth()
    assert truth.same_source
    position = {}
    for m, _, rec in _decoded(m for m in messages if m.kind == "alert"):
        position[m.diaobject_id] = (rec["diaObject"]["ra"], rec["diaObject"]["dec"])
    for first, twin in truth.same_source:
        assert first in position and twin in position and first != twin
        (ra1, dec1), (ra2, dec2) = position[first], position[twin]
        sep = math.hypot((ra1 - ra2) * math.cos(math.radians(dec1)), dec1 - dec2)
        assert 0 < sep < 0.3 * ARCSEC
    # Nothing else is that close.
    ids = sorted(position)
    pairs = {tuple(sorted(p)) for p in truth.same_source}
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if (a, b) not in pairs:
                assert abs(position[a][1] - position[b][1]) > 0.3 * ARCSEC or \
                       abs(position[a][0] - position[b][0]) > 0.3 * ARCSEC


def test_same_alert_from_two_brokers(hard_stream):
    sim, messages = hard_stream
    by_source = defaultdict(set)
    for m in messages:
        if m.kind == "brokermessage":
            by_source[m.diasource_id].add(m.classifier)
    multi = {s for s, cs in by_source.items() if len(cs) > 1}
    assert multi and multi == sim.truth().multi_broker_sources
    assert len({b for cs in by_source.values() for b, _, _ in cs}) == 2


def test_late_and_out_of_order_messages(hard_stream):
    sim, messages = hard_stream
    truth = sim.truth()
    late = [m for m in messages if m.night > m.obs_night]
    assert late and all(m.late and m.night == m.obs_night + 1 for m in late)
    got = sorted((m.diasource_id, m.broker or "") for m in late)
    assert got == sorted((s, b or "") for s, b in truth.late)
    later_first, latest = 0, -1.0
    for night in range(sim.nights):
        latest = -1.0
        for m in (m for m in messages if m.night == night):
            later_first += m.mjd < latest
            latest = max(latest, m.mjd)
    assert later_first == truth.out_of_order > len(late)


def test_schema_change_mid_stream(hard_stream):
    sim, messages = hard_stream
    switch = sim.hard_cases.switch_night
    assert switch == 3
    for m in messages:
        want = "lsst.v11_0" if m.obs_night < switch else "lsst.v11_1"
        assert m.schema_version == want
        assert split_confluent(m.value)[0] == (1100 if want == "lsst.v11_0" else 1101)
    assert {m.schema_version for m in messages if m.night == switch} == {"lsst.v11_0", "lsst.v11_1"}


def test_truth_matches_the_messages(hard_stream):
    sim, messages = hard_stream
    truth = sim.truth()
    alerts = [m for m in messages if m.kind == "alert"]
    assert {m.diasource_id for m in alerts} == truth.diasource_ids and len(alerts) == len(truth.diasource_ids)
    assert {m.diaobject_id for m in alerts} == truth.diaobject_ids
    assert len({o for o in truth.diaobject_ids if o < 10**10}) == sim.objects
    prv, forced = set(), set()
    for m, _, rec in _decoded(alerts):
        assert truth.source_object[m.diasource_id] == m.diaobject_id
        assert all(truth.source_object[p["diaSourceId"]] == m.diaobject_id for p in rec["prvDiaSources"])
        prv.update(p["diaSourceId"] for p in rec["prvDiaSources"])
        forced.update(f["diaForcedSourceId"] for f in rec["prvDiaForcedSources"])
    assert prv == truth.prv_diasource_ids and forced == truth.forced_source_ids
    per_classifier = defaultdict(list)
    for m in messages:
        if m.kind == "brokermessage":
            per_classifier[m.classifier].append(m.diasource_id)
    assert dict(per_classifier) == truth.messages_by_classifier
    assert truth.counts == {"alerts": len(alerts), "brokermessages": len(messages) - len(alerts),
                            "messages": len(messages)}
    assert set(truth.true_class) == truth.diaobject_ids
    assert set(truth.source_object) == truth.diasource_ids | truth.prv_diasource_ids
    twins = {twin: first for first, twin in truth.same_source}
    moved = {o: source for o, source in truth.physical_source.items() if source != o}
    assert moved == twins and set(truth.physical_source) == truth.diaobject_ids


def test_no_hard_cases():
    sim = LiveSurveySimulator(40, 4, seed=11, hard_cases=False)
    messages = list(sim.messages())
    truth = sim.truth()
    assert not truth.same_source and not truth.multi_broker_sources and not truth.late
    assert truth.out_of_order == 0 and {m.schema_version for m in messages} == {"lsst.v11_1"}
    assert Counter(m.kind for m in messages) == {"alert": len(truth.diasource_ids),
                                                  "brokermessage": len(truth.diasource_ids)}
    one = HardCases(multi_broker=1.0)
    sim = LiveSurveySimulator(40, 4, seed=11, hard_cases=one, alerts=False)
    assert {m.kind for m in sim.messages()} == {"brokermessage"}
    assert len(sim.truth().multi_broker_sources) == len(sim.truth().diasource_ids)


def test_deterministic_for_a_seed():
    def values(seed):
        return [(m.topic, m.key, m.value) for m in LiveSurveySimulator(25, 3, seed=seed).messages()]

    assert values(5) == values(5)
    assert values(5) != values(6)


def test_schemaless_wire_format():
    sim = LiveSurveySimulator(20, 2, seed=3, wire="schemaless", hard_cases=HardCases(schema_change=True))
    for m in sim.messages():
        assert split_confluent(m.value) is None
        version, rec = decode(m.value, m.kind, m.schema_version)
        assert rec["diaSourceId"] == m.diasource_id


def test_bad_arguments():
    for kwargs, text in (({"objects": 0}, "number of objects"), ({"nights": 0}, "number of nights"),
                         ({"wire": "json"}, "wire format"), ({"seed": -1}, "seed"),
                         ({"max_prv_forced": -1}, "history sizes")):
        args = {"objects": 5, "nights": 2, "seed": 1} | kwargs
        with pytest.raises(SimulatorError, match=text):
            LiveSurveySimulator(args.pop("objects"), args.pop("nights"), args.pop("seed"), **args)


# -- Kafka -------------------------------------------------------------------------------------------


def _read_all(bootstrap: str, topic: str, want: int) -> list:
    consumer = make_consumer(bootstrap, f"reader-{uuid.uuid4().hex[:8]}")
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = []
    try:
        for _ in range(120):
            for msg in consumer.consume(max(want - len(got), 1), timeout=0.5):
                assert msg.error() is None, msg.error()
                got.append(msg)
            if len(got) >= want:
                break
        got.extend(consumer.consume(10, timeout=1.0))   # nothing more
    finally:
        consumer.close()
    return got


def _count(bootstrap: str, topic: str) -> int:
    """Messages in ``topic``, read until it stays quiet (tansu's high watermark can lag)."""
    consumer = make_consumer(bootstrap, f"count-{uuid.uuid4().hex[:8]}")
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    n, quiet = 0, 0
    try:
        while quiet < 3:  # three quiet polls in a row (the first may come before the connection)
            batch = consumer.consume(500, timeout=2.0)
            quiet = 0 if batch else quiet + 1
            assert all(m.error() is None for m in batch)
            n += len(batch)
    finally:
        consumer.close()
    return n


def test_publish_to_kafka_and_read_back(kafka_server):
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    sim = LiveSurveySimulator(30, 3, seed=2, topic_prefix=prefix)
    expected = Counter(m.topic for m in sim.messages())
    nights = []
    result = publish(sim, kafka_server.bootstrap,
                     progress=lambda night, r: nights.append((night, r.messages)))
    assert [n for n, _ in nights] == [0, 1, 2] and nights[-1][1] == result.messages == sum(expected.values())
    assert result.alerts == sim.truth().counts["alerts"]
    for topic, count in expected.items():
        got = _read_all(kafka_server.bootstrap, topic, count)
        assert len(got) == count, topic
        kind = "alert" if topic.endswith("alerts") else "brokermessage"
        for msg in got[:20]:
            _, rec = decode(msg.value(), kind)
            assert msg.key() == str(rec["diaSource"]["diaObjectId"]).encode()


def test_command_publishes_with_progress(kafka_server):
    prefix = f"c{uuid.uuid4().hex[:8]}-"
    out = io.StringIO()
    call_command("live_simulate", "--objects", "15", "--nights", "2", "--seed", "9", "--bootstrap",
                 kafka_server.bootstrap, "--topic-prefix", prefix, "--no-hard-cases", "--schemaless",
                 stdout=out)
    text = out.getvalue()
    assert "night 1:" in text and "night 2:" in text and "done:" in text and "messages/s" in text
    counts = LiveSurveySimulator(15, 2, seed=9, hard_cases=False).truth().counts
    assert f"{counts['messages']:,} messages" in text
    assert len(_read_all(kafka_server.bootstrap, f"{prefix}alerts", counts["alerts"])) == counts["alerts"]


def test_command_bad_arguments():
    with pytest.raises(CommandError, match="number of objects"):
        call_command("live_simulate", "--objects", "0", "--bootstrap", "localhost:1", stdout=io.StringIO())


class _InterruptingProducer:
    """A producer that is Ctrl-C'd at its fourth message."""

    def __init__(self):
        self.produced, self.flushes = 0, 0

    def produce(self, topic, value, key=None):
        if self.produced == 3:
            raise KeyboardInterrupt
        self.produced += 1

    def poll(self, timeout):
        return 0

    def flush(self, timeout):
        self.flushes += 1
        return 0


def test_ctrl_c_flushes_and_reports():
    producer = _InterruptingProducer()
    with pytest.raises(SimulatorInterrupted) as caught:
        publish(LiveSurveySimulator(10, 2, seed=1), "unused:1", producer=producer, ensure=False)
    assert caught.value.result.messages == 3 and producer.flushes == 1


def test_command_exits_130_on_ctrl_c(monkeypatch):
    def interrupted(sim, bootstrap, progress):
        raise SimulatorInterrupted(PublishResult(messages=7, alerts=3, brokermessages=4, nights=1))

    monkeypatch.setattr(live_simulate, "publish", interrupted)
    with pytest.raises(CommandError, match="interrupted: sent and flushed 7 messages") as caught:
        call_command("live_simulate", "--objects", "5", "--nights", "2", "--bootstrap", "localhost:1",
                     stdout=io.StringIO())
    assert caught.value.returncode == 130


def test_ctrl_c_on_the_real_command(kafka_server):
    """SIGINT while publishing: what was handed to Kafka is flushed, exit status 130, a message."""
    prefix = f"i{uuid.uuid4().hex[:8]}-"
    cmd = [sys.executable, "-m", "desctom.cli", "live_simulate", "--objects", "300", "--nights", "60",
           "--seed", "1", "--bootstrap", kafka_server.bootstrap, "--topic-prefix", prefix]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        for line in proc.stdout:
            if line.startswith("night 1:"):
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted: sent and flushed" in stderr and "Traceback" not in stderr
    sent = int(stderr.split("flushed ")[1].split(" messages")[0].replace(",", ""))
    topics = [f"{prefix}{t}" for t in ("alerts", "FakeBrokerA", "FakeBrokerB")]
    total = sum(_count(kafka_server.bootstrap, topic) for topic in topics)
    assert total == sent, stderr + stdout
    assert 0 < sent < LiveSurveySimulator(300, 60, seed=1).truth().counts["messages"]
