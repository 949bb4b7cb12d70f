"""Authentication rules for JSON endpoints.

JSON endpoints never redirect an anonymous caller to the login page: they answer 401 with a
short JSON body, so programs see the problem at once. HTML pages keep Django's redirect.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import classonlymethod
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed
from tom_common.accounts.api_auth import TomTokenAuthentication

_HEADER_AUTH = (TomTokenAuthentication(), BasicAuthentication())


def json_error(message: str, status: int, **extra) -> JsonResponse:
    """The one shape of every JSON error: ``{"error": message, ...}``."""
    return JsonResponse({"error": message, **extra}, status=status)


def authenticate_request(request):
    """The user of a session, or of an ``Authorization: Token``/``Basic`` header; else ``None``.

    Raises :class:`rest_framework.exceptions.AuthenticationFailed` for a header with bad credentials.
    """
    if request.user.is_authenticated:
        return request.user
    for backend in _HEADER_AUTH:
        result = backend.authenticate(request)
        if result is not None:
            return result[0]
    return None


#: Session key set by FASTDB's challenge-response login (``/auth/respondchallenge``, desctom.live).
FASTDB_SESSION_FLAG = "fastdb_handshake"


def fastdb_json_request(request) -> bool:
    """Whether a session request may skip the CSRF token: the session was opened by FASTDB's
    challenge-response login (a program's session: FASTDB's client sends no CSRF token) and the body
    is JSON or empty. A cross-site page cannot send ``Content-Type: application/json`` without a
    CORS preflight (which this server never grants), and a request without a body changes nothing."""
    if not request.session.get(FASTDB_SESSION_FLAG):
        return False
    return request.content_type == "application/json" or not request.body


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, returning the reason of a failure instead of an HTML page."""

    def _reject(self, request, reason):
        return reason


def _csrf_failure(request) -> str | None:
    """Django's CSRF verdict on ``request``: ``None`` if it passes, else the reason."""
    check = _CsrfCheck(lambda req: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


class JsonLoginRequiredMixin(View):
    """A class-based view whose every method needs a logged-in user; answers 401 JSON otherwise.

    A browser session must send the CSRF token with unsafe requests (403 JSON otherwise), as
    everywhere in Django; a request authenticated by an ``Authorization`` header (token or basic)
    carries no ambient credentials and so needs none.
    """

    @classonlymethod
    def as_view(cls, **initkwargs):
        # CSRF is checked in dispatch, only where a session cookie authenticates the caller.
        return csrf_exempt(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        session_user = request.user.is_authenticated
        try:
            user = authenticate_request(request)
        except AuthenticationFailed as exc:
            return json_error(str(exc.detail), 401)
        if user is None:
            response = json_error("Authentication credentials were not provided.", 401)
            response["WWW-Authenticate"] = 'Token realm="api"'
            return response
        if (session_user and request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
                and not fastdb_json_request(request)):
            reason = _csrf_failure(request)
            if reason:
                return json_error(f"CSRF check failed: {reason}. Send the csrftoken cookie's value in the "
                                  "X-CSRFToken header.", 403)
        request.user = user
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(self, request, *args, **kwargs):
        allowed = [m.upper() for m in self.http_method_names if hasattr(self, m)]
        response = json_error(f"Method {request.method} not allowed here; use {', '.join(allowed)}.", 405)
        response["Allow"] = ", ".join(allowed)
        return response
