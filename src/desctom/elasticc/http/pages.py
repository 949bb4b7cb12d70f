"""HTML pages of the ELAsTiCC 1 app: front page, summary, admin summary (counts straight from SQL)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.db import connection
from django.views.generic import TemplateView

from desctom.core.permissions import is_admin

TABLES = ("diaobject", "diasource", "diaforcedsource", "diaalert", "diatruth", "diaobjecttruth",
          "gentypeofclassid", "classidofgentype", "brokermessage", "brokerclassifier", "brokerclassification")


_ALERTS = 'SELECT count(*) FROM elasticc_diaalert WHERE "alertSentTimestamp"'


def _scalar(sql: str) -> int:
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def summary_counts() -> dict:
    """Alerts sent/unsent, objects, sources, forced sources, messages, classifications per classifier."""
    counts = {
        "alerts_sent": _scalar(f"{_ALERTS} IS NOT NULL"),
        "alerts_unsent": _scalar(f"{_ALERTS} IS NULL"),
        "objects": _scalar("SELECT count(*) FROM elasticc_diaobject"),
        "sources": _scalar("SELECT count(*) FROM elasticc_diasource"),
        "forcedsources": _scalar("SELECT count(*) FROM elasticc_diaforcedsource"),
        "brokermessages": _scalar("SELECT count(*) FROM elasticc_brokermessage"),
    }
    with connection.cursor() as cur:
        cur.execute('SELECT c."classifierId", c."brokerName", c."brokerVersion", c."classifierName", '
                    'c."classifierParams", count(b."classificationId") FROM elasticc_brokerclassifier c '
                    'LEFT JOIN elasticc_brokerclassification b ON b."classifierId" = c."classifierId" '
                    'GROUP BY c."classifierId" ORDER BY c."classifierId"')
        keys = ("id", "broker", "version", "name", "params", "classifications")
        counts["classifiers"] = [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
    return counts


def admin_counts() -> dict:
    """Rows of every ELAsTiCC 1 table, and objects per true SNANA gentype."""
    tables = [(f"elasticc_{t}", _scalar(f"SELECT count(*) FROM elasticc_{t}")) for t in TABLES]  # noqa: S608
    with connection.cursor() as cur:
        cur.execute('SELECT t.gentype, min(g."classId"), min(g.description), count(*) '
                    "FROM elasticc_diaobjecttruth t "
                    "LEFT JOIN elasticc_gentypeofclassid g ON g.gentype = t.gentype "
                    "GROUP BY t.gentype ORDER BY t.gentype")
        types = [dict(zip(("gentype", "classid", "description", "objects"), r, strict=True))
                 for r in cur.fetchall()]
    return {"tables": tables, "types": types}


class FrontPageView(LoginRequiredMixin, TemplateView):
    """``/elasticc/``: links to the pages and the API."""

    template_name = "elasticc/index.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "is_admin": is_admin(self.request.user)}

    post = TemplateView.get


class SummaryView(LoginRequiredMixin, TemplateView):
    """``/elasticc/summary``: what the campaign holds."""

    template_name = "elasticc/summary.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **summary_counts()}

    post = TemplateView.get


class AdminSummaryView(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    """``/elasticc/adminsummary``: table sizes and object types (ELAsTiCC admins only)."""

    template_name = "elasticc/adminsummary.html"

    def test_func(self):
        return is_admin(self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **admin_counts()}

    post = TemplateView.get
