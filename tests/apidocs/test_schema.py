"""The OpenAPI description: served publicly, complete (every JSON route and method), Swagger UI offline."""

from __future__ import annotations

import re

import pytest
import requests
import yaml
from django.urls import path

from desctom.apidocs import coverage
from desctom.apidocs.contracts import api_doc_of, named_routes
from desctom.core.jsonauth import JsonLoginRequiredMixin

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    res = client.get("/api/schema/", {"format": "json"})
    assert res.status_code == 200
    return res.json()


def test_every_json_route_and_method_is_described(schema):
    assert schema["openapi"].startswith("3.")
    assert coverage.undescribed(schema) == []
    # The plain views, the DRF routers of both campaigns and the TOM Toolkit's API are all there.
    for expected in (
        "/elasticc2/ltcv",
        "/elasticc2/brokermessage/{info}/",
        "/db/checksqlquery/{queryid}/",
        "/elasticc/addtruth",
        "/accounts/whoami/",
        "/healthz",
        "/elasticc2/ppdbdiaobject/{diaobject_id}/",
        "/elasticc/diatruth/{diaSourceId}/",
        "/api/targets/",
    ):
        assert expected in schema["paths"], expected
    assert set(schema["paths"]["/elasticc2/brokermessage/"]) == {"get", "put"}
    assert set(schema["paths"]["/elasticc2/askforspectrum"]) == {"post"}


class _NewEndpoint(JsonLoginRequiredMixin):
    def get(self, request):  # pragma: no cover - never called
        return None

    def delete(self, request):  # pragma: no cover
        return None


def test_a_new_endpoint_without_description_is_reported(schema):
    patterns = [
        path("elasticc2/brandnew", _NewEndpoint.as_view()),
        path("elasticc2/ltcv", _NewEndpoint.as_view()),
    ]
    missing = coverage.undescribed(schema, patterns)
    assert missing[0].startswith("/elasticc2/brandnew (plain view")
    assert missing[1:] == ["DELETE of _NewEndpoint"]  # ltcv is described, but not with DELETE
    del schema["paths"]["/elasticc2/conesearch"]
    assert any(m.startswith("/elasticc2/conesearch ") for m in coverage.undescribed(schema))


def test_contracts_describe_only_methods_their_views_have():
    for _route, name, callback in named_routes():
        doc = api_doc_of(callback, name)
        if doc is not None:
            described = {op.method for op in doc.operations}
            allowed = coverage.view_methods(callback)
            assert described <= allowed, (name, described - allowed)


def test_auth_schemes_and_error_shapes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"tokenAuth", "basicAuth", "cookieAuth"}
    assert "X-CSRFToken" in schema["info"]["description"]
    ltcv = schema["paths"]["/elasticc2/ltcv"]["post"]
    assert {"200", "400", "401", "403", "413"} <= set(ltcv["responses"])
    assert ltcv["responses"]["400"]["content"]["application/json"]["schema"]["required"] == ["error"]
    assert schema["paths"]["/healthz"]["get"]["security"] == [{}]
    assert "401" in schema["paths"]["/elasticc2/ppdbdiaobject/"]["get"]["responses"]


def test_schema_and_docs_are_public_and_offline(live_server):
    base = live_server.url
    res = requests.get(f"{base}/api/schema/", timeout=30)
    assert res.status_code == 200 and "openapi" in yaml.safe_load(res.text)
    # A bad credential does not matter here: the description is public.
    res = requests.get(
        f"{base}/api/schema/?format=json", headers={"Authorization": "Token nonsense"}, timeout=30
    )
    assert res.status_code == 200 and res.json()["info"]["title"] == "DESC TOM API"
    assert requests.get(f"{base}/api/redoc/", timeout=30).status_code != 200  # Redoc would load Google fonts
    for page in ("/api/docs/",):
        res = requests.get(base + page, timeout=30)
        assert res.status_code == 200 and "text/html" in res.headers["Content-Type"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', res.text)
        assert assets and all(a.startswith("/static/") for a in assets if a.endswith((".js", ".css"))), assets
        assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", " ".join(assets))
        for asset in assets:
            if asset.endswith((".js", ".css")):
                assert requests.get(base + asset, timeout=30).status_code == 200, asset
        assert "/api/schema/" in res.text
