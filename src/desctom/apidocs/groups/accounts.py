"""``/accounts/whoami/`` and ``/healthz``."""

from desctom.apidocs.registry import BOOLEAN, STRING, Endpoint, Operation, Response, array, obj, open_obj

TAG = "accounts"

WHOAMI = obj(
    {"username": STRING, "groups": array(STRING), "is_staff": BOOLEAN, "is_superuser": BOOLEAN},
    ["username", "groups", "is_staff", "is_superuser"],
)
_whoami_ok = Response("The caller's user name, groups (sorted) and staff flags.", WHOAMI)
HEALTH = open_obj({"status": {"type": "string", "enum": ["ok", "error"]}, "database": STRING})

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
                    200: Response("The web server and its database answer.", HEALTH),
                    503: Response("The database does not answer.", HEALTH),
                },
                "No login needed; for `desctom status` and load balancers.",
                public=True,
            ),
        ),
    ),
]
