"""Where FASTDB login keys get made: whenever a password is set, and at a password login without keys.

* :class:`FastdbKeysOnPasswordChange` is listed in ``AUTH_PASSWORD_VALIDATORS``: it accepts every
  password (the other validators judge them); Django calls its ``password_changed(password, user)``
  from ``User.save()`` after ``set_password`` (password change and reset pages, the admin's and the
  TOM Toolkit's user forms, ``changepassword``), which stores fresh keys for the new password.
  ``create_user``/``create_superuser`` hash the password without ``set_password``: those users get
  their keys at their first password login (below).
* :class:`FastdbKeysBackend` replaces allauth's authentication backend (it is one): after a
  successful password check, a user who has no keys yet (a password set before this existed) gets
  them, so FASTDB's client can log in from then on.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend

from desctom.live.queries import fastdb_keys


class FastdbKeysOnPasswordChange:
    """A password "validator" that validates nothing and stores FASTDB keys when a password changes."""

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None and password:
            fastdb_keys.store_keys(user, password)

    def get_help_text(self):
        return "The same password logs FASTDB's Python client in."


class FastdbKeysBackend(AuthenticationBackend):
    """allauth's backend, plus: a user who logs in with a password and has no FASTDB keys gets them."""

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        password = credentials.get("password")
        if user is not None and password:
            fastdb_keys.ensure_keys(user, password)
        return user
