"""The live survey at a glance: table counts, brokers and their message rates, the last night, schema
versions. Read by the ``/live/`` page.

Every query stays fast on billion-row tables: totals are planner estimates above
:data:`desctom.core.counting.EXACT_LIMIT` (shown with ≈); recent counts are bounded index range scans
stopped at :data:`RECENT_CAP`; brokers are found by a loose index scan of ``diasource_brokerinfo_broker``
and what they send (classifiers, schema versions) is read from their latest :data:`WINDOW` messages.
Every function takes an optional ``connection`` (default: Django's).
"""

from __future__ import annotations

import math

from desctom.core.counting import Count, count, dict_rows, scalar

#: Recent counts (last hour, last day, the last night) stop here and show "more than".
RECENT_CAP = 100_000
#: Per broker, its classifiers and schema versions are read from this many latest messages.
WINDOW = 10_000
#: The last night's sources listed on the page.
NIGHT_LIST = 20


class AtLeast(int):
    """A count that stopped at :data:`RECENT_CAP`: shown as "more than N"."""

    def __str__(self) -> str:
        return f"more than {RECENT_CAP:,}"


def capped(n: int | None) -> int:
    """``n`` (0 for None), or :class:`AtLeast` when it passed :data:`RECENT_CAP`."""
    n = n or 0
    return AtLeast(RECENT_CAP) if n > RECENT_CAP else n


def brokers(connection=None) -> list[str]:
    """Every broker name in ``diasource_brokerinfo`` (a loose index scan: one index probe per broker)."""
    found = dict_rows("""
        WITH RECURSIVE b(name) AS (
            (SELECT brokername FROM diasource_brokerinfo ORDER BY brokername LIMIT 1)
            UNION ALL
            SELECT (SELECT i.brokername FROM diasource_brokerinfo i WHERE i.brokername > b.name
                    ORDER BY i.brokername LIMIT 1)
            FROM b WHERE b.name IS NOT NULL)
        SELECT name FROM b WHERE name IS NOT NULL""", connection=connection)
    return [r["name"] for r in found]


def survey_counts(windows: list[dict], connection=None) -> dict[str, Count]:
    """Rows of the live tables (planner estimates on big tables) and the registered classifiers
    (``live_brokerclassifier``). ``windows`` (:func:`recent_windows`) is kept for the callers."""
    counts = {
        "roots": count("root_diaobject", connection=connection),
        "objects": count("diaobject", connection=connection),
        "sources": count("diasource", connection=connection),
        "forced": count("diaforcedsource", connection=connection),
        "messages": count("diasource_brokerinfo", connection=connection),
    }
    counts["classifiers"] = count("live_brokerclassifier", connection=connection)
    return counts


def broker_rates(names: list[str], connection=None) -> list[dict]:
    """Per broker of ``names``: messages stored in the last hour and the last 24 h (capped), in total
    (estimated when big), the latest ``receivedtime`` and ``msgtime``."""
    result = []
    for name in names:
        row = dict_rows("""
            SELECT (SELECT count(*) FROM (SELECT 1 FROM diasource_brokerinfo
                     WHERE brokername = %(b)s AND receivedtime > now() - interval '1 hour' LIMIT %(cap)s) h)
                       AS last_hour,
                   (SELECT count(*) FROM (SELECT 1 FROM diasource_brokerinfo
                     WHERE brokername = %(b)s AND receivedtime > now() - interval '1 day' LIMIT %(cap)s) d)
                       AS last_day,
                   l.receivedtime AS latest, l.msgtime AS latest_msgtime, l.topic AS latest_topic
            FROM (SELECT receivedtime, msgtime, topic FROM diasource_brokerinfo WHERE brokername = %(b)s
                  ORDER BY receivedtime DESC LIMIT 1) l""", {"b": name, "cap": RECENT_CAP + 1}, connection)[0]
        row.update(brokername=name, last_hour=capped(row["last_hour"]), last_day=capped(row["last_day"]),
                   total=count("diasource_brokerinfo", "brokername = %s", [name], connection=connection))
        result.append(row)
    return result


def recent_windows(names: list[str], connection=None) -> list[dict]:
    """Per broker of ``names``, what its latest :data:`WINDOW` messages carried: ``classifiers`` (id,
    name, version, messages) and ``schemas`` (schema version, messages, latest ``receivedtime``)."""
    result = []
    for name in names:
        window = """(SELECT classifier_id, schemaversion, receivedtime FROM diasource_brokerinfo
                     WHERE brokername = %(b)s ORDER BY receivedtime DESC LIMIT %(w)s) w"""
        params = {"b": name, "w": WINDOW}
        classifiers = dict_rows(f"""
            SELECT w.classifier_id, c.brokername, c.brokerversion, c.classifiername, c.classifierparams,
                   count(*) AS messages, max(w.receivedtime) AS latest
            FROM {window} LEFT JOIN live_brokerclassifier c ON c.classifier_id = w.classifier_id
            WHERE w.classifier_id IS NOT NULL
            GROUP BY w.classifier_id, c.brokername, c.brokerversion, c.classifiername, c.classifierparams
            ORDER BY c.classifiername, c.classifierparams, w.classifier_id""", params, connection)
        schemas = dict_rows(f"""
            SELECT schemaversion, count(*) AS messages, min(receivedtime) AS first,
                   max(receivedtime) AS latest
            FROM {window} GROUP BY schemaversion ORDER BY max(receivedtime) DESC""", params, connection)
        result.append({"brokername": name, "classifiers": classifiers, "schemas": schemas})
    return result


def last_night(connection=None) -> dict | None:
    """The night of the latest detection (``floor(midpointmjdtai)`` of the latest source), its number of
    sources (capped) and the latest :data:`NIGHT_LIST` of them; None before the first source."""
    latest = scalar("SELECT max(midpointmjdtai) FROM diasource", connection=connection)
    if latest is None or not math.isfinite(latest):
        return None
    night = math.floor(latest)
    params = {"lo": float(night), "hi": float(night + 1), "cap": RECENT_CAP + 1, "n": NIGHT_LIST}
    n = scalar("""SELECT count(*) FROM (SELECT 1 FROM diasource
                  WHERE midpointmjdtai >= %(lo)s AND midpointmjdtai < %(hi)s LIMIT %(cap)s) x""",
               params, connection)
    sources = dict_rows("""
        SELECT diasourceid, diaobjectid, rootid, midpointmjdtai, band, psfflux, psffluxerr, snr, ra, dec
        FROM diasource WHERE midpointmjdtai >= %(lo)s AND midpointmjdtai < %(hi)s
        ORDER BY midpointmjdtai DESC, diasourceid LIMIT %(n)s""", params, connection)
    return {"night": night, "latest_mjd": latest, "sources": capped(n), "latest": sources}
