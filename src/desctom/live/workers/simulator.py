"""A live Rubin survey for tests, benchmarks and the demo: LSST alerts and DESC ``BrokerMessage``s.

The light curves come from the project's synthetic survey (:mod:`desctom.elasticc2.loaders.synth`):
a survey of ``history_days + nights`` days is simulated and its last ``nights`` nights are "live":
every detection in them becomes an alert (``lsst.v11_0`` / ``lsst.v11_1``) carrying the object's
earlier detections and forced photometry of the previous 365 days, and one or more brokers send a
``BrokerMessage`` (the alert plus a fake classification in the ELAsTiCC2 taxonomy) for it.

The hard cases (each switchable, all on with ``hard_cases=True``) are described in :class:`HardCases`;
:meth:`LiveSurveySimulator.truth` says where they are. See docs/live_survey.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from desctom.elasticc2.loaders.synth.spec import CHUNK, SurveySpec
from desctom.elasticc2.loaders.synth.survey import Generator
from desctom.live.workers.sim_plan import MAX_CHUNKS, TWIN_OFFSET, Plan, make_plan
from desctom.live.workers.sim_records import (
    VersionEncoder,
    broker_suffix,
)
from desctom.live.workers.sim_types import (
    DEFAULT_CLASSIFIERS,
    FakeClassifier,
    HardCases,
    Message,
    PublishResult,
    SimulatorError,
    SimulatorInterrupted,
    Truth,
)
from desctom.survey.lsst_schemas import confluent_frame, schema_id

#: First live night (MJD): one year after the synthetic survey's default start.
DEFAULT_LIVE_START_MJD = 61161
#: LSST sends the previous detections and forced photometry of this many days.
HISTORY_DAYS = 365.0
OLD_VERSION, NEW_VERSION = "lsst.v11_0", "lsst.v11_1"
WIRE_FORMATS = ("confluent", "schemaless")
__all__ = ["DEFAULT_CLASSIFIERS", "DEFAULT_LIVE_START_MJD", "FakeClassifier", "HardCases",
           "LiveSurveySimulator", "Message", "PublishResult", "SimulatorError", "SimulatorInterrupted",
           "Truth", "publish"]


class LiveSurveySimulator:
    """A deterministic live stream of ``objects`` objects over ``nights`` nights (see the module doc).

    ``objects`` counts objects with at least one detection in the live nights (twins not counted).
    ``hard_cases``: ``True`` (:meth:`HardCases.all`), ``False`` (none) or a :class:`HardCases`.
    ``wire``: ``'confluent'`` (schema ids 1100 / 1101) or ``'schemaless'``. ``max_prv_sources`` /
    ``max_prv_forced``: the most recent previous detections / forced sources an alert carries.
    ``alerts``: also send the bare alerts (topic ``{topic_prefix}alerts``); broker messages go to
    ``{topic_prefix}{brokerName}``.
    """

    def __init__(self, objects: int, nights: int, seed: int, *, hard_cases: bool | HardCases = True,
                 classifiers: tuple[FakeClassifier, ...] = DEFAULT_CLASSIFIERS, wire: str = "confluent",
                 max_prv_sources: int = 30, max_prv_forced: int = 100, alerts: bool = True,
                 topic_prefix: str = "sim-", live_start_mjd: int = DEFAULT_LIVE_START_MJD,
                 first_id: int = 1_000_000):
        if not isinstance(objects, int) or objects < 1:
            raise SimulatorError(f"the number of objects must be a positive integer, not {objects!r}")
        if not isinstance(nights, int) or not 1 <= nights <= 3650:
            raise SimulatorError(f"the number of nights must be an integer from 1 to 3650, not {nights!r}")
        if wire not in WIRE_FORMATS:
            raise SimulatorError(f"the wire format must be one of {', '.join(WIRE_FORMATS)}, not {wire!r}")
        if not classifiers:
            raise SimulatorError("at least one classifier is needed")
        if len({c.broker for c in classifiers}) != len(classifiers):
            raise SimulatorError("each fake classifier needs a broker of its own (one topic per broker)")
        if max_prv_sources < 0 or max_prv_forced < 0:
            raise SimulatorError("history sizes cannot be negative")
        cases = {True: HardCases.all(), False: HardCases.none()}.get(hard_cases, hard_cases)
        if cases.schema_change and cases.switch_night is None:
            cases = replace(cases, switch_night=nights // 2)
        self.objects, self.nights, self.seed, self.hard_cases = objects, nights, seed, cases
        self.classifiers, self.wire, self.alerts = tuple(classifiers), wire, alerts
        self.max_prv_sources, self.max_prv_forced = max_prv_sources, max_prv_forced
        self.topic_prefix, self.live_start_mjd = topic_prefix, int(live_start_mjd)
        try:
            self.spec = SurveySpec(CHUNK * MAX_CHUNKS, seed, self.live_start_mjd - HISTORY_DAYS,
                                   HISTORY_DAYS + nights, first_id)
        except ValueError as exc:
            raise SimulatorError(str(exc)) from None
        if first_id + CHUNK * MAX_CHUNKS >= TWIN_OFFSET:
            raise SimulatorError(f"first_id must be below {TWIN_OFFSET - CHUNK * MAX_CHUNKS:,} (twins get "
                                 f"diaObjectId + {TWIN_OFFSET:,})")
        self._plan: Plan | None = None

    # -- topics, plan, truth -------------------------------------------------------------------------

    @property
    def alert_topic(self) -> str:
        return f"{self.topic_prefix}alerts"

    def broker_topic(self, broker: str) -> str:
        return f"{self.topic_prefix}{broker}"

    def topics(self) -> list[str]:
        """Every topic the stream writes to."""
        brokers = [self.broker_topic(c.broker) for c in self.classifiers]
        return ([self.alert_topic] if self.alerts else []) + brokers

    def version_of_night(self, night: int) -> str:
        cases = self.hard_cases
        return OLD_VERSION if cases.schema_change and night < cases.switch_night else NEW_VERSION

    @property
    def plan(self) -> Plan:
        """Everything decided before encoding (which sources, brokers, nights, order); made once."""
        if self._plan is None:
            self._plan = make_plan(self, Generator(self.spec))
        return self._plan

    def truth(self) -> Truth:
        """Where the hard cases are and what a consumer should end up with (no encoding needed)."""
        return self.plan.truth(self)

    # -- messages ------------------------------------------------------------------------------------

    def iter_nights(self) -> Iterator[tuple[int, list[Message]]]:
        """``(night, messages)`` for nights 0 .. nights-1, messages in the order they are sent."""
        plan = self.plan
        encoders: dict[str, VersionEncoder] = {}
        bodies: dict[tuple[str, int], bytes] = {}
        for night in range(self.nights):
            out = []
            for m in plan.emission[night]:
                a = m.alert
                version = self.version_of_night(plan.a_night[a])
                enc = encoders.get(version)
                if enc is None:
                    enc = encoders[version] = self._encoder(plan, version, encoders)
                body = bodies.get((version, a))
                if body is None:
                    body = bodies[(version, a)] = self._alert_body(enc, a)
                sid, oid = int(plan.s_id[plan.a_src[a]]), int(plan.s_obj[plan.a_src[a]])
                if m.classifier is None:
                    topic, broker, ckey, value, pairs = self.alert_topic, None, None, body, None
                else:
                    c = self.classifiers[m.classifier]
                    pairs = plan.classifications(a, m.classifier, c)
                    topic, broker, ckey = self.broker_topic(c.broker), c.broker, c.key
                    value = body + broker_suffix(c.broker, c.classifier, c.version, pairs)
                if self.wire == "confluent":
                    value = confluent_frame(schema_id(version), value)
                out.append(Message(topic, str(oid).encode(), value, "brokermessage" if broker else "alert",
                                   version, sid, oid, broker, ckey, night, int(plan.a_night[a]),
                                   float(plan.s_t[plan.a_src[a]]), m.late, pairs))
            # The bodies of alerts whose messages are all sent are not needed any more.
            for k in [k for k in bodies if plan.last_night[k[1]] <= night]:
                del bodies[k]
            yield night, out

    @staticmethod
    def _encoder(plan: Plan, version: str, others: dict[str, VersionEncoder]) -> VersionEncoder:
        """An encoder for ``version``, sharing the forced sources' bytes with a version that encodes
        them the same way."""
        enc = VersionEncoder(version)
        for other in others.values():
            if other.forced_fields == enc.forced_fields:
                enc.forced = other.forced
        enc.encode_plan(plan)
        return enc

    def messages(self) -> Iterator[Message]:
        """Every message, night after night."""
        for _, batch in self.iter_nights():
            yield from batch

    def _alert_body(self, enc: VersionEncoder, a: int) -> bytes:
        plan = self.plan
        i = int(plan.a_src[a])
        prv, forced = plan.prv_sources(a), plan.prv_forced(a)
        return enc.alert_body(int(plan.s_id[i]), enc.sources[i], enc.sources[prv.start:prv.stop],
                              enc.forced[forced.start:forced.stop], enc.objects[a])


def publish(sim: LiveSurveySimulator, bootstrap: str, *, producer=None,
            progress: Callable[[int, PublishResult], None] | None = None,
            ensure: bool = True) -> PublishResult:
    """Send the whole stream to Kafka at ``bootstrap``, flushing after every night.

    ``progress(night, result)`` is called after each night's flush. Ctrl-C flushes what was handed to
    the producer and raises :class:`SimulatorInterrupted` with the counts of what was sent.
    """
    from desctom.survey.kafka import ensure_topics, make_producer

    if ensure:
        ensure_topics(bootstrap, sim.topics())
    producer = producer or make_producer(bootstrap)
    result = PublishResult()
    started = time.monotonic()
    try:
        for night, batch in sim.iter_nights():
            for m in batch:
                while True:
                    try:
                        producer.produce(m.topic, m.value, key=m.key)
                        break
                    except BufferError:
                        producer.poll(0.5)
                result.messages += 1
                result.bytes += len(m.value)
                if m.kind == "alert":
                    result.alerts += 1
                else:
                    result.brokermessages += 1
                producer.poll(0)
            _flush(producer)
            result.nights = night + 1
            result.seconds = time.monotonic() - started
            if progress:
                progress(night, result)
    except KeyboardInterrupt:
        _flush(producer)
        result.seconds = time.monotonic() - started
        raise SimulatorInterrupted(result) from None
    result.seconds = time.monotonic() - started
    return result


def _flush(producer) -> None:
    left = producer.flush(60)
    if left:
        raise RuntimeError(f"{left} messages could not be delivered to Kafka within 60 s")
