"""The campaign's state for ``desctom status``: simulation clock and rates, read straight from SQL."""

from __future__ import annotations

from desctom.core.config import Config
from desctom.survey.mjd import mjd_to_date

#: The status line counts the last hour's broker messages up to this many (an exact count at
#: thousands of messages a second would read millions of rows).
MESSAGES_CAP = 1_000_000


def _at_most(n: int) -> str:
    return f"more than {MESSAGES_CAP:,}" if n > MESSAGES_CAP else f"{n:,}"


def campaign_status(cfg: Config, timeout_ms: int = 3000) -> dict | None:
    """Clock, last-hour rates and sizes of the campaign; None if the database cannot tell."""
    import psycopg

    db = cfg.database_settings()
    try:
        with psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                             password=db["PASSWORD"] or None, dbname=db["NAME"], connect_timeout=3,
                             options=f"-c statement_timeout={timeout_ms}") as conn, conn.cursor() as cur:
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
    except Exception:  # noqa: BLE001 - no database, not migrated, too slow: status shows no campaign line
        return None
    return {"clock_mjd": mjd, "clock_date": mjd_to_date(mjd) if mjd is not None else None,
            "alerts_sent_last_hour": int(sent), "messages_last_hour": messages, "classifiers": classifiers,
            "known_objects": known, "ppdb_objects_estimate": max(ppdb or 0, 0),
            "pollers": pollers}


def stream_health(cfg: Config, timeout_ms: int = 3000) -> list[dict] | None:
    """Each broker stream judged by :mod:`desctom.elasticc2.queries.pollerhealth`; None if no database
    answers."""
    import psycopg

    from desctom.elasticc2.queries import pollerhealth

    db = cfg.database_settings()
    try:
        with psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                             password=db["PASSWORD"] or None, dbname=db["NAME"], connect_timeout=3,
                             options=f"-c statement_timeout={timeout_ms}") as conn, conn.cursor() as cur:
            return pollerhealth.judge_streams(cur, stall=cfg.poll_stall_seconds)
    except Exception:  # noqa: BLE001 - no database or not migrated: nothing to judge
        return None


def format_streams(streams: list[dict] | None) -> list[str]:
    from desctom.elasticc2.queries import pollerhealth

    return [f"  stream             {pollerhealth.summary_line(s)}" for s in streams or []]


def format_campaign(info: dict | None) -> list[str]:
    if info is None:
        return []
    clock = (f"simulated MJD {info['clock_mjd']:.2f} ({info['clock_date']})" if info["clock_mjd"] is not None
             else "no alert sent yet")
    return [f"  campaign           {clock}; last hour: {info['alerts_sent_last_hour']:,} alerts sent, "
            f"{_at_most(info['messages_last_hour'])} broker messages ingested; "
            f"{info['classifiers']} classifiers; "
            f"{info['known_objects']:,} known of ≈{info['ppdb_objects_estimate']:,} objects"]
