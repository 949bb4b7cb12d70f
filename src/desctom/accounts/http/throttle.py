"""Login throttling with django-axes (docs/authorization.md).

Failed logins are counted per account and per client address on every path that checks a
password: the login form (``/accounts/login/``), ``POST /api/token-auth/`` and HTTP Basic
authentication (DRF views and DESC TOM's own JSON views alike). After
``DESCTOM_LOGIN_FAILURE_LIMIT`` failures the account (and the address) is locked out for
``DESCTOM_LOGIN_COOLOFF_MINUTES``: even the right password is refused with 429 (JSON with
``Retry-After`` for programs, a page for browsers). API tokens are not passwords and keep working.

django-axes flags a locked-out request on the request object it is given; DRF hands it its own
``Request`` wrapper, so :func:`copy_lockout_flag` carries the flag over to the Django request
that django-axes' middleware (last in ``MIDDLEWARE``) answers for with :func:`lockout_response`.
"""

from __future__ import annotations

import html

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse


class ThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, first of the authentication backends. A call without a request (the
    test client's ``login``, the shell) is not an HTTP login: there is nothing to throttle."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def retry_after(request) -> int:
    """Seconds a locked-out client is told to wait (the whole cool-off: an upper bound)."""
    cool_off = get_cool_off(request)
    return max(1, int(cool_off.total_seconds())) if cool_off else 3600


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """429: JSON for programs, a short page for browsers; ``Retry-After`` either way."""
    from desctom.core.jsonapi import wants_json

    wait = retry_after(request)
    limit = get_failure_limit(request, credentials)
    message = (f"Too many failed logins: after {limit} failures this account and this address are locked out "
               f"for {wait // 60} minutes; even the right password is refused until then. Try again later, "
               "or ask a TOM administrator to unlock the account.")
    accept = request.headers.get("Accept", "")
    if wants_json(request) or "text/html" not in accept:
        response = JsonResponse({"error": message, "retry_after": wait}, status=429)
    else:
        page = ("<!doctype html><html><head><title>DESC TOM: too many failed logins</title></head><body>"
                f"<h1>Too many failed logins</h1><p>{html.escape(message)}</p></body></html>")
        response = HttpResponse(page, status=429, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


@receiver(user_login_failed, dispatch_uid="desctom_copy_axes_lockout")
def copy_lockout_flag(sender, credentials=None, request=None, **kwargs):
    """Copy django-axes' lock-out flag from a DRF ``Request`` to the Django request under it.

    Connected after django-axes' own receiver (``axes`` comes before this app in INSTALLED_APPS).
    """
    inner = getattr(request, "_request", None)
    if inner is not None and getattr(request, "axes_locked_out", False):
        inner.axes_locked_out = True
        inner.axes_credentials = getattr(request, "axes_credentials", None)

