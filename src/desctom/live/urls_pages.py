"""URLs of the live survey's HTML pages, mounted at ``/live/`` (namespace ``livepages``)."""

from django.urls import path

from desctom.live.http import pages

app_name = pages.NAMESPACE

urlpatterns = [
    path("", pages.LiveSurveyView.as_view(), name="index"),
    path("object/<str:rootid>/", pages.LiveObjectView.as_view(), name="object"),
]
