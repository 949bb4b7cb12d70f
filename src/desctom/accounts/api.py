"""Authentication rules for JSON endpoints.

JSON endpoints never redirect an anonymous caller to the login page: they answer 401 with a
short JSON body, so programs see the problem at once. HTML pages keep Django's redirect.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views import View
from rest_framework.authentication import BasicAuthentication
from tom_common.accounts.api_auth import TomTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

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


class JsonLoginRequiredMixin(View):
    """A class-based view whose every method needs a logged-in user; answers 401 JSON otherwise.

    Header-authenticated requests (token or basic) carry no cookies, so they are not subject
    to CSRF checks; session requests are, through Django's middleware.
    """

    def dispatch(self, request, *args, **kwargs):
        try:
            user = authenticate_request(request)
        except AuthenticationFailed as exc:
            return json_error(str(exc.detail), 401)
        if user is None:
            response = json_error("Authentication credentials were not provided.", 401)
            response["WWW-Authenticate"] = 'Token realm="api"'
            return response
        request.user = user
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(self, request, *args, **kwargs):
        allowed = [m.upper() for m in self.http_method_names if hasattr(self, m)]
        response = json_error(f"Method {request.method} not allowed here; use {', '.join(allowed)}.", 405)
        response["Allow"] = ", ".join(allowed)
        return response
