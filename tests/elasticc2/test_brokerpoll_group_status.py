"""Pollers in a consumer group: the `processes` setting and its errors, and one status per stream from
its members' rows (counts summed, members listed, health judged per member and per group)."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command

from desctom.core import config
from desctom.elasticc2.queries.campaign_status import combine_pollers
from desctom.elasticc2.queries.pollerhealth import combine_members, judge_stream, summary_line
from desctom.elasticc2.workers.brokerpoll.streams import StreamConfigError, load_streams
from desctom.elasticc2.workers.brokerpoll.supervisor import BrokerPollSupervisor

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)


def ago(seconds: float) -> datetime.datetime:
    return NOW - datetime.timedelta(seconds=seconds)


def write_config(tmp_path, processes_line: str):
    path = tmp_path / "brokers.toml"
    path.write_text(f'[[brokers]]\nname = "alpha"\ntopics = ["t"]\n{processes_line}\n')
    return path


def test_processes_is_read_per_stream(tmp_path):
    assert load_streams(write_config(tmp_path, "processes = 4"))[0].processes == 4
    assert load_streams(write_config(tmp_path, ""))[0].processes is None  # the environment decides


@pytest.mark.parametrize("value", ["0", "65", "-1", "2.5", '"2"', "true"])
def test_bad_processes_names_the_stream_and_the_value(tmp_path, value):
    with pytest.raises(StreamConfigError) as err:
        load_streams(write_config(tmp_path, f"processes = {value}"))
    text = str(err.value)
    assert "(alpha)" in text and "'processes' must be a whole number from 1 to 64" in text
    assert text.endswith(f"got {load_value(value)!r}")


def load_value(toml_value: str):
    import tomllib

    return tomllib.loads(f"x = {toml_value}")["x"]


def test_the_environment_default(monkeypatch):
    monkeypatch.delenv("DESCTOM_POLL_PROCESSES", raising=False)
    assert config.load().poll_processes == 1
    monkeypatch.setenv("DESCTOM_POLL_PROCESSES", "3")
    assert config.load().poll_processes == 3
    for bad in ("0", "65", "two"):
        monkeypatch.setenv("DESCTOM_POLL_PROCESSES", bad)
        with pytest.raises(config.ConfigError, match="DESCTOM_POLL_PROCESSES"):
            config.load()


@pytest.mark.parametrize("value", ["0", "-2", "65"])
def test_the_command_refuses_a_bad_process_count(value):
    with pytest.raises(CommandError, match=f"--processes must be from 1 to 64, got {value}"):
        call_command("brokerpoll2", "--do-test", "--processes", value)


def test_the_supervisor_runs_one_child_per_member(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCTOM_POLL_PROCESSES", "1")
    path = tmp_path / "brokers.toml"
    path.write_text('[[brokers]]\nname = "a"\ntopics = ["t"]\nprocesses = 3\n'
                    '[[brokers]]\nname = "b"\ntopics = ["u"]\n')
    streams = load_streams(path)
    streams[1].processes = 1
    sup = BrokerPollSupervisor(streams, stall_seconds=60)
    assert [c.label for c in sup.children] == ["a#0", "a#1", "a#2", "b"]


def member(n: int, **values) -> dict:
    row = {"broker": "s", "member": n, "started": ago(3600), "heartbeat": ago(5), "consumed": 100 * (n + 1),
           "stored": 90 * (n + 1), "skipped": n, "quarantined": n, "last_message": ago(10 * (n + 1)),
           "last_progress": ago(10 * (n + 1)), "member_id": f"rdkafka-{n}", "assigned": [f"t[{n}]"],
           "lag": 0, "group_lag": 0, "lag_time": ago(5 + n), "last_error": None, "last_error_time": None}
    return judge_stream({**row, **values}, NOW, stall=120)


def test_members_are_summed_into_one_stream():
    stream = combine_members([member(1, last_error="late", last_error_time=ago(1)),
                              member(0, last_error="early", last_error_time=ago(100))], stall=120)
    counts = (stream["consumed"], stream["stored"], stream["skipped"], stream["quarantined"])
    assert counts == (300, 270, 1, 1)
    assert [m["member"] for m in stream["members"]] == [0, 1] and stream["processes"] == 2
    assert stream["assigned"] == ["t[0]", "t[1]"] and stream["member_id"] == "rdkafka-0, rdkafka-1"
    assert stream["last_message"] == ago(10) and stream["last_error"] == "late"
    assert stream["healthy"] and stream["problems"] == []
    line = summary_line(stream)
    assert "2 members (#0 t[0] lag 0 stored 90 | #1 t[1] lag 0 stored 180)" in line and "stored 270" in line


def test_a_stalled_member_makes_the_stream_unhealthy():
    stuck = member(1, lag=50, group_lag=50, last_progress=ago(300))
    stream = combine_members([member(0, group_lag=50), stuck], stall=120)
    assert not stream["members"][1]["healthy"] and stream["members"][0]["healthy"]
    assert stream["problems"] == ["member 1: stalled: lag 50 and nothing stored for 300 s (limit 120 s)"]


def test_group_lag_that_no_member_reads_is_a_stall():
    # neither member holds the lagging partitions (no own lag), but the group has lag: nobody reads it
    idle = [member(0, group_lag=70, last_progress=ago(500)), member(1, group_lag=70, last_progress=ago(400),
                                                                     lag_time=ago(1))]
    stream = combine_members(idle, stall=120)
    assert all(m["healthy"] for m in stream["members"]) and stream["group_lag"] == 70
    assert stream["problems"] == [
        "stalled: group lag 70 and no member stored anything for 400 s (limit 120 s)"]
    # one member progressing is enough: the lag is being read
    assert combine_members([idle[0], member(1, group_lag=70)], stall=120)["healthy"]


def test_a_single_member_reads_as_before():
    stream = combine_members([member(0, lag=10, group_lag=None, last_progress=ago(121))], stall=120)
    assert stream["lag"] == 10 and stream["problems"] == [
        "stalled: lag 10 and nothing stored for 121 s (limit 120 s)"]


def test_campaign_pollers_are_summed_per_broker():
    rows = [("a", 0, ago(20), 5), ("a", 1, ago(3), 7), ("b", 0, None, None)]
    assert combine_pollers(rows) == [
        {"broker": "a", "heartbeat": ago(3).isoformat(), "stored": 12,
         "members": [{"member": 0, "heartbeat": ago(20).isoformat(), "stored": 5},
                     {"member": 1, "heartbeat": ago(3).isoformat(), "stored": 7}]},
        {"broker": "b", "heartbeat": None, "stored": 0, "members": [{"member": 0, "heartbeat": None,
                                                                      "stored": 0}]}]
