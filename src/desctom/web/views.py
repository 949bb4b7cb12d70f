"""Site-wide views that are not part of a campaign app."""

from django.db.utils import ProgrammingError
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from desctom import __version__
from desctom.core import config
from desctom.core.counting import database_answers
from desctom.elasticc.queries import overview as e1_overview
from desctom.elasticc2.queries import overview as e2_overview
from desctom.elasticc2.queries import pollerhealth
from desctom.metrics.queries.health import judge_metrics
from desctom.web.contract import HEALTHZ_DOC


@require_GET
def healthz(request):
    """Health of the whole system (no login): the database, Kafka and each broker stream.

    ``?scope=web`` asks only whether the web server and its database answer (liveness: what
    ``desctom up`` waits for and ``desctom status`` shows for the web). Otherwise the answer names
    every component; 503 with ``unhealthy`` listing them when any is unhealthy.
    """
    scope = request.GET.get("scope", "system")
    if scope not in ("system", "web"):
        return JsonResponse({"status": "error", "error": f"unknown scope {scope!r}: use web or system"},
                            status=400)
    try:
        database_answers()
        streams = None if scope == "web" else _judged_streams()
        metrics = None if scope == "web" else _judged_metrics()
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this is a health probe
        response = JsonResponse({"status": "error", "error": "database unavailable",
                                 "database": f"unreachable: {exc.__class__.__name__}",
                                 "unhealthy": ["database"], "version": __version__}, status=503)
        response["Retry-After"] = "10"
        return response
    if scope == "web":
        return JsonResponse({"status": "ok", "scope": "web", "database": "ok", "version": __version__})
    bootstrap = config.load().kafka_bootstrap
    kafka_ok = pollerhealth.kafka_reachable(bootstrap)
    components = {"database": {"healthy": True},
                  "kafka": {"healthy": kafka_ok, "address": bootstrap,
                            **({} if kafka_ok else {"problem": "no broker accepts a connection"})}}
    if metrics is not None:
        components["metrics"] = metrics
    for stream in streams:
        components[f"stream:{stream['broker']}"] = pollerhealth.jsonable(stream)
    unhealthy = [name for name, comp in components.items() if not comp["healthy"]]
    body = {"status": "error" if unhealthy else "ok", "scope": "system", "database": "ok",
            "kafka": "ok" if kafka_ok else "unreachable", "unhealthy": unhealthy,
            "components": components, "version": __version__}
    response = JsonResponse(body, status=503 if unhealthy else 200)
    if unhealthy:
        body["error"] = "unhealthy: " + ", ".join(unhealthy)
        response = JsonResponse(body, status=503)
        response["Retry-After"] = "10"
    return response


healthz.api_doc = HEALTHZ_DOC


def _judged_streams() -> list[dict]:
    try:
        return e2_overview.judged_streams()
    except ProgrammingError:  # not migrated yet: no stream to judge
        return []


def _judged_metrics() -> dict | None:
    from django.db import connection

    try:
        with connection.cursor() as cur:
            return judge_metrics(cur, config.load().metrics_stale_seconds)
    except ProgrammingError:  # not migrated yet: nothing to judge
        return None


def home_counts() -> dict:
    """What this TOM holds, counted live (estimates on big tables): shown on the home page."""
    return {**e2_overview.home_counts(), **e1_overview.home_counts()}


class HomeView(TemplateView):
    """``/``: what this TOM holds; live counts for logged-in users."""

    template_name = "tom_common/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.is_authenticated:
            context["counts"] = home_counts()
        return context
