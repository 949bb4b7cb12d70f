"""The campaign's state for ``desctom status``: simulation clock, last-hour rates, sizes and pollers.

Django-free: the CLI calls it on its own psycopg connection (it may run without Django settings).
"""

from __future__ import annotations

from desctom.survey.mjd import mjd_to_date

#: The status line counts the last hour's broker messages up to this many (an exact count at
#: thousands of messages a second would read millions of rows).
MESSAGES_CAP = 1_000_000


def campaign_state(connection) -> dict:
    """Clock, last-hour rates, sizes of the campaign and each poller's heartbeat, read on ``connection``
    (a psycopg connection, or any DB-API connection whose cursors are context managers)."""
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
        cur.execute("SELECT broker, heartbeat, stored FROM elasticc2_brokerpollerstatus ORDER BY broker")
        pollers = [{"broker": b, "heartbeat": h.isoformat() if h else None, "stored": n}
                   for b, h, n in cur.fetchall()]
    return {"clock_mjd": mjd, "clock_date": mjd_to_date(mjd) if mjd is not None else None,
            "alerts_sent_last_hour": int(sent), "messages_last_hour": messages, "classifiers": classifiers,
            "known_objects": known, "ppdb_objects_estimate": max(ppdb or 0, 0),
            "pollers": pollers}
