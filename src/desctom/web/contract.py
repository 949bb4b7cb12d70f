"""The contract of ``/healthz``."""

from desctom.core.apidoc import STRING, ApiDoc, Operation, Param, Response, array, open_obj

TAG = "accounts"

HEALTH = open_obj({"status": {"type": "string", "enum": ["ok", "error"]}, "database": STRING,
                   "kafka": STRING, "unhealthy": array(STRING), "components": {"type": "object"},
                   "error": STRING, "version": STRING}, ["status"])
_SCOPE = Param("scope", {"type": "string", "default": "system"},
               "`system` or `web` (anything else: 400). `system` (default): the database, Kafka "
               "(TCP connect, 0.5 s), whether `update_metrics` keeps up (`metrics`) and each broker stream "
               "(`components`; `unhealthy` names the failing ones). `web`: only the web server and its "
               "database (liveness; what `desctom up` waits for).")

HEALTHZ_DOC = ApiDoc(TAG, (
    Operation(
        "get",
        "Health check",
        {
            200: Response("Every component of the scope is healthy.", HEALTH),
            400: Response("Unknown scope.", HEALTH),
            503: Response("A component is unhealthy: `unhealthy` names it (`database`, `kafka`, "
                          "`metrics` not consuming the classification changes, "
                          "`stream:NAME` stalled or without heartbeat).", HEALTH),
        },
        "No login needed; for `desctom status`, monitoring and load balancers.",
        query=(_SCOPE,),
        public=True,
    ),
))
