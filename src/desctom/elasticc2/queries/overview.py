"""The campaign at a glance: live table counts, sender runs, broker streams, messages of the last hour
and of the last night, known objects per true class. Read by the front page, the admin summary, the
home page and ``/healthz``.

Every function takes an optional ``connection`` (default: Django's).
"""

from __future__ import annotations

from django.db import connection as default_connection
from tom_targets.models import Target

from desctom.core.counting import EXACT_LIMIT, Count, count, dict_rows
from desctom.elasticc2.queries import pollerhealth
from desctom.elasticc2.queries.clock import simulation_clock

SENT = "alertsenttimestamp IS NOT NULL"
UNSENT = "alertsenttimestamp IS NULL"

#: Recent-message counts on the front page stop here (and show "more than").
RECENT_CAP = 100_000


class AtLeast(int):
    """A count that stopped at a cap: shown as "more than N"."""

    def __str__(self) -> str:
        return f"more than {RECENT_CAP:,}"


def capped(n: int) -> int:
    """``n``, or :class:`AtLeast` when it passed :data:`RECENT_CAP`."""
    return AtLeast(RECENT_CAP) if n > RECENT_CAP else n


def campaign_counts(connection=None) -> dict[str, Count]:
    """Live counts of the campaign's tables (estimates on big tables)."""
    return {
        "ppdb_objects": count("elasticc2_ppdbdiaobject", connection=connection),
        "ppdb_sources": count("elasticc2_ppdbdiasource", connection=connection),
        "ppdb_forced": count("elasticc2_ppdbdiaforcedsource", connection=connection),
        "alerts_sent": count("elasticc2_ppdbalert", SENT, connection=connection),
        "alerts_unsent": count("elasticc2_ppdbalert", UNSENT, connection=connection),
        "objects": count("elasticc2_diaobject", connection=connection),
        "sources": count("elasticc2_diasource", connection=connection),
        "forced": count("elasticc2_diaforcedsource", connection=connection),
        "messages": count("elasticc2_brokermessage", connection=connection),
        "classifiers": count("elasticc2_brokerclassifier", connection=connection),
    }


def judged_streams(connection=None) -> list[dict]:
    """Each broker stream (``elasticc2_brokerpollerstatus``) judged by :mod:`pollerhealth`."""
    with (connection or default_connection).cursor() as cur:
        return pollerhealth.judge_streams(cur)


def streaming_status(connection=None) -> dict:
    """The latest sender runs, each broker stream judged (:mod:`pollerhealth`), messages of the last hour
    per broker (``sender_runs``, ``last_run``, ``pollers``, ``last_hour``)."""
    runs = dict_rows("SELECT id, started, finished, status, through_day, alerts_sent, last_mjd, error, host "
                     "FROM elasticc2_alertsenderrun ORDER BY started DESC LIMIT 5", connection=connection)
    pollers = judged_streams(connection)
    # Counted up to RECENT_CAP per broker: at thousands of messages a second an exact count of the
    # last hour would read millions of rows on every page view.
    recent = dict_rows("""
        SELECT b.brokername,
               (SELECT count(*) FROM (
                    SELECT 1 FROM elasticc2_brokermessage m
                    WHERE m.classifier_id = ANY(b.ids) AND m.descingesttimestamp > now() - interval '1 hour'
                    LIMIT %(cap)s) x) AS messages,
               (SELECT m.descingesttimestamp FROM elasticc2_brokermessage m
                WHERE m.classifier_id = ANY(b.ids) AND m.descingesttimestamp > now() - interval '1 hour'
                ORDER BY m.descingesttimestamp DESC LIMIT 1) AS latest
        FROM (SELECT brokername, array_agg(classifier_id) AS ids FROM elasticc2_brokerclassifier
              GROUP BY brokername) b
        ORDER BY b.brokername""", {"cap": RECENT_CAP + 1}, connection)
    recent = [{**r, "messages": capped(r["messages"])} for r in recent if r["latest"] is not None]
    return {"sender_runs": runs, "last_run": runs[0] if runs else None, "pollers": pollers,
            "last_hour": recent}


def last_night(connection=None) -> dict | None:
    """The latest sender run that sent alerts, and the broker messages stored since it started."""
    found = dict_rows("""
        SELECT r.through_day, r.alerts_sent, r.started, r.finished,
               (SELECT count(*) FROM (SELECT 1 FROM elasticc2_brokermessage m
                                      WHERE m.descingesttimestamp >= r.started LIMIT %(cap)s) x) AS messages
        FROM (SELECT * FROM elasticc2_alertsenderrun WHERE alerts_sent > 0
              ORDER BY started DESC LIMIT 1) r""", {"cap": RECENT_CAP + 1}, connection)
    return {**found[0], "messages": capped(found[0]["messages"])} if found else None


#: The admin summary's tables: (label, table, condition).
ADMIN_TABLES = [
    ("PPDB objects", "elasticc2_ppdbdiaobject", ""), ("PPDB sources", "elasticc2_ppdbdiasource", ""),
    ("PPDB forced sources", "elasticc2_ppdbdiaforcedsource", ""), ("Truth", "elasticc2_diaobjecttruth", ""),
    ("PPDB alerts", "elasticc2_ppdbalert", ""), ("… sent", "elasticc2_ppdbalert", SENT),
    ("… unsent", "elasticc2_ppdbalert", UNSENT), ("Known objects", "elasticc2_diaobject", ""),
    ("Known sources", "elasticc2_diasource", ""), ("Known forced sources", "elasticc2_diaforcedsource", ""),
    ("Broker messages", "elasticc2_brokermessage", ""), ("Spectrum requests", "elasticc2_wantedspectra", ""),
    ("Planned spectra", "elasticc2_plannedspectra", ""), ("Spectrum reports", "elasticc2_spectruminfo", ""),
]


def admin_table_counts(connection=None) -> list[tuple[str, str, Count]]:
    """``(label, table, count)`` of every table in :data:`ADMIN_TABLES` (estimates on big tables)."""
    return [(label, table, count(table, where, connection=connection))
            for label, table, where in ADMIN_TABLES]


def objects_per_true_class(connection=None) -> tuple[list[dict], bool]:
    """Known objects per (gentype, class); a random sample of pages scaled up on a big table."""
    known = count("elasticc2_diaobject", connection=connection)
    sample = ""
    scale = 1.0
    if known.estimated:
        percent = min(100.0, 100.0 * EXACT_LIMIT / max(known.value, 1))
        sample, scale = f"TABLESAMPLE SYSTEM ({percent:.4f}) REPEATABLE (7)", 100.0 / percent
    types = dict_rows(f"""
        SELECT t.gentype, g.classid, g.description, count(*) AS objects
        FROM elasticc2_diaobject o {sample}
        LEFT JOIN elasticc2_diaobjecttruth t ON t.diaobject_id = o.diaobject_id
        LEFT JOIN elasticc2_gentypeofclassid g ON g.gentype = t.gentype
        GROUP BY t.gentype, g.classid, g.description ORDER BY g.classid NULLS LAST, t.gentype""",
                      connection=connection)
    for t in types:
        t["objects"] = Count(round(t["objects"] * scale), known.estimated)
    return types, known.estimated


def home_counts(connection=None) -> dict:
    """What the home page shows of ELAsTiCC2 (``e2_*``, with the simulation clock) and the TOM's
    targets (made from ELAsTiCC2 objects), counted live (estimates on big tables).

    ``connection`` is used for the counts; the clock is read on Django's connection."""
    return {
        "e2_ppdb_objects": count("elasticc2_ppdbdiaobject", connection=connection),
        "e2_objects": count("elasticc2_diaobject", connection=connection),
        "e2_alerts_sent": count("elasticc2_ppdbalert", SENT, connection=connection),
        "e2_messages": count("elasticc2_brokermessage", connection=connection),
        "e2_classifiers": count("elasticc2_brokerclassifier", connection=connection),
        "e2_wanted": count("elasticc2_wantedspectra", connection=connection),
        "e2_planned": count("elasticc2_plannedspectra", connection=connection),
        "e2_reported": count("elasticc2_spectruminfo", connection=connection),
        "e2_clock": simulation_clock(),  # on Django's connection: clock.py takes none
        "targets": count(Target._meta.db_table, connection=connection),
    }
