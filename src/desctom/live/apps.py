from django.apps import AppConfig


class LiveConfig(AppConfig):
    """The live survey: root objects, the survey's objects, sources, forced sources, message provenance
    and spectrum coordination, under FASTDB's table names (``root_diaobject``, ``diasource``, ...)."""

    name = "desctom.live"
    label = "live"
    verbose_name = "Live Rubin survey"
