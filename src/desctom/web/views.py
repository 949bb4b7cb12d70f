"""Site-wide views that are not part of a campaign app."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

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
        return JsonResponse({"status": "error", "database": f"unreachable: {exc.__class__.__name__}"},
                            status=503)
    return JsonResponse({"status": "ok", "database": "ok" if db_ok else "error", "version": __version__})
