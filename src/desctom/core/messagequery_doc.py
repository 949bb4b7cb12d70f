"""How the broker-message list endpoints of both campaigns are described: the query grammar's
parameters (:mod:`desctom.core.messagequery`) and the page around the messages."""

from __future__ import annotations

from desctom.core.apidoc import Param, array, obj
from desctom.core.messagequery import MAX_NUM, SELECTORS


def page_of(message: dict) -> dict:
    return obj(
        {
            "offset": {"type": "integer"},
            "num": {"type": "integer"},
            "totalcount": {"type": "integer"},
            "count": {"type": "integer"},
            "brokermessages": array(message),
        },
        ["offset", "num", "totalcount", "count", "brokermessages"],
    )


IDS = {
    "type": "string",
    "pattern": "^[+-]?[0-9]{1,18}(,[+-]?[0-9]{1,18})*$",
    "description": "Comma-separated integers.",
}
SELECTOR_PARAMS = tuple(Param(name, IDS, f"Messages of these {SELECTORS[name]} ids.") for name in SELECTORS)
PAGING_PARAMS = (
    Param("offset", {"type": "integer", "minimum": 0, "maximum": 10**15}, "Default 0."),
    Param(
        "num",
        {"type": "integer", "minimum": 0, "maximum": 10**15},
        f"Default 100, at most {MAX_NUM} are returned.",
    ),
)
INFO = Param(
    "info",
    {"type": "string", "pattern": "^(-?[0-9]{1,18}|[a-z]+=[0-9,]+(&[a-z]+=[0-9,]+)*)$"},
    "A message id, or a query like `alertid=1,2&num=10`.",
    where="path",
)
