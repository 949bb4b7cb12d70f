"""Building blocks of the contract of the plain (non-DRF) JSON views.

A view carries its contract in one class attribute, ``api_doc``, an :class:`ApiDoc`: the request
body (a :class:`~desctom.core.contract.RequestContract`, which the view also uses to check its
input), and one :class:`Operation` per HTTP method with its query parameters and responses.
:mod:`desctom.apidocs.hook` walks the URLconf and turns every routed view's ``api_doc`` into the
OpenAPI ``paths`` merged into drf-spectacular's schema; the request body is described by
drf-spectacular from the contract's serializer fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    #: The request body: a JSON Schema, or :data:`CONTRACT` (the :class:`ApiDoc`'s ``request``).
    body: Any = None
    body_required: bool = False
    query: tuple[Param, ...] = ()
    public: bool = False
    unsafe_session: bool | None = None  # default: every method but GET

    def as_openapi(self, tag: str, operation_id: str, path_params: tuple[Param, ...],
                   request_schema: dict | None = None) -> dict:
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
        body = request_schema if self.body is CONTRACT else self.body
        if body is not None:
            result["requestBody"] = {
                "required": self.body_required,
                "content": {"application/json": {"schema": body}},
            }
        result["security"] = [{}] if self.public else SECURITY
        return result


#: ``Operation.body`` value meaning "the body the :class:`ApiDoc`'s ``request`` contract declares".
CONTRACT = "contract"


@dataclass(frozen=True)
class ApiDoc:
    """The contract of a plain JSON view: its request body and its operations (one per HTTP method).

    ``request`` checks the body in the view (:meth:`RequestContract.parse`) and describes it here.
    ``writes``: tables a successful call may change (the fuzz run checks rejected calls leave them
    alone).
    """

    tag: str
    operations: tuple[Operation, ...]
    request: Any = None
    path_params: tuple[Param, ...] = ()
    writes: tuple[str, ...] = field(default=())

    def operation(self, method: str) -> Operation | None:
        return next((op for op in self.operations if op.method == method), None)


def json_api_pair(
    summary: str, ok: Response, description: str = "", errors: dict[int, Response] | None = None,
    body: Any = CONTRACT,
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
    summary: str, ok: Response, description: str = "", errors: dict[int, Response] | None = None,
    body: Any = CONTRACT,
) -> Operation:
    responses = {200: ok, 400: BAD_REQUEST, 413: TOO_LARGE, **(errors or {})}
    return Operation("post", summary, responses, description, body=body)
