"""The follow-up board: hot transients, wanted, planned and reported spectra; plan or un-plan from the page.

Planning and un-planning POST (from the page's script) to the follow-up API's own endpoints
(``planspectrum``, ``removespectrumplan``), so the rules are the API's. Redshift and class come
from :func:`desctom.elasticc2.queries.followup.best_knowledge`, the same as ``gethottransients``.
"""

from __future__ import annotations

from desctom.elasticc2.http.pages.common import class_name, page_numbers
from desctom.elasticc2.http.pages.front import Elasticc2Page
from desctom.elasticc2.queries import followup_board as board
from desctom.elasticc2.queries.clock import simulation_clock
from desctom.elasticc2.queries.followup import best_knowledge

WINDOWS = (1, 3, 10, 30)
DEFAULT_WINDOW = 10
PER_PAGE = 25


def hot_page(request, now: float, days: float) -> tuple[list[dict], dict]:
    """One page of known objects detected in ``[now - days, now]``, latest detection first."""
    offset, limit, pager = page_numbers(request, board.hot_total(now, days), PER_PAGE, "hotpage")
    hot = board.hot_objects(now, days, limit, offset)
    knowledge = best_knowledge([h["diaobject_id"] for h in hot], now)
    for h in hot:
        z, code = knowledge.get(h["diaobject_id"], (None, None))
        h["redshift"] = None if z is None or z == -99 else z
        h["sncode"] = None if code in (None, -99) else class_name(code)
    return hot, pager


def wanted_page(request, requester: str) -> tuple[list[dict], dict]:
    """One page of spectrum requests, highest priority first (optionally one requester's)."""
    offset, limit, pager = page_numbers(request, board.wanted_total(requester), PER_PAGE, "wantpage")
    return board.wanted_spectra(requester, limit, offset), pager


def planned_page(request) -> tuple[list[dict], dict]:
    """One page of planned spectra."""
    offset, limit, pager = page_numbers(request, board.planned_total(), PER_PAGE, "planpage")
    return board.planned_spectra(limit, offset), pager


def reported_page(request) -> tuple[list[dict], dict]:
    """One page of spectrum reports, latest first, with class names."""
    offset, limit, pager = page_numbers(request, board.reported_total(), PER_PAGE, "reppage")
    reported = board.reported_spectra(limit, offset)
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
                       requesters=board.requesters())
        return context
