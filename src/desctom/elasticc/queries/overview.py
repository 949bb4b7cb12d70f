"""The ELAsTiCC 1 campaign at a glance: alerts, objects, sources, messages, classifications per
classifier, every table's size and objects per true gentype (counts straight from SQL), and what the
home page shows of it.

Every function takes an optional ``connection`` (default: Django's).
"""

from __future__ import annotations

from django.db import connection as default_connection

from desctom.core.counting import Count, count

TABLES = ("diaobject", "diasource", "diaforcedsource", "diaalert", "diatruth", "diaobjecttruth",
          "gentypeofclassid", "classidofgentype", "brokermessage", "brokerclassifier", "brokerclassification")


_ALERTS = 'SELECT count(*) FROM elasticc_diaalert WHERE "alertSentTimestamp"'


def _scalar(cur, sql: str) -> int:
    cur.execute(sql)
    return cur.fetchone()[0]


def summary_counts(connection=None) -> dict:
    """Alerts sent/unsent, objects, sources, forced sources, messages, classifications per classifier."""
    with (connection or default_connection).cursor() as cur:
        counts = {
            "alerts_sent": _scalar(cur, f"{_ALERTS} IS NOT NULL"),
            "alerts_unsent": _scalar(cur, f"{_ALERTS} IS NULL"),
            "objects": _scalar(cur, "SELECT count(*) FROM elasticc_diaobject"),
            "sources": _scalar(cur, "SELECT count(*) FROM elasticc_diasource"),
            "forcedsources": _scalar(cur, "SELECT count(*) FROM elasticc_diaforcedsource"),
            "brokermessages": _scalar(cur, "SELECT count(*) FROM elasticc_brokermessage"),
        }
        cur.execute('SELECT c."classifierId", c."brokerName", c."brokerVersion", c."classifierName", '
                    'c."classifierParams", count(b."classificationId") FROM elasticc_brokerclassifier c '
                    'LEFT JOIN elasticc_brokerclassification b ON b."classifierId" = c."classifierId" '
                    'GROUP BY c."classifierId" ORDER BY c."classifierId"')
        keys = ("id", "broker", "version", "name", "params", "classifications")
        counts["classifiers"] = [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
    return counts


def admin_counts(connection=None) -> dict:
    """Rows of every ELAsTiCC 1 table, and objects per true SNANA gentype."""
    with (connection or default_connection).cursor() as cur:
        tables = [(f"elasticc_{t}", _scalar(cur, f"SELECT count(*) FROM elasticc_{t}"))  # noqa: S608
                  for t in TABLES]
        cur.execute('SELECT t.gentype, min(g."classId"), min(g.description), count(*) '
                    "FROM elasticc_diaobjecttruth t "
                    "LEFT JOIN elasticc_gentypeofclassid g ON g.gentype = t.gentype "
                    "GROUP BY t.gentype ORDER BY t.gentype")
        types = [dict(zip(("gentype", "classid", "description", "objects"), r, strict=True))
                 for r in cur.fetchall()]
    return {"tables": tables, "types": types}


def home_counts(connection=None) -> dict[str, Count]:
    """What the home page shows of ELAsTiCC 1 (``e1_*``), counted live (estimates on big tables)."""
    return {
        "e1_objects": count("elasticc_diaobject", connection=connection),
        "e1_messages": count("elasticc_brokermessage", connection=connection),
    }
