from django.apps import AppConfig


class LiveConfig(AppConfig):
    """The live survey: root objects, the survey's objects, sources, forced sources, message provenance
    and spectrum coordination, under FASTDB's table names (``root_diaobject``, ``diasource``, ...)."""

    name = "desctom.live"
    label = "live"
    verbose_name = "Live Rubin survey"

    def ready(self):
        # FASTDB login keys (models/auth.py, migration 0002): registered here until models/__init__ lists it.
        from desctom.live.models import auth  # noqa: F401
