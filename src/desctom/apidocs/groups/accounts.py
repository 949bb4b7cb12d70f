"""``/accounts/whoami/`` and ``/healthz``."""

from desctom.core.apidoc import (
    BOOLEAN,
    STRING,
    Endpoint,
    Operation,
    Param,
    Response,
    array,
    obj,
    open_obj,
)

TAG = "accounts"

WHOAMI = obj(
    {"username": STRING, "groups": array(STRING), "is_staff": BOOLEAN, "is_superuser": BOOLEAN},
    ["username", "groups", "is_staff", "is_superuser"],
)
_whoami_ok = Response("The caller's user name, groups (sorted) and staff flags.", WHOAMI)
HEALTH = open_obj({"status": {"type": "string", "enum": ["ok", "error"]}, "database": STRING,
                   "kafka": STRING, "unhealthy": array(STRING), "components": {"type": "object"},
                   "error": STRING, "version": STRING}, ["status"])
_SCOPE = Param("scope", {"type": "string", "default": "system"},
               "`system` or `web` (anything else: 400). `system` (default): the database, Kafka "
               "(TCP connect, 0.5 s) and each broker stream "
               "(`components`; `unhealthy` names the failing ones). `web`: only the web server and its "
               "database (liveness; what `desctom up` waits for).")

ENDPOINTS = [
    Endpoint(
        "whoami",
        "/accounts/whoami/",
        (
            Operation("get", "Who am I", {200: _whoami_ok}, "Any authentication: session, token or basic."),
            Operation("post", "Who am I (POST)", {200: _whoami_ok}, "The same as GET; no body is read."),
        ),
    ),
    Endpoint(
        "healthz",
        "/healthz",
        (
            Operation(
                "get",
                "Health check",
                {
                    200: Response("Every component of the scope is healthy.", HEALTH),
                    400: Response("Unknown scope.", HEALTH),
                    503: Response("A component is unhealthy: `unhealthy` names it (`database`, `kafka`, "
                                  "`stream:NAME` stalled or without heartbeat).", HEALTH),
                },
                "No login needed; for `desctom status`, monitoring and load balancers.",
                query=(_SCOPE,),
                public=True,
            ),
        ),
    ),
]
