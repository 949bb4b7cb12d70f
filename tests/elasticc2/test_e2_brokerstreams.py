"""Broker stream definitions: files (TOML, YAML), presets, topic selection, secrets."""

import datetime

import pytest

from desctom.elasticc2.workers.brokerpoll.streams import StreamConfigError, load_streams, preset_streams

TOML = '''
[[brokers]]
name = "alerce"
servers = "kafka.example.org:9093"
topic_regex = '^lc_classifier_.*_(\\d{8})$'
topic_dates = [-4, 2]
exclude_topics = ["lc_classifier_balto_20261122"]
group = "elasticc-lbnl"
[brokers.kafka]
"security.protocol" = "SASL_SSL"
[brokers.secrets]
"sasl.username" = { file = "USERFILE" }
"sasl.password" = { env = "TEST_ALERCE_PASSWORD" }

[[brokers]]
name = "fink"
topics = ["fink_elasticc"]
'''


def test_toml_file_with_regex_window_and_secrets(tmp_path, monkeypatch):
    (tmp_path / "user").write_text("alice\n")
    path = tmp_path / "brokers.toml"
    path.write_text(TOML.replace("USERFILE", str(tmp_path / "user")))
    alerce, fink = load_streams(path)
    assert (alerce.name, alerce.group_id, fink.group_id) == ("alerce", "elasticc-lbnl", "desctom-fink")
    today = datetime.date(2026, 11, 24)
    topics = ["lc_classifier_x_20261119", "lc_classifier_x_20261120", "lc_classifier_y_20261126",
              "lc_classifier_y_20261127", "lc_classifier_balto_20261122", "other_20261124",
              "lc_classifier_bad"]
    assert alerce.resolve_topics(topics, today) == ["lc_classifier_x_20261120", "lc_classifier_y_20261126"]
    assert fink.resolve_topics(["a", "fink_elasticc"]) == ["fink_elasticc"]
    assert fink.resolve_topics(["a"]) == []
    monkeypatch.setenv("TEST_ALERCE_PASSWORD", "s3cret")
    assert alerce.client_config() == {"security.protocol": "SASL_SSL", "sasl.username": "alice",
                                      "sasl.password": "s3cret"}


def test_yaml_file(tmp_path):
    path = tmp_path / "brokers.yaml"
    path.write_text("brokers:\n  - name: antares\n    servers: h:9092\n    topics: [elasticc2-2]\n")
    [antares] = load_streams(path)
    assert antares.topics == ["elasticc2-2"] and antares.servers == "h:9092"


@pytest.mark.parametrize("text, message", [
    ("", "non-empty 'brokers' list"),
    ("[[brokers]]\ntopics = ['t']\n", "'name' is required"),
    ("[[brokers]]\nname = 'a'\n", "exactly one of 'topics' or 'topic_regex'"),
    ("[[brokers]]\nname = 'a'\ntopics = ['t']\ntopic_regex = 'x'\n", "exactly one of"),
    ("[[brokers]]\nname = 'a'\ntopic_regex = '('\n", "bad 'topic_regex'"),
    ("[[brokers]]\nname = 'a'\ntopics = ['t']\ntopic_dates = [0, 1]\n", "'topic_dates'"),
    ("[[brokers]]\nname = 'a'\ntopics = ['t']\n[brokers.secrets]\nx = 'plain'\n", "secret x must be"),
    ("[[brokers]]\nname = 'a'\ntopics = ['t']\n[[brokers]]\nname = 'a'\ntopics = ['u']\n", "used twice: a"),
    ("[[brokers]\n", "not valid TOML"),
])
def test_bad_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "b.toml"
    path.write_text(text)
    with pytest.raises(StreamConfigError, match=message):
        load_streams(path)


def test_missing_file_and_unreadable_secret(tmp_path):
    with pytest.raises(StreamConfigError, match="cannot read broker configuration"):
        load_streams(tmp_path / "absent.toml")
    path = tmp_path / "b.toml"
    path.write_text(f"[[brokers]]\nname = 'a'\ntopics = ['t']\n[brokers.secrets]\n"
                    f"'sasl.password' = {{file = '{tmp_path / 'nope'}'}}\n")
    [stream] = load_streams(path)
    with pytest.raises(StreamConfigError, match="cannot read the secret for sasl.password"):
        stream.client_config()


def test_presets_follow_the_reference():
    streams = preset_streams({"do_test": True, "test_topic": "cls", "grouptag": "x", "do_fink": True,
                              "do_alerce": True})
    test, fink, alerce = streams
    assert (test.topics, test.group_id) == (["cls"], "testing-x")
    assert (fink.topics, fink.group_id) == (["fink_elasticc-2022fall"], "elasticc-lbnl-x")
    assert alerce.topic_dates == (-4, 2) and "lc_classifier_balto_20230807" in alerce.exclude_topics
    with pytest.raises(StreamConfigError, match="--brahms-topic"):
        preset_streams({"do_brahms": True})
