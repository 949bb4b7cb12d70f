from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """Campaign metrics: computed from the database by ``update_metrics``, stored, shown with plotly."""

    name = "desctom.metrics"
    label = "metrics"
    verbose_name = "Metrics"
