"""The live survey's HTML pages: ``/live/`` (counts, brokers, the last night) and one root object.

Like the ELAsTiCC2 campaign pages, every page needs a login (anonymous callers go to the login page);
GET only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.generic import TemplateView

from desctom.core.jsonapi import wants_json
from desctom.live.queries import objects as object_queries
from desctom.live.queries import overview

#: ``app_name`` of :mod:`desctom.live.urls_pages` (URL names ``livepages:index``, ``livepages:object``).
NAMESPACE = "livepages"


class LivePage(LoginRequiredMixin, TemplateView):
    """A logged-in page of the live survey."""

    http_method_names = ["get", "head", "options"]


def _object_url_of(text: str):
    """Where ``text`` (a root object UUID or a survey diaObjectId) leads: a redirect, or None."""
    text = text.strip()
    if object_queries.parse_rootid(text) is not None or text.isdigit():
        return redirect(f"{NAMESPACE}:object", rootid=text)
    return None


class LiveSurveyView(LivePage):
    """``/live/``: table counts, brokers with message rates, the last night, schema versions.

    ``?object=<root UUID or diaObjectId>`` goes to that object's page."""

    template_name = "live/index.html"

    def get(self, request, *args, **kwargs):
        wanted = request.GET.get("object", "").strip()
        if wanted:
            target = _object_url_of(wanted)
            if target is not None:
                return target
            messages.error(request, f"Not a root object id (UUID) or a diaObjectId: {wanted[:80]!r}")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        names = overview.brokers()
        windows = overview.recent_windows(names)
        return {**super().get_context_data(**kwargs), "counts": overview.survey_counts(windows),
                "brokers": overview.broker_rates(names), "windows": windows,
                "last_night": overview.last_night(), "object_query": self.request.GET.get("object", ""),
                "cap": f"{overview.RECENT_CAP:,}", "window": f"{overview.WINDOW:,}"}


def not_found(request, message: str):
    """A 404 naming the problem: the site's page for browsers, ``{"error": ...}`` for programs."""
    if wants_json(request):
        return JsonResponse({"error": message, "path": request.path}, status=404)
    return render(request, "live/not_found.html", {"message": message}, status=404)


class LiveObjectView(LivePage):
    """``/live/object/<rootid>/``: a root object's position, survey ids, light curve and classifications.

    ``rootid`` is the root object's UUID; a survey ``diaObjectId`` redirects to its root object. Anything
    else, or an id nobody knows, is a 404 naming it."""

    template_name = "live/object.html"

    def get(self, request, rootid: str, *args, **kwargs):
        if rootid.isdigit():
            root = object_queries.root_of_survey_object(int(rootid)) if int(rootid) < 2**63 else None
            if root is None:
                return not_found(request, f"No live survey object with diaObjectId {rootid}")
            return redirect(f"{NAMESPACE}:object", rootid=str(root))
        parsed = object_queries.parse_rootid(rootid)
        if parsed is None:
            return not_found(request, f"Not a root object id (a UUID): {rootid[:80]!r}")
        obj = object_queries.root_object(parsed)
        if obj is None:
            return not_found(request, f"No live root object {parsed}")
        if str(parsed) != rootid:  # one URL per object
            return redirect(f"{NAMESPACE}:object", rootid=str(parsed))
        return super().get(request, *args, obj=obj, **kwargs)

    def get_context_data(self, obj: dict, **kwargs):
        rootid = obj["id"]
        cifiers = object_queries.classifications(rootid)
        return {**super().get_context_data(**kwargs), "obj": obj, "rootid": str(rootid),
                "survey_objects": object_queries.survey_objects(rootid),
                "ltcv": object_queries.light_curve(rootid), "classifiers": cifiers,
                "probplots": [{"label": c["label"], "traces": c["traces"]} for c in cifiers]}
