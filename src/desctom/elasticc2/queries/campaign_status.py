"""The campaign's state for ``desctom status``: simulation clock, last-hour rates, sizes and pollers.

Django-free: the CLI calls it on its own psycopg connection (it may run without Django settings).
"""

from __future__ import annotations

from desctom.elasticc2.queries.clock import read_clock
from desctom.survey.mjd import mjd_to_date

#: The status line counts the last hour's broker messages up to this many (an exact count at
#: thousands of messages a second would read millions of rows).
MESSAGES_CAP = 1_000_000


def combine_pollers(rows) -> list[dict]:
    """One entry per broker from ``(broker, member, heartbeat, stored)`` rows: ``stored`` summed over
    its members, the latest ``heartbeat``, and ``members`` (each member's own)."""
    pollers: dict[str, dict] = {}
    for broker, member, heartbeat, stored in rows:
        entry = pollers.setdefault(broker, {"broker": broker, "heartbeat": None, "stored": 0, "members": []})
        entry["stored"] += stored or 0
        if heartbeat is not None and (entry["heartbeat"] is None or heartbeat > entry["heartbeat"]):
            entry["heartbeat"] = heartbeat
        entry["members"].append({"member": member, "heartbeat": heartbeat.isoformat() if heartbeat else None,
                                 "stored": stored or 0})
    for entry in pollers.values():
        entry["heartbeat"] = entry["heartbeat"].isoformat() if entry["heartbeat"] else None
    return list(pollers.values())


def campaign_state(connection, clock_setting: str = "auto") -> dict:
    """Clock, last-hour rates, sizes of the campaign and each poller's heartbeat, read on ``connection``
    (a psycopg connection, or any DB-API connection whose cursors are context managers).

    ``clock`` is the campaign's "now" under ``DESCTOM_CLOCK`` (``clock_setting``), as
    ``GET /elasticc2/clock`` answers it; ``clock_mjd`` is the latest sent alert's MJD."""
    with connection.cursor() as cur:
        cur.execute("""
            SELECT (SELECT max(last_mjd) FROM elasticc2_alertsenderrun WHERE alerts_sent > 0),
                   (SELECT coalesce(sum(alerts_sent), 0) FROM elasticc2_alertsenderrun
                     WHERE started > now() - interval '1 hour'),
                   (SELECT count(*) FROM (SELECT 1 FROM elasticc2_brokermessage
                     WHERE descingesttimestamp > now() - interval '1 hour' LIMIT %s) x),
                   (SELECT count(*) FROM elasticc2_brokerclassifier),
                   (SELECT count(*) FROM elasticc2_diaobject),
                   (SELECT reltuples::bigint FROM pg_class WHERE relname = 'elasticc2_ppdbdiaobject')""",
                    [MESSAGES_CAP + 1])
        mjd, sent, messages, classifiers, known, ppdb = cur.fetchone()
        cur.execute("SELECT broker, member, heartbeat, stored FROM elasticc2_brokerpollerstatus "
                    "ORDER BY broker, member")
        pollers = combine_pollers(cur.fetchall())
        clock = read_clock(cur, clock_setting).as_json()
    return {"clock_mjd": mjd, "clock_date": mjd_to_date(mjd) if mjd is not None else None,
            "alerts_sent_last_hour": int(sent), "messages_last_hour": messages, "classifiers": classifiers,
            "known_objects": known, "ppdb_objects_estimate": max(ppdb or 0, 0),
            "pollers": pollers, "clock": clock}
