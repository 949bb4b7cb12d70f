"""What the poller writes besides the messages: the quarantine and its status row.

Both writes happen in the caller's transaction (the batch's), so a quarantined message and the
offsets committed after it go together; a re-read after a crash inserts nothing twice
(``ON CONFLICT DO NOTHING`` on topic/partition/offset/broker).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg

from desctom.elasticc2.models.messagerules import MAX_MS, MIN_MS

#: Longest error text kept per quarantined message.
MAX_ERROR_CHARS = 2000


@dataclass
class Rejected:
    """One message that goes to the quarantine instead of ``elasticc2_brokermessage``."""

    topic: str
    partition: int
    offset: int
    header_ms: int | None
    error: str
    payload: bytes


def clean_text(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` storable in a PostgreSQL text column (no NUL), at most ``limit`` characters."""
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def quarantine(conn: psycopg.Connection, broker: str, rejected: list[Rejected]) -> int:
    """Insert ``rejected`` into ``elasticc2_brokermessagequarantine``; the number newly inserted."""
    if not rejected:
        return 0
    hdr = [r.header_ms if r.header_ms is not None and MIN_MS <= r.header_ms < MAX_MS else None
           for r in rejected]
    with conn.cursor() as cur:
        cur.execute("""
            INSERT INTO elasticc2_brokermessagequarantine
                (broker, topicname, kafkapartition, kafkaoffset, msghdrtimestamp, error, payload)
            SELECT %s, t, p, o, to_timestamp(ms / 1000.0), e, b
            FROM unnest(%s::text[], %s::integer[], %s::bigint[], %s::bigint[], %s::text[], %s::bytea[])
                AS x(t, p, o, ms, e, b)
            ON CONFLICT DO NOTHING""",
                    (broker, [r.topic for r in rejected], [r.partition for r in rejected],
                     [r.offset for r in rejected], hdr, [clean_text(r.error) for r in rejected],
                     [r.payload for r in rejected]))
        return cur.rowcount


@dataclass
class Health:
    """Kafka-side facts of one consumer, written with its status row."""

    member_id: str | None = None
    assigned: list[str] | None = None
    lag: int | None = None  # over this member's assigned partitions
    group_lag: int | None = None  # over every partition of the stream's topics
    lag_time: float | None = None  # epoch seconds of the lag measurement
    last_progress: float | None = None  # epoch seconds of the last stored or quarantined message
    last_error: str | None = None
    last_error_time: float | None = None


def write_status(conn: psycopg.Connection, broker: str, runtime: float, counts, latest_ms: int | None,
                 health: Health, member: int = 0) -> None:
    """Upsert the row of ``broker``'s poller ``member`` in ``elasticc2_brokerpollerstatus`` (in the
    caller's transaction)."""
    if latest_ms is not None and not MIN_MS <= latest_ms < MAX_MS:
        latest_ms = None
    with conn.cursor() as cur:
        cur.execute("""
            INSERT INTO elasticc2_brokerpollerstatus
                (broker, member, started, heartbeat, consumed, stored, skipped, quarantined, last_message,
                 member_id, assigned, lag, group_lag, lag_time, last_progress, last_error, last_error_time)
            VALUES (%(b)s, %(index)s, now() - make_interval(secs => %(run)s), now(), %(c)s, %(s)s,
                    %(k)s, %(q)s, to_timestamp(%(ms)s / 1000.0), %(member)s, %(assigned)s::jsonb, %(lag)s,
                    %(group_lag)s,
                    to_timestamp(%(lag_time)s), to_timestamp(%(progress)s), %(err)s,
                    to_timestamp(%(err_time)s))
            ON CONFLICT (broker, member) DO UPDATE SET
                started = EXCLUDED.started, heartbeat = now(), consumed = EXCLUDED.consumed,
                stored = EXCLUDED.stored, skipped = EXCLUDED.skipped, quarantined = EXCLUDED.quarantined,
                last_message = COALESCE(EXCLUDED.last_message, elasticc2_brokerpollerstatus.last_message),
                member_id = EXCLUDED.member_id, assigned = EXCLUDED.assigned, lag = EXCLUDED.lag,
                group_lag = EXCLUDED.group_lag, lag_time = EXCLUDED.lag_time,
                last_progress = COALESCE(EXCLUDED.last_progress, elasticc2_brokerpollerstatus.last_progress),
                last_error = EXCLUDED.last_error, last_error_time = EXCLUDED.last_error_time
            """, {"b": broker, "run": runtime, "c": counts.consumed, "s": counts.stored,
                  "k": counts.skipped, "q": counts.quarantined, "ms": latest_ms,
                  "member": health.member_id or None,
                  "assigned": None if health.assigned is None else json.dumps(health.assigned),
                  "lag": health.lag, "group_lag": health.group_lag, "index": member,
                  "lag_time": health.lag_time, "progress": health.last_progress,
                  "err": None if health.last_error is None else clean_text(health.last_error),
                  "err_time": health.last_error_time})


def forget_members(conn: psycopg.Connection, broker: str, processes: int) -> int:
    """Delete the status rows of ``broker``'s members ``processes`` and above (a smaller group now)."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM elasticc2_brokerpollerstatus WHERE broker = %s AND member >= %s",
                    (broker, processes))
        return cur.rowcount
