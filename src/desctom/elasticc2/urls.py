"""URLs of the ELAsTiCC2 app, mounted at ``/elasticc2/`` (paths exactly as the original's).

JSON endpoints have no trailing slash; the DRF REST views have one. ``/elasticc2/`` itself is
left for the campaign's HTML front page (the REST router has no API-root view).
"""

from django.urls import path

from desctom.core.messagequery import message_routes
from desctom.elasticc2.http.api.alerts import GetAlertView
from desctom.elasticc2.http.api.brokermessages import BrokerMessageView
from desctom.elasticc2.http.api.clock import ClockView
from desctom.elasticc2.http.api.cone import ConeSearchView
from desctom.elasticc2.http.api.hot import GetHotSNeView
from desctom.elasticc2.http.api.lightcurves import LtcvFeaturesView, LtcvView
from desctom.elasticc2.http.api.rest import router
from desctom.elasticc2.http.api.spectra import AskForSpectrumView, SpectraWantedView
from desctom.elasticc2.http.api.spectra_reports import (
    GetKnownSpectrumInfoView,
    PlanSpectrumView,
    RemoveSpectrumPlanView,
    ReportSpectrumInfoView,
)
from desctom.elasticc2.http.api.taxonomy import ClassIdsView, ClassifiersJsonView
from desctom.elasticc2.http.pages import followup as followup_pages
from desctom.elasticc2.http.pages import front as front_pages
from desctom.elasticc2.http.pages import objects as object_pages

app_name = "elasticc2"

urlpatterns = [
    # HTML pages
    path("", front_pages.FrontPageView.as_view(), name="index"),
    path("classifiers", front_pages.ClassifiersView.as_view(), name="classifiers"),
    path("adminsummary", front_pages.AdminSummaryView.as_view(), name="adminsummary"),
    path("objects/", object_pages.ObjectSearchView.as_view(), name="objects"),
    path("object/<int:objectid>/", object_pages.ObjectView.as_view(), name="object"),
    path("object/<int:objectid>/target", object_pages.CreateTargetView.as_view(), name="object_target"),
    path("followup/", followup_pages.FollowupBoardView.as_view(), name="followup"),
    # JSON endpoints
    path("clock", ClockView.as_view(), name="clock"),
    path("classids", ClassIdsView.as_view(), name="classids"),
    path("classifiers_json", ClassifiersJsonView.as_view(), name="classifiers_json"),
    path("getalert", GetAlertView.as_view(), name="getalert"),
    path("ltcv", LtcvView.as_view(), name="ltcv"),
    path("ltcvfeatures", LtcvFeaturesView.as_view(), name="ltcvfeatures"),
    path("conesearch", ConeSearchView.as_view(), name="conesearch"),
    *message_routes(BrokerMessageView.as_view()),
    path("gethottransients", GetHotSNeView.as_view(), name="gethottransients"),
    path("askforspectrum", AskForSpectrumView.as_view(), name="askforspectrum"),
    path("spectrawanted", SpectraWantedView.as_view(), name="spectrawanted"),
    path("planspectrum", PlanSpectrumView.as_view(), name="planspectrum"),
    path("removespectrumplan", RemoveSpectrumPlanView.as_view(), name="removespectrumplan"),
    path("reportspectruminfo", ReportSpectrumInfoView.as_view(), name="reportspectruminfo"),
    path("getknownspectruminfo", GetKnownSpectrumInfoView.as_view(), name="getknownspectruminfo"),
    *router.urls,
]
