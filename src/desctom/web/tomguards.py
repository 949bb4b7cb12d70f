"""Guards in front of TOM Toolkit views that fail with 500 in features DESC TOM does not configure.

DESC TOM configures no observation facility, no data sharing and no outside data service (they all
need the network). The TOM Toolkit's views for them, and a few others, raise on such input instead of
answering; each route here shadows the TOM Toolkit's route of the same path (``desctom.urls`` lists
these first), checks the input, answers a clear 4xx when it cannot be served, and otherwise hands the
request to the TOM Toolkit's own view unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path, re_path
from guardian.shortcuts import get_objects_for_user
from tom_dataproducts import views as dp_views
from tom_dataproducts.single_target_data_service import single_target_data_service as stds
from tom_dataservices import views as ds_views
from tom_dataservices.dataservices import get_data_service_classes
from tom_dataservices.models import DataServiceQuery
from tom_observations import views as obs_views
from tom_observations.facility import get_service_classes as facility_classes
from tom_observations.models import ObservationRecord, ObservationTemplate
from tom_targets import views as target_views
from tom_targets.api_views import TargetListViewSet, permissions_map
from tom_targets.models import Target, TargetList


def refuse(request, status: int, message: str):
    """A 4xx answer: JSON under ``/api/`` or when asked for, else a page in the site's layout."""
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": message}, status=status)
    return render(request, "desctom/unavailable.html", {"message": message, "status": status}, status=status)


def guarded(view_class, check):
    """``view_class``'s view behind ``check(request, **kwargs)``: a refusal, or None to go on.

    A view that needs a login still sends anonymous callers to the login page first.
    """
    view = view_class.as_view()

    def guarded_view(request, *args, **kwargs):
        if issubclass(view_class, LoginRequiredMixin) and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        refusal = check(request, **kwargs)
        return refusal if refusal is not None else view(request, *args, **kwargs)

    guarded_view.view_class = view_class
    guarded_view.__doc__ = view_class.__doc__
    return guarded_view


def facility_check(name: str, request):
    if name not in facility_classes():
        return refuse(request, 404, f"No observation facility named {name!r} is configured: DESC TOM "
                                    "configures none (TOM_FACILITY_CLASSES is empty).")
    return None


def by_facility(request, facility, **kwargs):
    return facility_check(facility, request)


def by_template(request, pk, **kwargs):
    template = ObservationTemplate.objects.filter(pk=pk).first()
    if template is None:
        return refuse(request, 404, f"No observation template {pk}.")
    return facility_check(template.facility, request)


def by_record(request, pk, **kwargs):
    record = ObservationRecord.objects.filter(pk=pk).first()
    if record is None:
        return refuse(request, 404, f"No observation {pk}.")
    return facility_check(record.facility, request)


def by_data_service(request, **kwargs):
    name = request.GET.get("data_service") if request.method == "GET" else request.POST.get("data_service")
    if not name:
        return refuse(request, 400, "Say which data service: ?data_service=<name>.")
    if name not in get_data_service_classes():
        return refuse(request, 404, f"No data service named {name!r}.")
    return None


def by_saved_query(request, pk, **kwargs):
    if not DataServiceQuery.objects.filter(pk=pk).exists():
        return refuse(request, 404, f"No saved data service query {pk}.")
    return None


def by_session_query(request, **kwargs):
    if "data_service" not in request.session.get("query_parameters", {}):
        return refuse(request, 400, "No data service query to run: make one first.")
    return None


def by_single_target_service(request, service, **kwargs):
    if service not in stds.get_service_classes():
        return refuse(request, 404, f"No single-target data service {service!r}: DESC TOM configures none.")
    return None


def no_sharing(request, **kwargs):
    if not getattr(settings, "DATA_SHARING", None):
        return refuse(request, 404, "Sharing with other TOMs is not configured in DESC TOM (DATA_SHARING).")
    return None


def post_only(request, **kwargs):
    if request.method != "POST":
        return refuse(request, 405, "Upload data products with a POST of the form on a target's page.")
    return None


def needs_target_id(request, **kwargs):
    if not request.GET.get("target_id", "").isdigit():
        return refuse(request, 400, "Say which target's page to return to: ?target_id=<id>.")
    return None


def outside_services(request, **kwargs):
    return refuse(request, 404, "Updating reduced data from outside data services is not offered: DESC TOM's "
                                "targets come from its own surveys and it reaches no outside service.")


class TargetCreateAnswering400(target_views.TargetCreateView):
    """The TOM Toolkit's target form; a POST missing coordinates is a form error, an invalid form a 400."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if "data" in kwargs:
            data = kwargs["data"].copy()
            for field in ("ra", "dec"):
                data.setdefault(field, "")
            kwargs["data"] = data
        return kwargs

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class TargetListReadable(TargetListViewSet):
    """``/api/targetlist/<pk>/``: the groups holding a target the caller may see (the TOM Toolkit
    filters on a field target lists do not have)."""

    def get_queryset(self):
        permission = permissions_map.get(self.request.method)
        visible = get_objects_for_user(self.request.user, f"{Target._meta.app_label}.{permission}")
        return TargetList.objects.filter(targets__in=visible).distinct()


targetlist_view = TargetListReadable.as_view({"get": "retrieve", "delete": "destroy"})

#: Shadowing routes, spelled exactly as the TOM Toolkit's (the URL table test relies on it).
urlpatterns = [
    path("observations/template/<str:facility>/create/",
         guarded(obs_views.ObservationTemplateCreateView, by_facility)),
    path("observations/template/<int:pk>/update/",
         guarded(obs_views.ObservationTemplateUpdateView, by_template)),
    path("observations/template/<int:pk>/", guarded(obs_views.ObservationTemplateUpdateView, by_template)),
    # the TOM Toolkit lists this before its <str:facility>/create/, which would take "groups" for a facility
    path("observations/groups/create/", obs_views.ObservationGroupCreateView.as_view()),
    path("observations/<str:facility>/create/", guarded(obs_views.ObservationCreateView, by_facility)),
    path("observations/<str:facility>/redirect/", guarded(obs_views.ObservationRedirectView, by_facility)),
    path("observations/<int:pk>/cancel/", guarded(obs_views.ObservationRecordCancelView, by_record)),
    path("tom_dataservices/query/create/", guarded(ds_views.DataServiceQueryCreateView, by_data_service)),
    path("tom_dataservices/query/<int:pk>/update/",
         guarded(ds_views.DataServiceQueryUpdateView, by_saved_query)),
    path("tom_dataservices/query/run/", guarded(ds_views.RunQueryView, by_session_query)),
    path("targets/create/", TargetCreateAnswering400.as_view()),
    path("targets/<int:pk>/share/", guarded(target_views.TargetShareView, no_sharing)),
    path("targets/targetgrouping/<int:pk>/share/", guarded(target_views.TargetGroupingShareView, no_sharing)),
    path("dataproducts/data/upload/", guarded(dp_views.DataProductUploadView, post_only)),
    path("dataproducts/data/reduced/update/", guarded(dp_views.UpdateReducedDataView, outside_services)),
    path("dataproducts/data/single_target_data_service/<str:service>/query/",
         guarded(dp_views.SingleTargetDataServiceQueryView, by_single_target_service)),
    path("dataproducts/data/<int:pk>/feature/", guarded(dp_views.DataProductFeatureView, needs_target_id)),
    path("dataproducts/data/<int:dp_pk>/share/", guarded(dp_views.DataShareView, no_sharing)),
    path("dataproducts/target/<int:tg_pk>/share/", guarded(dp_views.DataShareView, no_sharing)),
    path("api/", include([
        re_path(r"^targetlist/(?P<pk>[^/.]+)/$", targetlist_view),
        re_path(r"^targetlist/(?P<pk>[^/.]+)\.(?P<format>[a-z0-9]+)/?$", targetlist_view),
    ])),
]
