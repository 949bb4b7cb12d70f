"""Site-wide views that are not part of a campaign app."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from desctom import __version__


@require_GET
def healthz(request):
    """Liveness and database health, for ``desctom status`` and load balancers (no login needed)."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        db_ok = True
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this is a health probe
        response = JsonResponse({"status": "error", "error": "database unavailable",
                                 "database": f"unreachable: {exc.__class__.__name__}",
                                 "version": __version__}, status=503)
        response["Retry-After"] = "10"
        return response
    return JsonResponse({"status": "ok", "database": "ok" if db_ok else "error", "version": __version__})


def home_counts() -> dict:
    """What this TOM holds, counted live (estimates on big tables): shown on the home page."""
    from tom_targets.models import Target

    from desctom.elasticc2.views.common import count, simulation_clock

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
