"""Root URLconf: DESC TOM's own routes first, then everything the TOM Toolkit mounts at ``/``."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from desctom.accounts.http.views import WhoAmIView
from desctom.web import tomguards
from desctom.web import views as web_views

#: Unknown paths: JSON ``{"error": ...}`` for programs, the HTML page for browsers.
handler404 = "desctom.web.slashes.not_found"

urlpatterns = [
    # Django's own login form (fields `username`/`password`, error text "Please enter a correct
    # username and password"), which the original tom_client.py and its users' scripts expect.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/whoami/", WhoAmIView.as_view(), name="whoami"),
    path("healthz", web_views.healthz, name="healthz"),
    path("", web_views.HomeView.as_view(), name="home"),  # live counts; shadows the TOM Toolkit's home
    path("elasticc2/", include("desctom.elasticc2.urls")),
    path("elasticc/", include("desctom.elasticc.urls")),
    path("live/", include("desctom.live.urls_pages")),
    path("db/", include("desctom.db.urls")),
    path("metrics/", include("desctom.metrics.urls")),
    path("api/", include("desctom.apidocs.urls")),  # OpenAPI: /api/schema/, /api/docs/
    path("", include("desctom.live.urls")),  # FASTDB's routes: /auth/, /ltcv/, /spectrum/, /getprocvers
    *tomguards.urlpatterns,  # 4xx instead of 500 where the TOM Toolkit meets an unconfigured feature
    path("", include("tom_common.urls")),
]
