"""Site middleware: HTML-only 403 redirects, and 503 answers while the database is unavailable.

``HtmlForbiddenRedirectMiddleware`` replaces the TOM Toolkit's ``Raise403Middleware``, which
turns every 403 outside ``/api/`` into a redirect to the login page. DESC TOM has JSON endpoints
everywhere (``/db/``, ``/elasticc2/``, ...), and programs must see a JSON 403 there, never a
login page. So only HTML answers are redirected. It also closes holes of TOM Toolkit pages under
``AUTH_STRATEGY = "READ_ONLY"`` (anonymous callers may read, never change; docs/authorization.md):
see :func:`tom_toolkit_guard`.

``DatabaseUnavailableMiddleware`` answers 503 with a clear message while PostgreSQL is down.
"""

import logging
import sys
import threading

from django.contrib import messages
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from desctom.core.jsonapi import FASTDB_PREFIXES, wants_json

#: Paths of DESC TOM's own views and of Django's admin (their own rules apply).
OWN_PREFIXES = ("/elasticc2/", "/elasticc/", "/db/", "/metrics/", "/accounts/", "/api/", "/api-auth/",
                "/admin/", "/healthz", "/static/", *FASTDB_PREFIXES)
#: TOM Toolkit pages anonymous callers may not even read (they answered 500 to them).
LOGIN_PREFIXES = ("/users/", "/groups/")
#: TOM Toolkit calendar views that change data whatever the method (a GET deleted an event).
CHANGING_CALENDAR = ("/calendar/delete/", "/calendar/todo/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def tom_toolkit_guard(request):
    """The refusal of a request a TOM Toolkit page must not serve, else ``None``: an anonymous
    unsafe request (or any anonymous request to the user and group pages) goes to the login page;
    a GET to a calendar view that changes data is 405."""
    path = request.path_info
    if path == "/" or path.startswith(OWN_PREFIXES):
        return None
    if path.startswith(CHANGING_CALENDAR) and request.method in SAFE_METHODS:
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated and (request.method not in SAFE_METHODS
                                              or path.startswith(LOGIN_PREFIXES)):
        return redirect(reverse("login") + "?next=" + path)
    return None


class HtmlForbiddenRedirectMiddleware:
    """A 403 HTML page becomes a redirect to the login page with a message; JSON 403s pass through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = tom_toolkit_guard(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code != 403 or request.path_info.startswith("/api/"):
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        messages.error(request, "You do not have permission to access this page. Please log in as a user "
                                "with the right permissions or ask an administrator.")
        return redirect(reverse("login") + "?next=" + request.path)


# -- database outages ----------------------------------------------------------------------------
log = logging.getLogger("desctom.web")

#: Seconds a client is asked to wait before trying again while the database is unavailable.
RETRY_AFTER = 10
#: Path prefixes whose callers are programs: they get JSON, not an HTML page.
#: SQLSTATE classes meaning "no usable connection": 08 connection exception, 57P operator intervention
#: (server shutting down, crashed, not accepting connections yet), 53300 too many connections.
_UNAVAILABLE_STATES = ("08", "57P", "53300")
DB_DOWN_MESSAGE = "database unavailable: the server is restarting or unreachable; try again in a few seconds"

_outage = threading.local()


def database_unavailable(exc: BaseException) -> bool:
    """True if ``exc`` means the database cannot be reached (not a bad query, not a timeout)."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if isinstance(exc, InterfaceError):
        return True  # "connection already closed" and the like
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None)
    if state is None:
        return True  # client-side failure: connection refused, server closed the connection, ...
    return state.startswith(_UNAVAILABLE_STATES)


def unavailable_response(request) -> HttpResponse:
    """503 with a one-line reason; JSON for programs, a short page for browsers."""
    if wants_json(request):
        response = JsonResponse({"status": "error", "error": DB_DOWN_MESSAGE}, status=503)
    else:
        page = ("<!doctype html><html><head><title>DESC TOM: database unavailable</title></head><body>"
                "<h1>Database unavailable</h1><p>DESC TOM cannot reach its database right now: it is "
                f"restarting or unreachable. This page will work again by itself; try again in "
                f"{RETRY_AFTER} seconds.</p></body></html>")
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def _remember_exception(sender, request=None, **kwargs) -> None:
    """``got_request_exception`` receiver: note a database outage raised outside a view."""
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and database_unavailable(exc):
        _outage.request = request


got_request_exception.connect(_remember_exception, dispatch_uid="desctom-database-unavailable")


class OutageTracebackFilter(logging.Filter):
    """Turns Django's "Internal Server Error" traceback for a database outage into a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and database_unavailable(exc):
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            request = getattr(record, "request", None)  # Django's log_response passes it
            record.msg = "database unavailable while serving %s: %s"
            record.args = (getattr(request, "path", "?"), first)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("django.request").addFilter(OutageTracebackFilter())


class DatabaseUnavailableMiddleware:
    """A lost or refused database connection becomes 503 with a clear message, never a traceback.

    Views' exceptions arrive in :meth:`process_exception`. Those raised elsewhere (session or
    authentication middleware, template rendering) were already turned into a 500 by Django and
    reported through ``got_request_exception``: such a 500 is replaced here by the 503.
    Django's ``CONN_HEALTH_CHECKS`` makes the next request open a fresh connection, so the site
    recovers by itself once the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _outage.request = None
        response = self.get_response(request)
        if response.status_code == 500 and getattr(_outage, "request", None) is request:
            _outage.request = None  # logged as one line by OutageTracebackFilter
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        first = (str(exception).strip().splitlines() or [type(exception).__name__])[0]
        log.warning("database unavailable while serving %s %s: %s", request.method, request.path, first)
        return unavailable_response(request)
