"""The campaign's state for ``desctom status``: simulation clock, rates and streams, read on a psycopg
connection of its own (``desctom status`` may run without Django settings); the SQL lives in
:mod:`desctom.elasticc2.queries.campaign_status` and :mod:`desctom.elasticc2.queries.pollerhealth`."""

from __future__ import annotations

from desctom.core.config import Config
from desctom.elasticc2.queries import pollerhealth
from desctom.elasticc2.queries.campaign_status import MESSAGES_CAP, campaign_state
from desctom.metrics.queries.health import judge_metrics


def _at_most(n: int) -> str:
    return f"more than {MESSAGES_CAP:,}" if n > MESSAGES_CAP else f"{n:,}"


def _connect_args(cfg: Config, timeout_ms: int) -> dict:
    """``psycopg.connect`` arguments for the configured database (no Django settings needed)."""
    db = cfg.database_settings()
    return {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
            "password": db["PASSWORD"] or None, "dbname": db["NAME"], "connect_timeout": 3,
            "options": f"-c statement_timeout={timeout_ms}"}


def campaign_status(cfg: Config, timeout_ms: int = 3000) -> dict | None:
    """Clock, last-hour rates and sizes of the campaign (:func:`campaign_state`); None if the database
    cannot tell."""
    import psycopg

    args = _connect_args(cfg, timeout_ms)
    try:
        with psycopg.connect(**args) as conn:
            return campaign_state(conn, cfg.clock)
    except Exception:  # noqa: BLE001 - no database, not migrated, too slow: status shows no campaign line
        return None


def stream_health(cfg: Config, timeout_ms: int = 3000) -> list[dict] | None:
    """Each broker stream judged by :mod:`desctom.elasticc2.queries.pollerhealth`; None if no database
    answers."""
    import psycopg

    args = _connect_args(cfg, timeout_ms)
    try:
        with psycopg.connect(**args) as conn, conn.cursor() as cur:
            return pollerhealth.judge_streams(cur, stall=cfg.poll_stall_seconds)
    except Exception:  # noqa: BLE001 - no database or not migrated: nothing to judge
        return None


def metrics_health(cfg: Config, timeout_ms: int = 3000) -> dict | None:
    """Whether ``update_metrics`` keeps up (:func:`judge_metrics`); None if the database cannot tell."""
    import psycopg

    try:
        with psycopg.connect(**_connect_args(cfg, timeout_ms)) as conn, conn.cursor() as cur:
            return judge_metrics(cur, cfg.metrics_stale_seconds)
    except Exception:  # noqa: BLE001 - no database or not migrated: nothing to judge
        return None


def format_streams(streams: list[dict] | None) -> list[str]:
    return [f"  stream             {pollerhealth.summary_line(s)}" for s in streams or []]


def format_campaign(info: dict | None) -> list[str]:
    if info is None:
        return []
    now = info.get("clock") or {}
    if info["clock_mjd"] is not None:
        clock = f"simulated MJD {info['clock_mjd']:.2f} ({info['clock_date']})"
    elif now.get("mode") == "simulation":
        clock = f"no alert sent yet; clock at the latest detection, MJD {now['mjd']:.2f}"
    else:
        clock = "no alert sent yet"
    if now.get("mode") == "wall" and info["clock_mjd"] is not None:
        clock += f" (DESCTOM_CLOCK=wall: \"now\" is the wall clock, MJD {now['mjd']:.2f})"
    return [f"  campaign           {clock}; last hour: {info['alerts_sent_last_hour']:,} alerts sent, "
            f"{_at_most(info['messages_last_hour'])} broker messages ingested; "
            f"{info['classifiers']} classifiers; "
            f"{info['known_objects']:,} known of ≈{info['ppdb_objects_estimate']:,} objects"]
