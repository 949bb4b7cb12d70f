"""PostgreSQL settings sized to the node: the computation, the DESCTOM_PG_* overrides, a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desctom.localstack.pgsizing import SMALL, compute, node_settings
from desctom.localstack.procs import StackError
from desctom.testing.services import ThrowawayPostgres

GIB = 1024 ** 3
DESCTOM = str(Path(sys.executable).parent / "desctom")


def test_settings_follow_ram_and_cpus():
    node = compute(24 * GIB, 2)
    assert node["shared_buffers"] == "6GB"  # a quarter of RAM
    assert node["effective_cache_size"] == "18GB"  # three quarters
    assert node["work_mem"] == "30MB"  # a quarter of RAM over 200 connections
    assert node["maintenance_work_mem"] == "1536MB"
    assert node["max_wal_size"] == "12GB"
    assert (node["wal_compression"], node["checkpoint_timeout"]) == ("lz4", "15min")
    assert (node["max_parallel_workers"], node["max_parallel_workers_per_gather"]) == ("2", "1")

    small = compute(1 * GIB, 1)  # floors
    assert (small["shared_buffers"], small["work_mem"], small["maintenance_work_mem"]) == (
        "256MB", "4MB", "64MB")
    assert small["max_wal_size"] == "2GB"
    big = compute(1024 * GIB, 64)  # caps
    assert (big["shared_buffers"], big["work_mem"], big["maintenance_work_mem"], big["max_wal_size"]) == (
        "16GB", "256MB", "2GB", "16GB")
    assert (big["max_parallel_workers"], big["max_parallel_workers_per_gather"],
            big["max_worker_processes"]) == ("64", "4", "64")


def test_environment_overrides_the_computed_values():
    env = {"DESCTOM_PG_SHARED_BUFFERS": "2 gb", "DESCTOM_PG_WORK_MEM": "64MB",
           "DESCTOM_PG_CHECKPOINT_TIMEOUT": "30min", "DESCTOM_PG_WAL_COMPRESSION": "OFF",
           "DESCTOM_PG_MAX_PARALLEL_WORKERS": "1", "DESCTOM_PG_EFFECTIVE_CACHE_SIZE": ""}
    got = node_settings(env, ram_bytes=24 * GIB, cpus=2)
    assert {k: got[k] for k in ("shared_buffers", "work_mem", "checkpoint_timeout", "wal_compression",
                                "max_parallel_workers", "effective_cache_size")} == {
        "shared_buffers": "2GB", "work_mem": "64MB", "checkpoint_timeout": "30min", "wal_compression": "off",
        "max_parallel_workers": "1", "effective_cache_size": "18GB"}  # empty = computed


@pytest.mark.parametrize(("var", "value", "message"), [
    ("DESCTOM_PG_SHARED_BUFFERS", "lots", "DESCTOM_PG_SHARED_BUFFERS='lots': not a memory size"),
    ("DESCTOM_PG_SHARED_BUFFERS", "4096", "give a whole number and a unit"),
    ("DESCTOM_PG_WORK_MEM", "100GB", "larger than this machine's RAM (24GB)"),
    ("DESCTOM_PG_MAINTENANCE_WORK_MEM", "1kB", "too small"),
    ("DESCTOM_PG_CHECKPOINT_TIMEOUT", "5", "not a duration"),
    ("DESCTOM_PG_CHECKPOINT_TIMEOUT", "2s", "between 30s and 1d"),
    ("DESCTOM_PG_WAL_COMPRESSION", "fast", "must be one of off, on, pglz, lz4, zstd"),
    ("DESCTOM_PG_MAX_PARALLEL_WORKERS", "-1", "whole number from 0 to 1024"),
    ("DESCTOM_PG_MAX_PARALLEL_WORKERS", "20", "more than max_worker_processes (8)"),
])
def test_bad_environment_values_are_refused_by_name(var, value, message):
    with pytest.raises(StackError) as err:
        node_settings({var: value}, ram_bytes=24 * GIB, cpus=2)
    assert message in str(err.value)


def test_started_cluster_runs_with_the_node_settings(monkeypatch):
    monkeypatch.setenv("DESCTOM_PG_WORK_MEM", "48MB")
    expected = node_settings()
    assert expected["work_mem"] == "48MB"
    pg = ThrowawayPostgres()
    pg.sizing = "node"
    try:
        pg.init()
        shown = pg.running_settings()
        assert shown == {name: expected[name] for name in shown}
        assert shown["shared_buffers"] == expected["shared_buffers"] and len(shown) == 10
    finally:
        pg.destroy()


def test_test_clusters_stay_small(pg_server):
    assert pg_server.sizing == "small"
    shown = pg_server.running_settings()
    assert shown["shared_buffers"] == SMALL["shared_buffers"]


def test_status_shows_the_running_settings(stack_env, monkeypatch):
    """``desctom status`` (and ``--json``) asks the running embedded cluster for its settings."""
    env = {**stack_env, "DESCTOM_PG_SHARED_BUFFERS": "160MB"}
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from desctom.core.config import load
    from desctom.localstack.stack import SystemStack

    pg = SystemStack(load()).postgres  # the cluster `desctom up` would start

    def status(*args):
        return subprocess.run([DESCTOM, "status", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    try:
        pg.init()
        data = json.loads(status("--json").stdout)
        settings = data["components"]["postgres"]["settings"]
        assert settings["shared_buffers"] == "160MB"
        assert settings["effective_cache_size"] == node_settings()["effective_cache_size"]
        assert "postgres settings  shared_buffers=160MB, effective_cache_size=" in status().stdout
    finally:
        pg.stop()
    assert json.loads(status("--json").stdout)["components"]["postgres"]["settings"] is None


def test_up_with_a_bad_value_exits_with_one_line(stack_env):
    stack_env["DESCTOM_PG_SHARED_BUFFERS"] = "half"
    res = subprocess.run([DESCTOM, "up"], env=stack_env, capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    message = res.stderr.strip()
    assert "\n" not in message and "Traceback" not in res.stderr + res.stdout
    assert "DESCTOM_PG_SHARED_BUFFERS='half': not a memory size" in message
