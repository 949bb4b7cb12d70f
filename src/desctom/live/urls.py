"""FASTDB's routes on the live tables (included at the site root: ``/auth/``, ``/ltcv/``, ``/spectrum/``,
``/getprocvers``, ``/count/``). Like FASTDB, each route answers with or without a trailing slash."""

from django.urls import re_path

from desctom.live.http import fastdb_auth as auth
from desctom.live.http import fastdb_ltcv as ltcv
from desctom.live.http import fastdb_spectrum as spectrum

SEG = r"[^/]+"


def route(pattern: str, view, name: str):
    """``pattern`` (a regex without anchors) with an optional trailing slash."""
    return re_path(rf"^{pattern}/?$", view.as_view(), name=name)


app_name = "live"
urlpatterns = [
    route("auth/getchallenge", auth.GetChallenge, "getchallenge"),
    route("auth/respondchallenge", auth.RespondChallenge, "respondchallenge"),
    route("auth/isauth", auth.IsAuth, "isauth"),
    route("auth/logout", auth.Logout, "logout"),
    route("getprocvers", ltcv.GetProcvers, "getprocvers"),
    route(rf"count/(?P<which>{SEG})(?:/(?P<procver>{SEG}))?", ltcv.Count, "count"),
    route(rf"ltcv/getltcv/(?P<first>{SEG})(?:/(?P<objid>{SEG}))?", ltcv.GetLtcv, "getltcv"),
    route(rf"ltcv/getmanyltcvs(?:/(?P<procver>{SEG}))?", ltcv.GetManyLtcvs, "getmanyltcvs"),
    route(rf"ltcv/getrandomltcv(?:/(?P<procver>{SEG}))?", ltcv.GetRandomLtcv, "getrandomltcv"),
    route(rf"ltcv/gethottransients(?:/(?P<procver>{SEG}))?", ltcv.GetHotTransients, "gethottransients"),
    route("spectrum/askforspectrum", spectrum.AskForSpectrum, "askforspectrum"),
    route("spectrum/spectrawanted", spectrum.SpectraWanted, "spectrawanted"),
    route("spectrum/planspectrum", spectrum.PlanSpectrum, "planspectrum"),
    route("spectrum/removespectrumplan", spectrum.RemoveSpectrumPlan, "removespectrumplan"),
    route("spectrum/reportspectruminfo", spectrum.ReportSpectrumInfo, "reportspectruminfo"),
    route("spectrum/getknownspectruminfo", spectrum.GetKnownSpectrumInfo, "getknownspectruminfo"),
]
