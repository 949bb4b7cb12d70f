"""The follow-up board: hot transients, wanted, planned and reported spectra; plan or un-plan from the page.

Planning and un-planning POST (from the page's script) to the follow-up API's own endpoints
(``planspectrum``, ``removespectrumplan``), so the rules are the API's. Redshift and class come
from :func:`desctom.elasticc2.queries.followup.best_knowledge`, the same as ``gethottransients``.
"""

from __future__ import annotations

from desctom.core.counting import dict_rows, scalar
from desctom.elasticc2.http.pages.common import class_name, page_numbers
from desctom.elasticc2.http.pages.front import Elasticc2Page
from desctom.elasticc2.queries.clock import simulation_clock
from desctom.elasticc2.queries.followup import best_knowledge

WINDOWS = (1, 3, 10, 30)
DEFAULT_WINDOW = 10
PER_PAGE = 25


def hot_page(request, now: float, days: float) -> tuple[list[dict], dict]:
    """One page of known objects detected in ``[now - days, now]``, latest detection first."""
    params = {"since": now - days, "now": now}
    window = "FROM elasticc2_diasource s WHERE s.midpointtai >= %(since)s AND s.midpointtai <= %(now)s"
    total = scalar(f"SELECT count(DISTINCT s.diaobject_id) {window}", params)
    offset, limit, pager = page_numbers(request, total, PER_PAGE, "hotpage")
    hot = dict_rows(f"""
        SELECT h.diaobject_id, h.ndet, h.latest, o.ra, o.decl,
               EXISTS (SELECT 1 FROM elasticc2_wantedspectra w
                       WHERE w.diaobject_id = h.diaobject_id) AS wanted,
               (SELECT string_agg(p.facility, ', ' ORDER BY p.facility) FROM elasticc2_plannedspectra p
                WHERE p.diaobject_id = h.diaobject_id) AS planned
        FROM (SELECT s.diaobject_id, count(*) AS ndet, max(s.midpointtai) AS latest {window}
              GROUP BY s.diaobject_id ORDER BY latest DESC, s.diaobject_id
              LIMIT %(limit)s OFFSET %(offset)s) h
        JOIN elasticc2_diaobject o ON o.diaobject_id = h.diaobject_id
        ORDER BY h.latest DESC, h.diaobject_id""", {**params, "limit": limit, "offset": offset})
    knowledge = best_knowledge([h["diaobject_id"] for h in hot], now)
    for h in hot:
        z, code = knowledge.get(h["diaobject_id"], (None, None))
        h["redshift"] = None if z is None or z == -99 else z
        h["sncode"] = None if code in (None, -99) else class_name(code)
    return hot, pager


def wanted_page(request, requester: str) -> tuple[list[dict], dict]:
    """One page of spectrum requests, highest priority first (optionally one requester's)."""
    where = "WHERE w.requester = %(requester)s" if requester else ""
    params = {"requester": requester}
    total = scalar(f"SELECT count(*) FROM elasticc2_wantedspectra w {where}", params)
    offset, limit, pager = page_numbers(request, total, PER_PAGE, "wantpage")
    wanted = dict_rows(f"""
        SELECT w.diaobject_id, w.requester, w.priority, w.wanttime, u.username,
               (SELECT string_agg(p.facility, ', ' ORDER BY p.facility) FROM elasticc2_plannedspectra p
                WHERE p.diaobject_id = w.diaobject_id) AS planned,
               EXISTS (SELECT 1 FROM elasticc2_spectruminfo i
                       WHERE i.diaobject_id = w.diaobject_id) AS reported
        FROM elasticc2_wantedspectra w LEFT JOIN auth_user u ON u.id = w.user_id {where}
        ORDER BY w.priority DESC, w.wanttime DESC, w.wantspec_id LIMIT %(limit)s OFFSET %(offset)s""",
                       {**params, "limit": limit, "offset": offset})
    return wanted, pager


def planned_page(request) -> tuple[list[dict], dict]:
    total = scalar("SELECT count(*) FROM elasticc2_plannedspectra")
    offset, limit, pager = page_numbers(request, total, PER_PAGE, "planpage")
    planned = dict_rows("""
        SELECT p.reqspec_id, p.diaobject_id, p.facility, p.plantime, p.created_at, p.comment, u.username
        FROM elasticc2_plannedspectra p LEFT JOIN auth_user u ON u.id = p.user_id
        ORDER BY p.plantime NULLS LAST, p.created_at DESC, p.reqspec_id
        LIMIT %s OFFSET %s""", [limit, offset])
    return planned, pager


def reported_page(request) -> tuple[list[dict], dict]:
    total = scalar("SELECT count(*) FROM elasticc2_spectruminfo")
    offset, limit, pager = page_numbers(request, total, PER_PAGE, "reppage")
    reported = dict_rows("""
        SELECT i.specinfo_id, i.diaobject_id, i.facility, i.mjd, i.z, i.classid, i.inserted_at, u.username
        FROM elasticc2_spectruminfo i LEFT JOIN auth_user u ON u.id = i.user_id
        ORDER BY i.inserted_at DESC, i.specinfo_id DESC LIMIT %s OFFSET %s""", [limit, offset])
    for r in reported:
        r["classname"] = class_name(r["classid"]) if r["classid"] is not None else "—"
    return reported, pager


class FollowupBoardView(Elasticc2Page):
    """``/elasticc2/followup/``: what is hot, wanted, planned and reported."""

    template_name = "elasticc2/followup.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET
        try:
            days = float(q.get("days", DEFAULT_WINDOW))
        except ValueError:
            days = DEFAULT_WINDOW
        days = min(max(days, 0.1), 365.0)
        requester = q.get("requester", "").strip()
        now = simulation_clock()
        if now is not None:
            context["hot"], context["hot_pager"] = hot_page(self.request, now, days)
        context["wanted"], context["want_pager"] = wanted_page(self.request, requester)
        context["planned"], context["plan_pager"] = planned_page(self.request)
        context["reported"], context["rep_pager"] = reported_page(self.request)
        context.update(now=now, days=days, windows=WINDOWS, requester=requester,
                       requesters=[r["requester"] for r in dict_rows(
                           "SELECT DISTINCT requester FROM elasticc2_wantedspectra "
                           "WHERE requester IS NOT NULL ORDER BY 1 LIMIT 200")])
        return context
