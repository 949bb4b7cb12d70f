"""Is the alert cycle healthy? One judgement for ``/healthz``, ``desctom status`` and the campaign page.

A broker stream (a row of ``elasticc2_brokerpollerstatus``, written by the poller) is unhealthy when

* its heartbeat is older than :data:`HEARTBEAT_STALE_SECONDS` (the poller writes it every ~10 s), or
* it lags (``lag`` > 0) and stored nothing (``last_progress``, else ``started``) for
  ``Config.poll_stall_seconds`` (``DESCTOM_POLL_STALL_SECONDS``, default 120).

Kafka is healthy when one of its bootstrap servers accepts a TCP connection within
:data:`KAFKA_TIMEOUT` seconds (no metadata request: the probe must stay fast).

The functions take a DB-API cursor (Django's or psycopg's) so the web and the CLI share them.
"""

from __future__ import annotations

import datetime
import json
import socket

HEARTBEAT_STALE_SECONDS = 60
KAFKA_TIMEOUT = 0.5

STREAM_COLUMNS = ("broker", "started", "heartbeat", "consumed", "stored", "skipped", "last_message",
                  "last_error", "last_error_time", "quarantined", "last_progress", "member_id", "assigned",
                  "lag", "lag_time")


def stall_seconds() -> int:
    """``Config.poll_stall_seconds`` (``DESCTOM_POLL_STALL_SECONDS``)."""
    from desctom.core import config

    return config.load().poll_stall_seconds


def kafka_reachable(bootstrap: str, timeout: float = KAFKA_TIMEOUT) -> bool:
    """True if one server of ``bootstrap`` (``host:port,...``) accepts a TCP connection."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit():
            continue
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def stream_rows(cursor) -> list[dict]:
    """Every stream's row of ``elasticc2_brokerpollerstatus``, by broker name."""
    cursor.execute(f"SELECT {', '.join(STREAM_COLUMNS)} FROM elasticc2_brokerpollerstatus ORDER BY broker")
    rows = [dict(zip(STREAM_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # Django's cursor hands jsonb over as text
        if isinstance(row["assigned"], str):
            row["assigned"] = json.loads(row["assigned"])
    return rows


def _age(now: datetime.datetime, then: datetime.datetime | None) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)


def judge_stream(row: dict, now: datetime.datetime, stall: int,
                 stale: int = HEARTBEAT_STALE_SECONDS) -> dict:
    """``row`` with ``heartbeat_age``, ``progress_age``, ``healthy`` and ``problems`` (a list of phrases)."""
    problems = []
    heartbeat_age = _age(now, row.get("heartbeat"))
    progress_age = _age(now, row.get("last_progress") or row.get("started"))
    if heartbeat_age is None or heartbeat_age > stale:
        problems.append("no heartbeat" if heartbeat_age is None
                        else f"heartbeat {heartbeat_age:.0f} s old (limit {stale} s)")
    lag = row.get("lag")
    if lag and lag > 0 and (progress_age is None or progress_age > stall):
        since = "ever" if progress_age is None else f"{progress_age:.0f} s"
        problems.append(f"stalled: lag {lag} and nothing stored for {since} (limit {stall} s)")
    return {**row, "quarantined": row.get("quarantined") or 0, "assigned": row.get("assigned") or [],
            "heartbeat_age": heartbeat_age, "progress_age": progress_age,
            "healthy": not problems, "problems": problems}


def judge_streams(cursor, now: datetime.datetime | None = None, stall: int | None = None) -> list[dict]:
    """Every stream, judged (``now``: the database's wall clock unless given; not ``now()``, which is
    the start of the caller's transaction and would make a stall look younger than it is)."""
    if now is None:
        cursor.execute("SELECT clock_timestamp()")
        now = cursor.fetchone()[0]
    stall = stall_seconds() if stall is None else stall
    return [judge_stream(row, now, stall) for row in stream_rows(cursor)]


def jsonable(stream: dict) -> dict:
    """A judged stream with its timestamps as ISO strings (for JSON answers)."""
    return {k: (v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in stream.items()}


def summary_line(stream: dict) -> str:
    """One line for ``desctom status``: member, partitions, lag, last stored, last error, quarantined."""
    member = stream.get("member_id") or "no member"
    parts = ",".join(stream["assigned"]) or "none"
    lag = "?" if stream.get("lag") is None else f"{stream['lag']:,}"
    last = stream.get("last_message")
    last = last.isoformat(timespec="seconds") if isinstance(last, datetime.datetime) else (last or "never")
    error = stream.get("last_error") or "none"
    state = "healthy" if stream["healthy"] else "UNHEALTHY: " + "; ".join(stream["problems"])
    return (f"{stream['broker']}: {state}; member {member}; partitions {parts}; lag {lag}; "
            f"last stored {last}; quarantined {stream['quarantined']:,}; last error {error[:200]}")
