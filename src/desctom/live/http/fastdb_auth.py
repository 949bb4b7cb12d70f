"""FASTDB's challenge-response login (``/auth/...``), ending in an ordinary Django session login.

``getchallenge`` hands out the user's encrypted private key and a random UUID encrypted with the
public key; ``respondchallenge`` logs the session in if the decrypted UUID comes back (one answer per
challenge). The session is then flagged as a FASTDB program's session (see
:func:`desctom.core.jsonauth.fastdb_json_request` for what that allows). ``isauth`` and ``logout``
answer as FASTDB's. Failures are text with 422 (FASTDB's client does not retry those).
"""

from __future__ import annotations

import hmac
import uuid

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.models import User
from django.http import HttpResponse

from desctom.core.jsonauth import FASTDB_SESSION_FLAG
from desctom.live.http.fastdb_base import FastdbError, FastdbView, json_answer, text
from desctom.live.queries import fastdb_keys

CHALLENGE_KEY = "fastdb_challenge"
#: Namespace of the ``useruuid`` FASTDB's answers carry (Django users have integer ids).
USER_NAMESPACE = uuid.UUID("6f1f3b8e-3c55-4d8e-9d0b-2a8f4c7e1d10")


def user_info(user) -> dict:
    return {"username": user.username, "useruuid": str(uuid.uuid5(USER_NAMESPACE, str(user.pk))),
            "useremail": user.email, "userdisplayname": user.get_full_name() or user.username,
            "usergroups": sorted(user.groups.values_list("name", flat=True))}


class _AuthView(FastdbView):
    """No login needed; JSON bodies only (or none)."""

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and request.body.strip() and request.content_type != "application/json":
            return text(f"Error, {request.path} was expecting application/json", 415)
        return super(FastdbView, self).dispatch(request, *args, **kwargs)


class GetChallenge(_AuthView):
    def answer(self, request, data):
        username = data.get("username")
        if not isinstance(username, str) or not username:
            raise FastdbError("Error, no username sent to server")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise FastdbError(f"No such user {username}")
        keys = fastdb_keys.keys_of(user)
        if keys is None:
            raise FastdbError(f"User {username} does not have a password set yet (or has not logged in "
                              "with it since FASTDB logins were introduced: log in once on the web page)")
        secret, challenge = fastdb_keys.new_challenge(keys.pubkey)
        request.session[CHALLENGE_KEY] = {"username": username, "userid": user.pk, "challenge": secret}
        return {"username": username, "privkey": keys.privkey["privkey"], "salt": keys.privkey["salt"],
                "iv": keys.privkey["iv"], "challenge": challenge}


class RespondChallenge(_AuthView):
    def answer(self, request, data):
        username, response = data.get("username"), data.get("response")
        if not isinstance(username, str) or not isinstance(response, str):
            raise FastdbError("Login error: username or challenge response missing (or not strings)")
        pending = request.session.pop(CHALLENGE_KEY, None)  # one answer per challenge
        if pending is None:
            raise FastdbError("Login error: no challenge pending in this session (call /auth/getchallenge)")
        if pending["username"] != username:
            raise FastdbError(f"Login error: username {username} is not the one of the challenge")
        user = User.objects.filter(pk=pending["userid"], is_active=True).first()
        if user is None or not hmac.compare_digest(pending["challenge"].encode(), response.encode()):
            return json_answer(request, {"status": "error", "error": "Authentication failure."})
        backend = settings.FASTDB_KEYS_BACKEND
        login(request, user, backend=backend)
        request.session[FASTDB_SESSION_FLAG] = True
        return {"status": "ok", "message": f"User {username} logged in.", **user_info(user)}


class IsAuth(_AuthView):
    http_method_names = ["get", "post", "options"]

    def get(self, request):
        return self.post(request)

    def answer(self, request, data):
        if not request.user.is_authenticated:
            return {"status": False}
        return {"status": True, **user_info(request.user)}


class Logout(_AuthView):
    """Ends a FASTDB program's session (or none). A browser's session ends at ``/accounts/logout/``
    (with its CSRF token): a cross-site page must not be able to log a browser out."""

    http_method_names = ["get", "post", "options"]

    def get(self, request):
        return self.post(request)

    def answer(self, request, data) -> HttpResponse | dict:
        if request.user.is_authenticated and not request.session.get(FASTDB_SESSION_FLAG):
            return text("This session was opened on the web page: log out at /accounts/logout/", 403)
        logout(request)
        return {"status": "Logged out"}
