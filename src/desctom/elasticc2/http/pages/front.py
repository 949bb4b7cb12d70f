"""The ELAsTiCC2 front page, the classifier registry and the admin summary."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.db import connection
from django.views.generic import TemplateView

from desctom.core.counting import EXACT_LIMIT, Count, count, dict_rows, rows
from desctom.core.permissions import is_admin
from desctom.elasticc2.queries import pollerhealth
from desctom.elasticc2.queries.clock import simulation_clock as sim_clock
from desctom.survey.mjd import mjd_to_date

SENT = "alertsenttimestamp IS NOT NULL"
UNSENT = "alertsenttimestamp IS NULL"


def campaign_counts() -> dict[str, Count]:
    """Live counts of the campaign's tables (estimates on big tables)."""
    return {
        "ppdb_objects": count("elasticc2_ppdbdiaobject"),
        "ppdb_sources": count("elasticc2_ppdbdiasource"),
        "ppdb_forced": count("elasticc2_ppdbdiaforcedsource"),
        "alerts_sent": count("elasticc2_ppdbalert", SENT),
        "alerts_unsent": count("elasticc2_ppdbalert", UNSENT),
        "objects": count("elasticc2_diaobject"),
        "sources": count("elasticc2_diasource"),
        "forced": count("elasticc2_diaforcedsource"),
        "messages": count("elasticc2_brokermessage"),
        "classifiers": count("elasticc2_brokerclassifier"),
    }


def streaming_status() -> dict:
    """The latest sender run, each broker stream judged (:mod:`pollerhealth`), messages of the last hour."""
    runs = dict_rows("SELECT id, started, finished, status, through_day, alerts_sent, last_mjd, error, host "
                     "FROM elasticc2_alertsenderrun ORDER BY started DESC LIMIT 5")
    with connection.cursor() as cur:
        pollers = pollerhealth.judge_streams(cur)
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
        ORDER BY b.brokername""", {"cap": RECENT_CAP + 1})
    recent = [{**r, "messages": capped(r["messages"])} for r in recent if r["latest"] is not None]
    return {"sender_runs": runs, "last_run": runs[0] if runs else None, "pollers": pollers,
            "last_hour": recent}


class Elasticc2Page(LoginRequiredMixin, TemplateView):
    """A logged-in page; POST renders like GET, as in the original."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "is_admin": is_admin(self.request.user)}

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)


class FrontPageView(Elasticc2Page):
    """``/elasticc2/``: live counts, the simulation clock, streaming and poller status, links."""

    template_name = "elasticc2/index.html"

    def get_context_data(self, **kwargs):
        clock = sim_clock()
        return {**super().get_context_data(**kwargs), "counts": campaign_counts(), "clock": clock,
                "clock_date": mjd_to_date(clock) if clock is not None else None, "last_night": last_night(),
                **streaming_status()}


def last_night() -> dict | None:
    """The latest sender run that sent alerts, and the broker messages stored since it started."""
    found = dict_rows("""
        SELECT r.through_day, r.alerts_sent, r.started, r.finished,
               (SELECT count(*) FROM (SELECT 1 FROM elasticc2_brokermessage m
                                      WHERE m.descingesttimestamp >= r.started LIMIT %(cap)s) x) AS messages
        FROM (SELECT * FROM elasticc2_alertsenderrun WHERE alerts_sent > 0
              ORDER BY started DESC LIMIT 1) r""", {"cap": RECENT_CAP + 1})
    return {**found[0], "messages": capped(found[0]["messages"])} if found else None


#: Recent-message counts on the front page stop here (and show "more than").
RECENT_CAP = 100_000


class AtLeast(int):
    """A count that stopped at a cap: shown as "more than N"."""

    def __str__(self) -> str:
        return f"more than {RECENT_CAP:,}"


def capped(n: int) -> int:
    return AtLeast(RECENT_CAP) if n > RECENT_CAP else n


def classifier_table() -> tuple[list[dict], bool]:
    """Every registered classifier with its message count and latest message time.

    Exact on a small message table; on a big one the counts come from the planner's statistics
    (``pg_stats`` most common values) and the latest time is searched in the last 30 days only.
    """
    classifiers = dict_rows("SELECT classifier_id, brokername, brokerversion, classifiername, "
                            "classifierparams "
                            "FROM elasticc2_brokerclassifier "
                            "ORDER BY brokername, brokerversion, classifiername, classifierparams, 1")
    total = count("elasticc2_brokermessage")
    if not total.estimated:
        stats = {cid: (n, latest) for cid, n, latest in rows(
            "SELECT classifier_id, count(*), max(descingesttimestamp) FROM elasticc2_brokermessage "
            "GROUP BY classifier_id")}
    else:
        freqs = dict(rows("""
            SELECT v::bigint, f FROM pg_stats s,
                   unnest(s.most_common_vals::text::bigint[], s.most_common_freqs) AS u(v, f)
            WHERE s.tablename = 'elasticc2_brokermessage' AND s.attname = 'classifier_id'"""))
        latest = dict(rows("""
            SELECT c.classifier_id, l.t FROM elasticc2_brokerclassifier c CROSS JOIN LATERAL (
                SELECT m.descingesttimestamp AS t FROM elasticc2_brokermessage m
                WHERE m.classifier_id = c.classifier_id AND m.descingesttimestamp > now() - interval '30 days'
                ORDER BY m.descingesttimestamp DESC LIMIT 1) l"""))
        stats = {cid: (round(freqs[cid] * total.value) if cid in freqs else None, latest.get(cid))
                 for cid in (c["classifier_id"] for c in classifiers)}
    for c in classifiers:
        n, c["latest"] = stats.get(c["classifier_id"], (0, None))
        c["messages"] = None if n is None else Count(n, total.estimated)
    return classifiers, total.estimated


class ClassifiersView(Elasticc2Page):
    """``/elasticc2/classifiers``: the classifier registry with message counts."""

    template_name = "elasticc2/classifiers.html"

    def get_context_data(self, **kwargs):
        classifiers, estimated = classifier_table()
        return {**super().get_context_data(**kwargs), "classifiers": classifiers, "estimated": estimated}


ADMIN_TABLES = [
    ("PPDB objects", "elasticc2_ppdbdiaobject", ""), ("PPDB sources", "elasticc2_ppdbdiasource", ""),
    ("PPDB forced sources", "elasticc2_ppdbdiaforcedsource", ""), ("Truth", "elasticc2_diaobjecttruth", ""),
    ("PPDB alerts", "elasticc2_ppdbalert", ""), ("… sent", "elasticc2_ppdbalert", SENT),
    ("… unsent", "elasticc2_ppdbalert", UNSENT), ("Known objects", "elasticc2_diaobject", ""),
    ("Known sources", "elasticc2_diasource", ""), ("Known forced sources", "elasticc2_diaforcedsource", ""),
    ("Broker messages", "elasticc2_brokermessage", ""), ("Spectrum requests", "elasticc2_wantedspectra", ""),
    ("Planned spectra", "elasticc2_plannedspectra", ""), ("Spectrum reports", "elasticc2_spectruminfo", ""),
]


def objects_per_true_class() -> tuple[list[dict], bool]:
    """Known objects per (gentype, class); a random sample of pages scaled up on a big table."""
    known = count("elasticc2_diaobject")
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
        GROUP BY t.gentype, g.classid, g.description ORDER BY g.classid NULLS LAST, t.gentype""")
    for t in types:
        t["objects"] = Count(round(t["objects"] * scale), known.estimated)
    return types, known.estimated


class AdminSummaryView(UserPassesTestMixin, Elasticc2Page):
    """``/elasticc2/adminsummary``: table sizes and known objects per true class (admins only)."""

    template_name = "elasticc2/adminsummary.html"
    def test_func(self):
        return is_admin(self.request.user)

    def get_context_data(self, **kwargs):
        types, sampled = objects_per_true_class()
        tables = [(label, table, count(table, where)) for label, table, where in ADMIN_TABLES]
        return {**super().get_context_data(**kwargs), "tables": tables, "types": types, "sampled": sampled,
                "clock": sim_clock()}
