"""Building blocks of the declarative description of the plain (non-DRF) JSON views.

Each module of :mod:`desctom.apidocs.groups` lists :class:`Endpoint` objects: the URL name the
view is routed under, the OpenAPI path, and one :class:`Operation` per HTTP method with its
request body (a JSON Schema), query parameters and responses. :func:`openapi_paths` turns them
into the ``paths`` object the hook merges into drf-spectacular's schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desctom.core.bounds import INT64_MAX, INT64_MIN

#: The schemes every JSON endpoint accepts (components/securitySchemes, added by the hook).
SECURITY = [{"tokenAuth": []}, {"basicAuth": []}, {"cookieAuth": []}]

# -- JSON Schema helpers ------------------------------------------------------------------------

INT64 = {"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX}
NUMBER = {"type": "number"}
STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}
ANY_OBJECT = {"type": "object", "additionalProperties": True}
#: ``"status": "ok"`` of the original's JSON answers.
OK = {"type": "string", "enum": ["ok"]}


def nullable(schema: dict) -> dict:
    """``schema`` or ``null`` (OpenAPI 3.0 ``nullable``)."""
    return {**schema, "nullable": True}


def array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def obj(properties: dict, required=(), additional: bool | dict = False, **extra) -> dict:
    """A JSON object with ``properties``; unknown keys are refused unless ``additional``."""
    schema = {"type": "object", "properties": properties, "additionalProperties": additional, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def open_obj(properties: dict, required=()) -> dict:
    """An object with at least ``properties`` (responses: more keys may come)."""
    return obj(properties, required or list(properties), additional=True)


ERROR = obj(
    {"error": STRING},
    ["error"],
    additional=True,
    description='Every error of a plain JSON endpoint: `{"error": "<what is wrong>"}`.',
)
DRF_ERROR = obj({"detail": STRING}, ["detail"], additional=True)
SQL_ERROR = obj({"status": {"type": "string", "enum": ["error"]}, "error": STRING}, ["status", "error"])

# -- responses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """One documented answer: ``schema`` for JSON, or ``media`` (e.g. ``text/plain``) for other bodies."""

    description: str
    schema: dict | None = None
    media: tuple[str, ...] = ("application/json",)
    headers: tuple[str, ...] = ()

    def as_openapi(self) -> dict:
        content = {}
        for media in self.media:
            if media == "application/json":
                content[media] = {"schema": self.schema or ANY_OBJECT}
            elif media.startswith("text/"):
                content[media] = {"schema": STRING}
            else:
                content[media] = {"schema": {"type": "string", "format": "binary"}}
        result: dict = {"description": self.description, "content": content}
        if self.headers:
            result["headers"] = {h: {"schema": STRING} for h in self.headers}
        return result


def error(description: str) -> Response:
    return Response(description, ERROR)


UNAUTHENTICATED = error("No or bad credentials (never a redirect to the login page).")
CSRF_FAILED = error("A session-cookie request without the `X-CSRFToken` header (unsafe methods only).")
TOO_LARGE = error("The request body is over the limit of its kind (docs/api.md); refused before it is read.")
LOCKED_OUT = error("Too many failed logins for this account or from this address (password logins: "
                   "Basic); `Retry-After` says when to try again.")
BAD_REQUEST = error("The request is malformed or a parameter is wrong; the text names the problem.")

# -- endpoints --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A query (or path) parameter."""

    name: str
    schema: dict
    description: str = ""
    where: str = "query"
    required: bool = False

    def as_openapi(self) -> dict:
        return {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "schema": self.schema,
            "description": self.description,
        }


@dataclass(frozen=True)
class Operation:
    """One HTTP method of an endpoint."""

    method: str
    summary: str
    responses: dict[int, Response]
    description: str = ""
    body: dict | None = None
    body_required: bool = False
    query: tuple[Param, ...] = ()
    public: bool = False
    unsafe_session: bool | None = None  # default: every method but GET

    def as_openapi(self, tag: str, operation_id: str, path_params: tuple[Param, ...]) -> dict:
        responses = dict(self.responses)
        if not self.public:
            responses.setdefault(401, UNAUTHENTICATED)
            responses.setdefault(429, LOCKED_OUT)
            if self.unsafe_session if self.unsafe_session is not None else self.method != "get":
                responses.setdefault(403, CSRF_FAILED)
        result = {
            "operationId": operation_id,
            "summary": self.summary,
            "tags": [tag],
            "description": self.description,
            "responses": {str(code): r.as_openapi() for code, r in sorted(responses.items())},
        }
        params = [p.as_openapi() for p in (*path_params, *self.query)]
        if params:
            result["parameters"] = params
        if self.body is not None:
            result["requestBody"] = {
                "required": self.body_required,
                "content": {"application/json": {"schema": self.body}},
            }
        result["security"] = [{}] if self.public else SECURITY
        return result


@dataclass(frozen=True)
class Endpoint:
    """A routed view: its URL name (``namespace:name``), OpenAPI path and operations."""

    url_name: str
    path: str
    operations: tuple[Operation, ...]
    path_params: tuple[Param, ...] = ()
    writes: tuple[str, ...] = field(default=())  # tables a successful call may change (fuzz checks)
    also: tuple[str, ...] = ()  # further URL names routed to the same view and described by this path

    @property
    def url_names(self) -> tuple[str, ...]:
        return (self.url_name, *self.also)


def json_api_pair(
    summary: str, body: dict, ok: Response, description: str = "", errors: dict[int, Response] | None = None
) -> tuple[Operation, Operation]:
    """POST with a JSON body, and GET reading the same body (as the original's clients do)."""
    responses = {200: ok, 400: BAD_REQUEST, 413: TOO_LARGE, **(errors or {})}
    post = Operation("post", summary, responses, description, body=body)
    get = Operation(
        "get",
        summary + " (GET with the same JSON body)",
        responses,
        "The same as POST: the JSON body is read on GET too. " + description,
        body=body,
    )
    return post, get


def post_only(
    summary: str, body: dict, ok: Response, description: str = "", errors: dict[int, Response] | None = None
) -> Operation:
    responses = {200: ok, 400: BAD_REQUEST, 413: TOO_LARGE, **(errors or {})}
    return Operation("post", summary, responses, description, body=body)


def openapi_paths(endpoints: list[Endpoint], tag: str) -> dict[str, dict]:
    """The OpenAPI ``paths`` entries of ``endpoints``."""
    paths: dict[str, dict] = {}
    for endpoint in endpoints:
        base = endpoint.url_name.replace(":", "_")
        item = paths.setdefault(endpoint.path, {})
        for op in endpoint.operations:
            item[op.method] = op.as_openapi(tag, f"{base}_{op.method}", endpoint.path_params)
    return paths
