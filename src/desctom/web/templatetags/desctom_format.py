"""Fast number and time formatting for tables of many rows (``{% load desctom_format %}``).

Django's ``floatformat`` and ``date`` go through localisation and ``Decimal`` on every call: on an
object page with hundreds of rows they cost more than the page's queries. These filters give the
same text for this site's settings (no localisation, ``TIME_ZONE = "UTC"``): ``{{ x|fixed:4 }}`` is
``x`` with 4 decimals ("" for None or a non-number, like ``floatformat``), ``{{ t|utc_seconds }}``
is ``YYYY-MM-DD HH:MM:SS`` in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


@register.filter
def fixed(value, digits=0):
    """``value`` with ``digits`` decimals; "" when it is no number (None, NaN and infinities print as
    ``floatformat`` prints them: "nan", "inf", "-inf")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number):
        return str(number)
    # rounded half up from the shortest repr, as floatformat rounds; no "-0.00"
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-int(digits)), ROUND_HALF_UP)
    text = f"{rounded:f}"
    return text[1:] if text.startswith("-") and rounded == 0 else text


@register.filter
def utc_seconds(value):
    """An aware datetime as ``YYYY-MM-DD HH:MM:SS`` in UTC; "" for anything else."""
    if not isinstance(value, dt.datetime):
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")
