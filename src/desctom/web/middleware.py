"""Middleware replacing the TOM Toolkit's ``Raise403Middleware``.

The TOM Toolkit turns every 403 outside ``/api/`` into a redirect to the login page. DESC TOM
has JSON endpoints everywhere (``/db/``, ``/elasticc2/``, ...), and programs must see a JSON
403 there, never a login page. So only HTML answers are redirected here.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


class HtmlForbiddenRedirectMiddleware:
    """A 403 HTML page becomes a redirect to the login page with a message; JSON 403s pass through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 403 or request.path_info.startswith("/api/"):
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        messages.error(request, "You do not have permission to access this page. Please log in as a user "
                                "with the right permissions or ask an administrator.")
        return redirect(reverse("login") + "?next=" + request.path)
