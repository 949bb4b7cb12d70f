"""Site-wide views that are not part of a campaign app."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from desctom import __version__


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
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
            streams = None if scope == "web" else _judged_streams(cur)
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this is a health probe
        response = JsonResponse({"status": "error", "error": "database unavailable",
                                 "database": f"unreachable: {exc.__class__.__name__}",
                                 "unhealthy": ["database"], "version": __version__}, status=503)
        response["Retry-After"] = "10"
        return response
    if scope == "web":
        return JsonResponse({"status": "ok", "scope": "web", "database": "ok", "version": __version__})
    from desctom.core import config
    from desctom.elasticc2.queries import pollerhealth

    bootstrap = config.load().kafka_bootstrap
    kafka_ok = pollerhealth.kafka_reachable(bootstrap)
    components = {"database": {"healthy": True},
                  "kafka": {"healthy": kafka_ok, "address": bootstrap,
                            **({} if kafka_ok else {"problem": "no broker accepts a connection"})}}
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


def _judged_streams(cur) -> list[dict]:
    from django.db.utils import ProgrammingError

    from desctom.elasticc2.queries import pollerhealth

    try:
        return pollerhealth.judge_streams(cur)
    except ProgrammingError:  # not migrated yet: no stream to judge
        return []


def home_counts() -> dict:
    """What this TOM holds, counted live (estimates on big tables): shown on the home page."""
    from tom_targets.models import Target

    from desctom.core.counting import count
    from desctom.elasticc2.queries.clock import simulation_clock

    return {
        "e2_ppdb_objects": count("elasticc2_ppdbdiaobject"),
        "e2_objects": count("elasticc2_diaobject"),
        "e2_alerts_sent": count("elasticc2_ppdbalert", "alertsenttimestamp IS NOT NULL"),
        "e2_messages": count("elasticc2_brokermessage"),
        "e2_classifiers": count("elasticc2_brokerclassifier"),
        "e2_wanted": count("elasticc2_wantedspectra"),
        "e2_planned": count("elasticc2_plannedspectra"),
        "e2_reported": count("elasticc2_spectruminfo"),
        "e2_clock": simulation_clock(),
        "e1_objects": count("elasticc_diaobject"),
        "e1_messages": count("elasticc_brokermessage"),
        "targets": count(Target._meta.db_table),
    }


class HomeView(TemplateView):
    """``/``: what this TOM holds; live counts for logged-in users."""

    template_name = "tom_common/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.is_authenticated:
            context["counts"] = home_counts()
        return context
