"""What the ELAsTiCC 1 JSON endpoints share: the admin rule, row checking, object/source dicts."""

from __future__ import annotations

import math

from django.db import transaction

from desctom.core.bounds import INT64_MAX, INT64_MIN
from desctom.core.contract import FLOAT4_MAX, shown
from desctom.core.jsonapi import (
    ApiError,
    parse_json_body,
    storable_text_problem,
    strict_json_response,
)
from desctom.core.jsonauth import JsonLoginRequiredMixin, json_error
from desctom.core.permissions import ADMIN_GROUP, is_admin

#: Bounds of the ``int32`` kind (``integer`` columns; ``int`` is ``bigint``).
INT32 = (-(2**31), 2**31 - 1)


class AdminJsonView(JsonLoginRequiredMixin):
    """A POST-only JSON endpoint for ELAsTiCC admins; ``handle(data)`` runs in one transaction."""

    def post(self, request, *args, **kwargs):
        if not is_admin(request.user):
            return json_error(f"User {request.user.get_username()!r} is not an ELAsTiCC admin (group "
                              f"{ADMIN_GROUP!r} or permission elasticc.elasticc_admin).", 403)
        try:
            data = parse_json_body(request)
            with transaction.atomic():
                return strict_json_response(self.handle(data))
        except ApiError as exc:
            return json_error(exc.message, exc.status)

    def handle(self, data):  # pragma: no cover - every endpoint overrides it
        raise NotImplementedError


#: Physical ranges of columns (degrees).
RANGES = {"ra": (0.0, 360.0), "decl": (-90.0, 90.0)}
#: Longest text any ELAsTiCC 1 column is given (simVersion, filterName).
TEXT_MAX = 256


def _finite(value) -> bool:
    try:
        return math.isfinite(value) and abs(value) <= FLOAT4_MAX  # columns are real (float4) or wider
    except OverflowError:  # an int beyond any float
        return False


def _check(value, kind: str, where: str):
    if kind in ("int", "int32"):
        low, high = INT32 if kind == "int32" else (INT64_MIN, INT64_MAX)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            limits = f" from {low} to {high}" if kind == "int32" else ""
            raise ApiError(f"{where} must be an integer{limits}, not {shown(value)}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            raise ApiError(f"{where} must be a finite number, not {shown(value)}")
        value = float(value)
        low, high = RANGES.get(where.rsplit(": ", 1)[-1], (-FLOAT4_MAX, FLOAT4_MAX))
        if not low <= value <= high:
            raise ApiError(f"{where} must be from {low:g} to {high:g}, not {shown(value)}")
    elif kind == "text":
        if not isinstance(value, str) or "\x00" in value:
            raise ApiError(f"{where} must be a string, not {shown(value)}")
        problem = storable_text_problem(value)
        if problem is None and len(value) > TEXT_MAX:
            problem = f"is too long: {len(value)} characters, at most {TEXT_MAX}"
        if problem:
            raise ApiError(f"{where} {problem}")
    elif kind == "bool" and not isinstance(value, bool):
        if value not in (0, 1):
            raise ApiError(f"{where} must be true or false, not {shown(value)}")
        value = bool(value)
    return value


def check_row(data, spec: dict[str, tuple[str, bool]], where: str,
              keymap: dict[str, str] | None = None) -> dict:
    """``data`` (a JSON object) checked against ``spec`` (column -> (kind, nullable)).

    Unknown keys and missing non-nullable columns are errors; missing nullable ones become NULL.
    ``keymap`` maps input keys onto column names (e.g. SNANA names).
    """
    if not isinstance(data, dict):
        raise ApiError(f"{where} must be a JSON object, not {type(data).__name__}")
    keymap = keymap or {}
    row = {}
    for key, value in data.items():
        col = keymap.get(key, key)
        if col not in spec:
            raise ApiError(f"{where}: unknown key {key!r}")
        kind, nullable = spec[col]
        if value is None:
            if not nullable:
                raise ApiError(f"{where}: {key} may not be null")
            row[col] = None
        else:
            row[col] = _check(value, kind, f"{where}: {key}")
    missing = [c for c, (_, nullable) in spec.items() if not nullable and c not in row]
    if missing:
        names = {v: k for k, v in keymap.items()}
        raise ApiError(f"{where}: missing {', '.join(names.get(c, c) for c in missing)}")
    for col, (_, nullable) in spec.items():
        if nullable:
            row.setdefault(col, None)
    return row


def as_list(data, what: str) -> list:
    """A JSON object or a list of them, as a non-empty list."""
    items = data if isinstance(data, list) else [data]
    if not items or data == {}:
        raise ApiError(f"no {what} given: send one JSON object or a list of them")
    return items
