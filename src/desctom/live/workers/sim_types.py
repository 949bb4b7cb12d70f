"""The data types of the live-survey simulator: its configuration (:class:`FakeClassifier`,
:class:`HardCases`), what it sends (:class:`Message`), the truth about the stream (:class:`Truth`)
and what :func:`~desctom.live.workers.simulator.publish` reports."""

from __future__ import annotations

from dataclasses import dataclass, field


class SimulatorError(ValueError):
    """A simulator that cannot be made as asked; the text says why."""


@dataclass(frozen=True)
class FakeClassifier:
    """One classifier on one broker: its names and how often its top class is the true one. Its
    messages go to the topic ``{topic_prefix}{broker}``."""

    broker: str
    classifier: str
    version: str
    accuracy: float = 0.7

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.broker, self.classifier, self.version)


DEFAULT_CLASSIFIERS = (FakeClassifier("FakeBrokerA", "SharpLeaf", "1.0", 0.8),
                       FakeClassifier("FakeBrokerB", "BroadGuess", "0.3", 0.5))


@dataclass(frozen=True)
class HardCases:
    """Which hard cases the stream has, and how much of each.

    * ``twins``: a fraction of the objects (with at least two live detections) also appears under a
      second diaObjectId at a position 0.05-0.2 arcsec away, which takes some of its detections;
    * ``multi_broker``: a fraction of the alerts gets a BrokerMessage from every classifier (the
      others from one);
    * ``out_of_order`` / ``late``: a fraction of the messages of a night is sent after later ones / in
      the next night (on the last night: at its end);
    * ``schema_change``: alerts of nights before ``switch_night`` (default: the middle night) are
      ``lsst.v11_0``, the rest ``lsst.v11_1``.
    """

    twins: float = 0.0
    multi_broker: float = 0.0
    out_of_order: float = 0.0
    late: float = 0.0
    schema_change: bool = False
    switch_night: int | None = None

    @classmethod
    def all(cls) -> HardCases:
        return cls(twins=0.1, multi_broker=0.3, out_of_order=0.05, late=0.02, schema_change=True)

    @classmethod
    def none(cls) -> HardCases:
        return cls()


@dataclass
class Message:
    """One Kafka message as the simulator sends it."""

    topic: str
    key: bytes
    value: bytes
    kind: str                  # 'alert' | 'brokermessage'
    schema_version: str        # 'lsst.v11_0' | 'lsst.v11_1'
    diasource_id: int
    diaobject_id: int
    broker: str | None         # None for alerts
    classifier: tuple[str, str, str] | None   # (brokerName, classifierName, classifierVersion)
    night: int                 # the night it is sent in (0 .. nights - 1)
    obs_night: int             # the night of the detection
    mjd: float                 # the detection's midpointMjdTai
    late: bool = False         # sent a night after its detection
    classifications: list[tuple[int, float]] | None = None


@dataclass
class Truth:
    """What a consumer of the stream should end up with (see :meth:`LiveSurveySimulator.truth`)."""

    same_source: list[tuple[int, int]]                 # (diaObjectId, its twin's diaObjectId)
    diaobject_ids: set[int]                            # every diaObjectId of an alert's diaSource
    diasource_ids: set[int]                            # every diaSource sent as an alert
    prv_diasource_ids: set[int]                        # every diaSource in some prvDiaSources
    forced_source_ids: set[int]                        # every diaForcedSource in some prvDiaForcedSources
    messages_by_classifier: dict[tuple[str, str, str], list[int]]   # classifier -> diaSourceIds, in order
    multi_broker_sources: set[int]                     # diaSources with messages from >= 2 classifiers
    late: list[tuple[int, str | None]]                 # (diaSourceId, broker or None for the alert)
    out_of_order: int                                  # messages sent after a message of a later detection
    versions: dict[int, str]                           # detection night -> its alerts' schema version
    physical_source: dict[int, int]                    # diaObjectId -> the diaObjectId of its source
    source_object: dict[int, int]                      # diaSourceId (alert or prv) -> diaObjectId
    true_class: dict[int, int]                         # diaObjectId -> ELAsTiCC2 leaf classId
    gentype: dict[int, int]                            # diaObjectId -> SNANA gentype
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class PublishResult:
    """What :func:`publish` sent."""

    messages: int = 0
    alerts: int = 0
    brokermessages: int = 0
    nights: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.messages / max(self.seconds, 1e-9)


class SimulatorInterrupted(Exception):
    """Ctrl-C during :func:`publish`; ``result`` counts what was sent (and flushed)."""

    def __init__(self, result: PublishResult):
        super().__init__(f"interrupted after {result.messages:,} messages")
        self.result = result
