from django.apps import AppConfig


class WebConfig(AppConfig):
    """Site-wide pages: the offline base template, home page, login page, health check."""

    name = "desctom.web"
    label = "desctom_web"
