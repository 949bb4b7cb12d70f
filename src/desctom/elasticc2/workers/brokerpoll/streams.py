"""Broker stream definitions: a TOML or YAML file, or the reference's built-in presets.

File format (TOML shown; YAML has the same structure under a top-level ``brokers`` list)::

    [[brokers]]
    name = "alerce"                                  # required, unique
    servers = "kafka.alerce.science:9093"            # default: the system's own Kafka
    topic_regex = '^lc_classifier_.*_(\\d{8})$'       # or: topics = ["a", "b"]
    topic_dates = [-4, 2]                            # only dated topics within today-4 .. today+2
    exclude_topics = ["lc_classifier_balto_20230807"]
    group = "elasticc-lbnl"                          # consumer group (default "desctom-<name>")
    processes = 2                                    # members of that group (1..64; default
                                                     # $DESCTOM_POLL_PROCESSES, else 1)
    format = "elasticc2"                             # elasticc2 (default), lsst-alert or
                                                     # desc-brokermessage (the live Rubin stream)
    wire = "auto"                                    # live streams: auto, schemaless or confluent
    schema = "lsst.v11_1"                            # live streams: the alert schema of schemaless
                                                     # messages (default: lsst.v11_1)
    schema_registry = "https://registry.example"     # live streams: schema ids looked up there
                                                     # (default: Rubin's numbering, lsst-alert-packet)
    adapter = "mypackage.adapters:MyBroker"          # live streams: a broker whose format differs
    [brokers.kafka]                                  # any librdkafka setting
    "security.protocol" = "SASL_SSL"
    "sasl.mechanism" = "SCRAM-SHA-512"
    [brokers.secrets]                                # librdkafka settings read at start-up
    "sasl.username" = { file = "/secrets/alerce_username" }
    "sasl.password" = { env = "ALERCE_PASSWORD" }

Secrets never appear in the file itself, in logs or in error messages.
"""

from __future__ import annotations

import datetime
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

_KEYS = {"name", "servers", "topics", "topic_regex", "topic_dates", "exclude_topics", "group", "kafka",
         "secrets", "processes", "format", "wire", "schema", "schema_registry", "adapter"}
#: Stream formats: the ELAsTiCC2 classifications, or the live Rubin stream's messages.
FORMATS = ("elasticc2", "lsst-alert", "desc-brokermessage")
#: The consumer class of each format (imported when a poller process starts).
CONSUMERS = {"elasticc2": "desctom.elasticc2.workers.brokerpoll.consumer:BrokerStreamConsumer",
             "lsst-alert": "desctom.live.workers.poller:LiveStreamConsumer",
             "desc-brokermessage": "desctom.live.workers.poller:LiveStreamConsumer"}
#: Most poller processes (consumer-group members) one stream may run.
MAX_PROCESSES = 64


class StreamConfigError(ValueError):
    """A broker stream definition that cannot be used; the text says what and where."""


@dataclass
class BrokerStream:
    """One broker's classification stream."""

    name: str
    servers: str | None = None
    topics: list[str] = field(default_factory=list)
    topic_regex: str | None = None
    topic_dates: tuple[int, int] | None = None
    exclude_topics: list[str] = field(default_factory=list)
    group: str | None = None
    kafka: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    #: Poller processes (members of the one consumer group); None: ``DESCTOM_POLL_PROCESSES``.
    processes: int | None = None
    #: What the messages are (:data:`FORMATS`); the live formats read the keys below.
    format: str = "elasticc2"
    wire: str = "auto"
    schema: str | None = None
    schema_registry: str | None = None
    adapter: str | None = None

    @property
    def is_live(self) -> bool:
        """Whether this stream feeds the live survey (LSST alerts or DESC BrokerMessages)."""
        return self.format != "elasticc2"

    def consumer_class(self):
        """The class that consumes this stream (:data:`CONSUMERS`)."""
        import importlib

        module, name = CONSUMERS[self.format].split(":")
        return getattr(importlib.import_module(module), name)

    @property
    def group_id(self) -> str:
        return self.group or f"desctom-{self.name}"

    def resolve_topics(self, available: list[str], today: datetime.date | None = None) -> list[str]:
        """The topics to subscribe to among ``available`` (explicit topics only if they exist)."""
        if self.topics:
            return sorted(t for t in self.topics if t in available and t not in self.exclude_topics)
        pattern = re.compile(self.topic_regex)
        today = today or datetime.datetime.now(datetime.UTC).date()
        chosen = []
        for topic in available:
            match = pattern.search(topic)
            if not match or topic in self.exclude_topics:
                continue
            if self.topic_dates is not None:
                try:
                    day = datetime.datetime.strptime(match.group(1), "%Y%m%d").date()
                except (IndexError, ValueError):
                    continue
                if not (self.topic_dates[0] <= (day - today).days <= self.topic_dates[1]):
                    continue
            chosen.append(topic)
        return sorted(chosen)

    def client_config(self) -> dict:
        """librdkafka settings: the stream's own plus its secrets, read now."""
        conf = dict(self.kafka)
        for key, source in self.secrets.items():
            if "file" in source:
                path = Path(source["file"])
                try:
                    conf[key] = path.read_text().strip()
                except OSError as exc:
                    raise StreamConfigError(f"broker {self.name}: cannot read the secret for {key} from "
                                            f"{path}: {exc.strerror}") from None
            else:
                value = os.environ.get(source["env"])
                if value is None:
                    raise StreamConfigError(f"broker {self.name}: environment variable {source['env']} "
                                            f"(secret for {key}) is not set")
                conf[key] = value
        return conf


def _stream_from_dict(entry: dict, where: str) -> BrokerStream:
    if not isinstance(entry, dict):
        raise StreamConfigError(f"{where}: each broker must be a table/mapping")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise StreamConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                                f"(allowed: {', '.join(sorted(_KEYS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name or ""):
        raise StreamConfigError(f"{where}: 'name' is required (letters, digits, _ . -)")
    where = f"{where} ({name})"
    topics = entry.get("topics", [])
    if isinstance(topics, str):
        topics = [topics]
    regex = entry.get("topic_regex")
    if bool(topics) == bool(regex):
        raise StreamConfigError(f"{where}: give exactly one of 'topics' or 'topic_regex'")
    if not all(isinstance(t, str) and t for t in topics):
        raise StreamConfigError(f"{where}: 'topics' must be a list of topic names")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            raise StreamConfigError(f"{where}: bad 'topic_regex': {exc}") from None
    dates = entry.get("topic_dates")
    if dates is not None:
        if regex is None or not (isinstance(dates, list) and len(dates) == 2
                                 and all(isinstance(d, int) for d in dates) and dates[0] <= dates[1]):
            raise StreamConfigError(f"{where}: 'topic_dates' is [first, last] days relative to today and "
                                    "needs a 'topic_regex' whose first group is the YYYYMMDD date")
        dates = (dates[0], dates[1])
    for key in ("kafka", "secrets"):
        if not isinstance(entry.get(key, {}), dict):
            raise StreamConfigError(f"{where}: '{key}' must be a table/mapping")
    secrets = entry.get("secrets", {})
    for key, source in secrets.items():
        if not (isinstance(source, dict) and len(source) == 1 and set(source) <= {"file", "env"}):
            raise StreamConfigError(f"{where}: secret {key} must be {{file = PATH}} or {{env = NAME}}")
    processes = entry.get("processes")
    if processes is not None:
        check_processes(processes, where)
    for key in ("servers", "group", "schema", "schema_registry", "adapter"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise StreamConfigError(f"{where}: '{key}' must be a string")
    fmt = entry.get("format", "elasticc2")
    if fmt not in FORMATS:
        raise StreamConfigError(f"{where}: unknown 'format' {fmt!r} (allowed: {', '.join(FORMATS)})")
    wire = entry.get("wire", "auto")
    if wire not in ("auto", "schemaless", "confluent"):
        raise StreamConfigError(f"{where}: unknown 'wire' {wire!r} (allowed: auto, schemaless, confluent)")
    live_only = [k for k in ("wire", "schema", "schema_registry", "adapter") if k in entry]
    if fmt == "elasticc2" and live_only:
        raise StreamConfigError(f"{where}: {', '.join(live_only)} only apply to the live formats "
                                "(format = \"lsst-alert\" or \"desc-brokermessage\")")
    if entry.get("schema") is not None:
        from desctom.survey.lsst_schemas import SchemaError, parse_version

        try:
            parse_version(entry["schema"])
        except SchemaError as exc:
            raise StreamConfigError(f"{where}: {exc}") from None
    if entry.get("adapter") is not None and not re.fullmatch(r"[\w.]+:\w+", entry["adapter"]):
        raise StreamConfigError(f"{where}: 'adapter' must be 'package.module:ClassName'")
    return BrokerStream(name=name, servers=entry.get("servers"), topics=list(topics), topic_regex=regex,
                        topic_dates=dates, exclude_topics=list(entry.get("exclude_topics", [])),
                        group=entry.get("group"), kafka={k: v for k, v in entry.get("kafka", {}).items()},
                        secrets=secrets, processes=processes, format=fmt, wire=wire,
                        schema=entry.get("schema"), schema_registry=entry.get("schema_registry"),
                        adapter=entry.get("adapter"))


def check_processes(value, where: str) -> int:
    """``value`` if it is a whole number of poller processes (1..64), else :class:`StreamConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PROCESSES:
        raise StreamConfigError(f"{where}: 'processes' must be a whole number from 1 to {MAX_PROCESSES}, "
                                f"got {value!r}")
    return value


def load_streams(path: str | Path) -> list[BrokerStream]:
    """The broker streams defined in a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise StreamConfigError(f"cannot read broker configuration {path}: {exc.strerror}") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # the parsers' own messages name line and column
        raise StreamConfigError(f"{path}: not valid {'YAML' if path.suffix != '.toml' else 'TOML'}: "
                                f"{exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("brokers"), list) or not data["brokers"]:
        raise StreamConfigError(f"{path}: expected a non-empty 'brokers' list")
    streams = [_stream_from_dict(e, f"{path}: brokers[{i}]") for i, e in enumerate(data["brokers"])]
    names = [s.name for s in streams]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise StreamConfigError(f"{path}: broker name(s) used twice: {', '.join(duplicated)}")
    return streams


def preset_streams(options: dict) -> list[BrokerStream]:
    """The reference's ``--do-<broker>`` streams (§3.3), with secrets from /secrets files as there."""
    tag = f"-{options['grouptag']}" if options.get("grouptag") else ""
    streams = []
    if options.get("do_test"):
        streams.append(BrokerStream("test", servers=options.get("test_server"),
                                    topics=[options.get("test_topic") or "classifications"],
                                    group=f"testing{tag}"))
    if options.get("do_brahms"):
        if not options.get("brahms_topic"):
            raise StreamConfigError("--do-brahms needs --brahms-topic")
        streams.append(BrokerStream("brahms", servers="brahms.lbl.gov:9092", topics=[options["brahms_topic"]],
                                    group=f"elasticc-lbnl{tag}"))
    if options.get("do_antares"):
        streams.append(BrokerStream(
            "antares", servers="kafka.antares.noirlab.edu:9092",
            topics=[options.get("antares_topic") or "elasticc2-st1-ddf-full"], group=f"elasticc-lbnl{tag}",
            kafka={"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"},
            secrets={"sasl.username": {"file": "/secrets/antares_username"},
                     "sasl.password": {"file": "/secrets/antares_passwd"}}))
    if options.get("do_fink"):
        streams.append(BrokerStream("fink", servers="134.158.74.95:24499",
                                    topics=[options.get("fink_topic") or "fink_elasticc-2022fall"],
                                    group=f"elasticc-lbnl{tag}"))
    if options.get("do_alerce"):
        streams.append(BrokerStream(
            "alerce", servers=os.environ.get("ALERCE_KAFKA_SERVER", "kafka.alerce.science:9093"),
            topic_regex=options.get("alerce_topic_pattern") or r"^lc_classifier_.*_(\d{4}\d{2}\d{2})$",
            topic_dates=(int(os.environ.get("ALERCE_TOPIC_RELDATEOFFSET", "-4")), 2),
            exclude_topics=["lc_classifier_balto_20230807"], group=f"elasticc-lbnl{tag}",
            kafka={"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512"},
            secrets={"sasl.username": {"file": "/secrets/alerce_username"},
                     "sasl.password": {"file": "/secrets/alerce_passwd"}}))
    if options.get("do_pitt"):
        raise StreamConfigError("Pitt-Google delivers over Google Pub/Sub, which this TOM does not read; "
                                "Pitt-Google can push classifications with PUT /elasticc2/brokermessage/")
    return streams
