"""The contract of ``/accounts/whoami/``."""

from desctom.core.apidoc import (
    BOOLEAN,
    STRING,
    ApiDoc,
    Operation,
    Response,
    array,
    obj,
)

TAG = "accounts"

WHOAMI = obj(
    {"username": STRING, "groups": array(STRING), "is_staff": BOOLEAN, "is_superuser": BOOLEAN},
    ["username", "groups", "is_staff", "is_superuser"],
)
_whoami_ok = Response("The caller's user name, groups (sorted) and staff flags.", WHOAMI)
WHOAMI_DOC = ApiDoc(TAG, (
    Operation("get", "Who am I", {200: _whoami_ok}, "Any authentication: session, token or basic."),
    Operation("post", "Who am I (POST)", {200: _whoami_ok}, "The same as GET; no body is read."),
))
