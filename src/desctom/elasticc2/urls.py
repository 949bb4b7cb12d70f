"""URLs of the ELAsTiCC2 app, mounted at ``/elasticc2/`` (paths exactly as the original's)."""

from django.urls import include, path  # noqa: F401

app_name = "elasticc2"

urlpatterns = []
