"""The drf-spectacular postprocessing hook: plain JSON views in, DRF error answers and auth described.

drf-spectacular describes the DRF views (the ELAsTiCC/ELAsTiCC2 REST routers and the TOM Toolkit's
``/api/``) but knows nothing of their error answers; the plain Django views are described from the
contract each carries (``api_doc``, :mod:`desctom.core.apidoc`), found by walking the URLconf.
"""

from __future__ import annotations

from desctom.apidocs.contracts import plain_view_paths
from desctom.core.apidoc import DRF_ERROR, INT64_MAX, SECURITY, STRING, obj

AUTH_DESCRIPTION = """Every JSON endpoint (except `/healthz` and this description) needs a logged-in user,
by any of:

* **Token**: `Authorization: Token <key>` (get a key with `POST /api/token-auth/` and `username`,
  `password`). No CSRF token needed.
* **Basic**: `Authorization: Basic <base64 user:password>`. No CSRF token needed.
* **Session cookie** (`sessionid`, from `POST /accounts/login/`): unsafe methods (POST, PUT, ...)
  must send the `csrftoken` cookie's value in the `X-CSRFToken` header (403 otherwise).

Anonymous callers get 401 JSON, never a redirect. Errors of the plain JSON endpoints are
`{"error": "..."}`, those of the DRF endpoints `{"detail": "..."}`; the SQL API answers problems with
HTTP 200 and `{"status": "error", "error": "..."}` as the original did."""

MUST_GIVE_ID = obj({"error": STRING}, ["error"])


def _drf_error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": DRF_ERROR}}}


def describe_drf_errors(paths: dict) -> None:
    """Add the answers DRF gives besides 200: 401 to all, 404 to detail views, 400/403 to writes."""
    for path, item in paths.items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            responses.setdefault("401", _drf_error("No or bad credentials."))
            if "{" in path:
                responses.setdefault("404", _drf_error("Not found."))
            if path.startswith("/elasticc/diatruth"):
                truth_only = "Not an ELAsTiCC admin: the truth is for elasticc_admin and superusers."
                responses.setdefault("403", _drf_error(truth_only))
            if method not in ("get", "head", "options"):
                responses.setdefault(
                    "400",
                    {
                        "description": "Invalid data (field: messages).",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                )
                responses.setdefault("403", _drf_error("Not allowed, or a session without the CSRF header."))
            for param in op.get("parameters", []):
                if param["in"] == "query" and param["name"] in ("limit", "offset"):
                    param["schema"] = {"type": "integer", "minimum": 0, "maximum": INT64_MAX // 2}


def fix_object_with_photometry(paths: dict) -> None:
    """``ppdbdiaobjectwithsources``/``ofsource``: the list form only says "give an id"; the detail form is
    an object with its photometry, not the serializer's plain row."""
    for name, what in (("ppdbdiaobjectwithsources", "an object"), ("ppdbdiaobjectofsource", "a source")):
        listing = paths.get(f"/elasticc2/{name}/", {}).get("get")
        if listing:
            listing.pop("parameters", None)
            listing["responses"] = {
                "400": {
                    "description": f"Must give {what} id.",
                    "content": {"application/json": {"schema": MUST_GIVE_ID}},
                },
                "401": _drf_error("No or bad credentials."),
            }
        detail = next(
            (item["get"] for path, item in paths.items() if path.startswith(f"/elasticc2/{name}/{{")), None
        )
        if detail:
            row = {
                "allOf": [
                    {"$ref": "#/components/schemas/PPDBDiaObject"},
                    {
                        "type": "object",
                        "required": ["diasources", "diaforcedsources"],
                        "properties": {
                            "diasources": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/PPDBDiaSource"},
                            },
                            "diaforcedsources": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/PPDBDiaForcedSource"},
                            },
                        },
                    },
                ]
            }
            detail["responses"]["200"] = {
                "description": "The object, its sources and forced sources in time order.",
                "content": {"application/json": {"schema": row}},
            }


def fix_elasticc_alerts(paths: dict) -> None:
    """``/elasticc/diaalert/``: rows are whole v0.9 alerts, not the table's serializer."""
    from desctom.elasticc.http.api.contract import ALERT_OUT

    page = {
        "type": "object",
        "required": ["count", "results"],
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": "string", "nullable": True},
            "previous": {"type": "string", "nullable": True},
            "results": {"type": "array", "items": ALERT_OUT},
        },
    }
    for path, item in paths.items():
        if path.startswith("/elasticc/diaalert/") and "get" in item:
            schema = ALERT_OUT if "{" in path else page
            item["get"]["responses"]["200"] = {
                "description": "v0.9 alerts (source, object and previous photometry filled in).",
                "content": {"application/json": {"schema": schema}},
            }


def add_plain_views(result: dict, generator, request, public) -> dict:
    """drf-spectacular POSTPROCESSING_HOOK: merge the registry into ``result``."""
    paths = result.setdefault("paths", {})
    describe_drf_errors(paths)
    fix_object_with_photometry(paths)
    fix_elasticc_alerts(paths)
    paths.setdefault(
        "/api/",
        {
            "get": {
                "operationId": "api_root",
                "tags": ["api"],
                "summary": "The TOM Toolkit REST API's routes",
                "security": SECURITY,
                "responses": {
                    "200": {
                        "description": "Route name -> URL.",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
                            }
                        },
                    },
                    "401": _drf_error("No or bad credentials."),
                },
            }
        },
    )
    for path, item in plain_view_paths(generator).items():
        paths.setdefault(path, {}).update(item)
    result["paths"] = dict(sorted(paths.items()))
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["tokenAuth"] = {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>` (from `POST /api/token-auth/`).",
    }
    schemes["basicAuth"] = {"type": "http", "scheme": "basic"}
    schemes["cookieAuth"] = {
        "type": "apiKey",
        "in": "cookie",
        "name": "sessionid",
        "description": "Session from `POST /accounts/login/`; unsafe methods need the `X-CSRFToken` header.",
    }
    result["security"] = SECURITY
    info = result.setdefault("info", {})
    info["description"] = f"{info.get('description', '')}\n\n{AUTH_DESCRIPTION}".strip()
    return result
