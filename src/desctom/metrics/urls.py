"""Metric pages, mounted at ``/metrics/``."""

from django.urls import path

from desctom.metrics.http import views

app_name = "metrics"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("alertstream/", views.AlertStreamView.as_view(), name="alertstream"),
    path("delays/", views.DelaysView.as_view(), name="delays"),
    path("completeness/", views.CompletenessView.as_view(), name="completeness"),
    path("confusion/", views.ConfusionView.as_view(), name="confusion"),
    path("probvstime/", views.ProbVsTimeView.as_view(), name="probvstime"),
]
