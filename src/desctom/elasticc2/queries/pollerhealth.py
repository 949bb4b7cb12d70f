"""Is the alert cycle healthy? One judgement for ``/healthz``, ``desctom status`` and the campaign page.

A broker stream runs one or more poller processes (members 0..N-1 of its consumer group); each
writes its own row of ``elasticc2_brokerpollerstatus``. A member is unhealthy when

* its heartbeat is older than :data:`HEARTBEAT_STALE_SECONDS` (the poller writes it every ~10 s), or
* its own partitions lag (``lag`` > 0) and it stored nothing (``last_progress``, else ``started``)
  for ``Config.poll_stall_seconds`` (``DESCTOM_POLL_STALL_SECONDS``, default 120).

A stream (:func:`combine_members`: counts summed, members listed) is unhealthy when one of its
members is, or when the group lags (``group_lag`` > 0) and no member stored anything for that long
(partitions nobody reads).

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
                  "lag", "lag_time", "member", "group_lag")
#: Counts summed over a stream's members.
SUMMED = ("consumed", "stored", "skipped", "quarantined")


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
    """Every member's row of ``elasticc2_brokerpollerstatus``, by broker name and member."""
    cursor.execute(f"SELECT {', '.join(STREAM_COLUMNS)} FROM elasticc2_brokerpollerstatus "
                   "ORDER BY broker, member")
    rows = [dict(zip(STREAM_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # Django's cursor hands jsonb over as text
        if isinstance(row["assigned"], str):
            row["assigned"] = json.loads(row["assigned"])
    return rows


def _age(now: datetime.datetime, then: datetime.datetime | None) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)


def judge_stream(row: dict, now: datetime.datetime, stall: int,
                 stale: int = HEARTBEAT_STALE_SECONDS) -> dict:
    """One member's ``row`` with ``heartbeat_age``, ``progress_age``, ``healthy`` and ``problems``."""
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


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _latest(values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def combine_members(members: list[dict], stall: int) -> dict:
    """One stream from its judged ``members`` (:func:`judge_stream`, one broker): counts summed,
    ``assigned`` joined, the latest times and error, ``group_lag``, and the members themselves."""
    members = sorted(members, key=lambda m: m.get("member") or 0)
    first = members[0]
    stream = {"broker": first["broker"], "members": members, "processes": len(members)}
    for key in SUMMED:
        stream[key] = sum(m.get(key) or 0 for m in members)
    for key in ("heartbeat", "last_message", "last_progress", "lag_time"):
        stream[key] = _latest(m.get(key) for m in members)
    stream["started"] = min((m["started"] for m in members if m.get("started")), default=None)
    errored = [m for m in members if m.get("last_error")]
    last = max(errored, key=lambda m: m.get("last_error_time") or _EPOCH) if errored else {}
    stream["last_error"], stream["last_error_time"] = last.get("last_error"), last.get("last_error_time")
    stream["assigned"] = sorted(p for m in members for p in m["assigned"])
    stream["member_id"] = ", ".join(m["member_id"] for m in members if m.get("member_id")) or None
    lags = [m.get("lag") for m in members]
    own = None if all(v is None for v in lags) else sum(v or 0 for v in lags)
    # the newest measurement of the whole group (rows of older pollers lack it: their own lag then)
    measured = [m for m in members if m.get("group_lag") is not None]
    newest = max(measured, key=lambda m: m.get("lag_time") or m.get("heartbeat") or _EPOCH, default=None)
    stream["group_lag"] = own if newest is None else newest["group_lag"]
    stream["lag"] = stream["group_lag"]  # what waits for the stream; each member keeps its own lag
    stream["heartbeat_age"] = min((m["heartbeat_age"] for m in members if m["heartbeat_age"] is not None),
                                  default=None)
    stream["progress_age"] = min((m["progress_age"] for m in members if m["progress_age"] is not None),
                                 default=None)
    single = len(members) == 1
    problems = [p if single else f"member {m.get('member') or 0}: {p}"
                for m in members for p in m["problems"]]
    group_lag, age = stream["group_lag"], stream["progress_age"]
    stalled = group_lag and group_lag > 0 and (age is None or age > stall)
    if stalled and not any("stalled" in p for p in problems):
        since = "ever" if age is None else f"{age:.0f} s"
        problems.append(f"stalled: group lag {group_lag} and no member stored anything for {since} "
                        f"(limit {stall} s)")
    stream["problems"], stream["healthy"] = problems, not problems
    return stream


def judge_streams(cursor, now: datetime.datetime | None = None, stall: int | None = None) -> list[dict]:
    """Every stream, its members judged and combined (``now``: the database's wall clock unless given;
    not ``now()``, which is the start of the caller's transaction and would make a stall look younger)."""
    if now is None:
        cursor.execute("SELECT clock_timestamp()")
        now = cursor.fetchone()[0]
    stall = stall_seconds() if stall is None else stall
    by_broker: dict[str, list[dict]] = {}
    for row in stream_rows(cursor):
        by_broker.setdefault(row["broker"], []).append(judge_stream(row, now, stall))
    return [combine_members(members, stall) for members in by_broker.values()]


def jsonable(stream: dict) -> dict:
    """A judged stream (and its members) with timestamps as ISO strings (for JSON answers)."""
    return {k: ([jsonable(m) for m in v] if k == "members" else
                v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in stream.items()}


def summary_line(stream: dict) -> str:
    """One line for ``desctom status``: member, partitions, lag, last stored, last error, quarantined."""
    member = stream.get("member_id") or "no member"
    parts = ",".join(stream["assigned"]) or "none"
    lag = "?" if stream.get("lag") is None else f"{stream['lag']:,}"
    last = stream.get("last_message")
    last = last.isoformat(timespec="seconds") if isinstance(last, datetime.datetime) else (last or "never")
    error = stream.get("last_error") or "none"
    state = "healthy" if stream["healthy"] else "UNHEALTHY: " + "; ".join(stream["problems"])
    if stream.get("processes", 1) > 1:
        group = "?" if stream.get("group_lag") is None else f"{stream['group_lag']:,}"
        members = " | ".join(
            f"#{m.get('member') or 0} {','.join(m['assigned']) or 'none'} lag "
            f"{'?' if m.get('lag') is None else format(m['lag'], ',')} stored {m.get('stored') or 0:,}"
            for m in stream["members"])
        return (f"{stream['broker']}: {state}; {stream['processes']} members ({members}); group lag {group}; "
                f"stored {stream['stored']:,}; last stored {last}; quarantined {stream['quarantined']:,}; "
                f"last error {error[:200]}")
    return (f"{stream['broker']}: {state}; member {member}; partitions {parts}; lag {lag}; "
            f"last stored {last}; quarantined {stream['quarantined']:,}; last error {error[:200]}")
