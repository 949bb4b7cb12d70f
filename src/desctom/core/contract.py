"""One declaration per JSON endpoint: the request's fields, which both check the input and describe it.

A JSON endpoint's request body is a DRF serializer built from the fields below. Each field knows
its type, its range (from the column the value lands in, and the physical range where there is one)
and its maximum length, refuses everything else with a message that names the field, and is
described from the same declaration by drf-spectacular (:mod:`desctom.apidocs.hook`). A view calls
:meth:`RequestContract.parse`, which answers the first problem as an :class:`ApiError` (400) and
otherwise returns a dict holding every declared field (``None`` for one not given, unless it has a
default).

Messages keep the original's wording where it had one ("objectid must be an integer, not 1.5");
a contract overrides :meth:`RequestContract.unknown_message` / :meth:`~RequestContract.missing_message`
for the texts of unknown and missing keys.
"""

from __future__ import annotations

import json
import math
import re

from rest_framework import serializers

from desctom.core.bounds import INT64_MAX, INT64_MIN
from desctom.core.jsonapi import ApiError, storable_text_problem, unknown_keys_text

#: Longest name (requester, facility, ...) a request may store: names are keys of B-tree indexes.
NAME_MAX = 256
#: Longest free text (a plan's comment).
COMMENT_MAX = 10_000
#: The range of a modified Julian date (MJD 0 is 1858-11-17; 1e6 is about year 4600).
MJD_RANGE = (-1.0e6, 1.0e6)
#: The range of a number of days.
DAYS_RANGE = (-1.0e6, 1.0e6)
#: Largest value a PostgreSQL ``real`` (float4) holds.
FLOAT4_MAX = 3.4028234663852886e38
#: Redshifts: above -1 (the original's rule) and at most this (no spectrum shows more).
Z_MAX = 100.0
_INT_TEXT = re.compile(r"\s*[+-]?\d+\s*")


def shown(value, limit: int = 80) -> str:
    """``value`` as JSON for an error message, cut after ``limit`` characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e16 else repr(float(value))


class ContractField:
    """What every contract field adds to its DRF field: ``error_name``, the name its messages use, and
    ``schema``, JSON-Schema keys its description adds to what drf-spectacular derives."""

    def __init__(self, *args, error_name: str | None = None, schema: dict | None = None, **kwargs):
        self.error_name, self.schema = error_name, schema or {}
        super().__init__(*args, **kwargs)

    @property
    def name(self) -> str:
        return self.error_name or self.field_name

    def refuse(self, message: str):
        raise serializers.ValidationError(message, code="invalid")

    def run_validation(self, data=serializers.empty):
        if getattr(self, "blank_null", False) and data == "":  # "" means null here (the original's rule)
            return None
        return super().run_validation(data)

    def fail(self, key, **kwargs):
        """DRF's own checks (null, blank, lengths), answered with this field's name."""
        if key == "null":
            self.refuse(f"{self.name} must not be null")
        if key == "required":
            self.refuse(f"missing {self.name}")
        if key == "blank" and getattr(self, "blank_message", None):
            self.refuse(self.blank_message.format(name=self.name, value='""'))
        try:
            super().fail(key, **kwargs)
        except serializers.ValidationError as exc:
            self.refuse(f"{self.name}: {first_message(exc.detail)}")


class Int64(ContractField, serializers.IntegerField):
    """An integer (an integral float or a string of digits also do) within ``min_value..max_value``
    (default: a ``bigint``)."""

    def __init__(self, *, min_value: int = INT64_MIN, max_value: int = INT64_MAX,
                 range_message: str | None = None, type_message: str | None = None, blank_null: bool = False,
                 **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        self.range_message, self.type_message, self.blank_null = range_message, type_message, blank_null

    def to_internal_value(self, data):
        value = None
        if isinstance(data, bool):
            value = None
        elif isinstance(data, int):
            value = data
        elif isinstance(data, float) and math.isfinite(data) and data.is_integer():
            value = int(data)
        elif isinstance(data, str) and len(data) < 100 and _INT_TEXT.fullmatch(data):
            value = int(data)
        if value is None or not INT64_MIN <= value <= INT64_MAX:
            self.refuse((self.type_message or "{name} must be an integer, not {value}").format(
                name=self.name, value=shown(data)))
        if not self.min_value <= value <= self.max_value:
            self.refuse((self.range_message or "{name} must be from {low} to {high}, not {value}").format(
                name=self.name, low=self.min_value, high=self.max_value, value=value))
        return value


class Number(ContractField, serializers.FloatField):
    """A finite number (a numeric string also does) within ``min_value..max_value`` (default: what
    a ``double precision`` column holds)."""

    def __init__(self, *, min_value: float = -math.inf, max_value: float = math.inf,
                 range_message: str | None = None, blank_null: bool = False, **kwargs):
        kwargs.update({k: v for k, v in (("min_value", min_value), ("max_value", max_value))
                       if math.isfinite(v)})
        super().__init__(**kwargs)
        self.low, self.high = min_value, max_value
        self.range_text, self.blank_null = range_message, blank_null

    def to_internal_value(self, data):
        value = None
        try:
            if isinstance(data, (int, float)) and not isinstance(data, bool):
                value = float(data)
            elif isinstance(data, str) and len(data) < 100:
                value = float(data)
        except (ValueError, OverflowError):
            value = None
        if value is None or not math.isfinite(value):
            self.refuse(f"{self.name} must be a finite number, not {shown(data)}")
        if not self.low <= value <= self.high:
            self.refuse(self.range_message(data))
        return value

    def range_message(self, data) -> str:
        if self.range_text:
            return self.range_text.format(name=self.name, value=shown(data), low=_number_text(self.low),
                                          high=_number_text(self.high))
        if not math.isfinite(self.low):
            return f"{self.name} must be at most {_number_text(self.high)}, not {shown(data)}"
        if not math.isfinite(self.high):
            return f"{self.name} must be at least {_number_text(self.low)}, not {shown(data)}"
        return (f"{self.name} must be from {_number_text(self.low)} to {_number_text(self.high)}, "
                f"not {shown(data)}")


def mjd(**kwargs) -> Number:
    """A modified Julian date."""
    return Number(min_value=MJD_RANGE[0], max_value=MJD_RANGE[1], **kwargs)


def days(**kwargs) -> Number:
    """A number of days."""
    return Number(min_value=DAYS_RANGE[0], max_value=DAYS_RANGE[1], **kwargs)


class Text(ContractField, serializers.CharField):
    """A string PostgreSQL can store (no NUL, no lone surrogate) of at most ``max_length`` characters;
    ``blank_message``: the message for an empty or all-blank one (default: allowed)."""

    def __init__(self, *, max_length: int = NAME_MAX, blank_message: str | None = None,
                 type_message: str | None = None, **kwargs):
        super().__init__(max_length=max_length, trim_whitespace=False, allow_blank=blank_message is None,
                         **kwargs)
        self.blank_message, self.type_message = blank_message, type_message

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.refuse((self.type_message or "{name} must be a string, not {value}").format(
                name=self.name, value=shown(data)))
        problem = storable_text_problem(data)
        if problem:
            self.refuse(f"{self.name} {problem}")
        if self.blank_message is not None and not data.strip():
            self.refuse(self.blank_message.format(name=self.name, value=shown(data)))
        if len(data) > self.max_length:
            self.refuse(f"{self.name} is too long: {len(data)} characters, at most {self.max_length}")
        return data


class Choice(ContractField, serializers.ChoiceField):
    """One of ``choices`` (strings); ``aliases`` maps other accepted spellings to a choice."""

    def __init__(self, choices, *, aliases: dict | None = None, **kwargs):
        self.aliases = aliases or {}
        super().__init__(choices=[*choices, *self.aliases], **kwargs)
        self.canonical = list(choices)

    def to_internal_value(self, data):
        data = self.aliases.get(data, data) if isinstance(data, str) else data
        if not isinstance(data, str) or data not in self.canonical:
            self.refuse(f"{self.name} must be one of {', '.join(self.canonical)}, not {shown(data)}")
        return data


class Flag(ContractField, serializers.BooleanField):
    """A yes/no switch: any JSON value, read by its truth (as the original did)."""

    def to_internal_value(self, data):
        return bool(data)


class Int64List(ContractField, serializers.ListField):
    """A list of integers (see :class:`Int64`); ``scalar_ok``: a single integer counts as a list of one."""

    def __init__(self, *, min_value: int = INT64_MIN, max_value: int = INT64_MAX, scalar_ok: bool = False,
                 type_message: str | None = None, entry_name: str | None = None, **kwargs):
        super().__init__(child=Int64(min_value=min_value, max_value=max_value), **kwargs)
        self.scalar_ok, self.type_message, self.entry_name = scalar_ok, type_message, entry_name

    def to_internal_value(self, data):
        if self.scalar_ok and not isinstance(data, list):
            data = [data]
        if not isinstance(data, list):
            self.refuse((self.type_message or "{name} must be a list, not {value}").format(
                name=self.name, value=shown(data)))
        if self.max_length is not None and len(data) > self.max_length:
            self.refuse(f"{self.name} has {len(data)} entries, at most {self.max_length}")
        if self.min_length is not None and len(data) < self.min_length:
            self.refuse(f"{self.name} needs at least {self.min_length} entries, not {len(data)}")
        self.child.error_name = self.entry_name or f"every entry of {self.name}"
        return [self.child.to_internal_value(v) for v in data]


def first_message(errors) -> str:
    """The first message of DRF's ``serializer.errors`` (fields in declared order)."""
    if isinstance(errors, dict):
        return first_message(next(iter(errors.values())))
    if isinstance(errors, list):
        return first_message(errors[0])
    return str(errors)


class RequestContract(serializers.Serializer):
    """A JSON endpoint's request body: declared fields, no others.

    :meth:`parse` checks keys first (unknown, then missing required ones), then each field, then
    :meth:`validate` (rules between fields).
    """

    #: Whether keys not declared are refused (the original refused them on most endpoints).
    refuse_unknown = True

    def unknown_message(self, unknown: set[str]) -> str:
        return (f"Unknown parameters: {unknown_keys_text(unknown)} "
                f"(allowed: {', '.join(self.fields)})")

    def missing_message(self, missing: list[str]) -> str:
        return f"missing {', '.join(missing)}"

    def check_keys(self, data: dict) -> str | None:
        """The message for unknown or missing keys, or ``None``."""
        unknown = set(data) - set(self.fields)
        if unknown and self.refuse_unknown:
            return self.unknown_message(unknown)
        missing = [name for name, f in self.fields.items() if f.required and name not in data]
        return self.missing_message(missing) if missing else None

    @classmethod
    def compose(cls, prefix: str, problem: str) -> str:
        """The text of an answer: ``prefix`` + ``problem`` (a contract may leave some texts bare)."""
        return prefix + problem

    @classmethod
    def parse(cls, data: dict, prefix: str = "", **context) -> dict:
        """``data`` checked: every declared field (``None`` when not given and without default);
        :class:`ApiError` (400, text ``prefix`` + the problem) otherwise."""
        contract = cls(data=data, context=context)
        problem = contract.check_keys(data)
        if problem is None and not contract.is_valid():
            problem = first_message(contract.errors)
        if problem is not None:
            raise ApiError(cls.compose(prefix, problem))
        values = {name: None for name in contract.fields}
        values.update(contract.validated_data)
        return values
