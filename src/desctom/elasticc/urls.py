"""URLs of the ELAsTiCC 1 app, mounted at ``/elasticc/`` (paths as the original's)."""

from django.urls import path

from desctom.core.messagequery import message_routes
from desctom.elasticc.http import pages as views
from desctom.elasticc.http.api import admin
from desctom.elasticc.http.api.alerts import GetAlertsAndTruthView, GetAlertsView
from desctom.elasticc.http.api.brokermessages import BrokerMessageView
from desctom.elasticc.http.api.rest import router

app_name = "elasticc"

urlpatterns = [
    path("", views.FrontPageView.as_view(), name="index"),
    path("summary", views.SummaryView.as_view(), name="summary"),
    path("adminsummary", views.AdminSummaryView.as_view(), name="adminsummary"),
    path("adddiaobject", admin.AddDiaObjectView.as_view(), name="adddiaobject"),
    path("addelasticcalert", admin.AddAlertView.as_view(), name="addelasticcalert"),
    path("addtruth", admin.AddTruthView.as_view(), name="addtruth"),
    path("addobjecttruth", admin.AddObjectTruthView.as_view(), name="addobjecttruth"),
    path("markalertsent", admin.MarkAlertSentView.as_view(), name="markalertsent"),
    path("getalerts", GetAlertsView.as_view(), name="getalerts"),
    path("getalertsandtruth", GetAlertsAndTruthView.as_view(), name="getalertsandtruth"),
    *message_routes(BrokerMessageView.as_view()),
    *router.urls,
]
