"""Accounts made without the admin pages: create, list and re-password users, and their API token.

Shared by ``desctom user`` and ``desctom broker-account``. Problems a caller can fix (an existing
name, an unknown group, an unreadable password file) raise :class:`AccountError` with a clear text.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction


class AccountError(ValueError):
    """A request about accounts that cannot be done as asked (the text says why)."""


def read_password_file(path: Path) -> str:
    """The password in the first line of ``path`` (surrounding blanks dropped)."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountError(f"cannot read the password file: {exc}") from None
    password = lines[0].strip() if lines else ""
    if not password:
        raise AccountError(f"the password file {path} is empty")
    return password


def find(username: str) -> User:
    """The account ``username``; :class:`AccountError` if there is none."""
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise AccountError(f"no account named {username!r}") from None


def groups_named(names: Iterable[str]) -> list[Group]:
    """The groups ``names``, all of which must exist (``desctom ensure_accounts`` makes the standard ones)."""
    wanted = list(dict.fromkeys(names))
    found = {g.name: g for g in Group.objects.filter(name__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        known = ", ".join(sorted(Group.objects.values_list("name", flat=True))) or "none"
        raise AccountError(f"no group named {', '.join(repr(n) for n in missing)} (groups: {known})")
    return [found[n] for n in wanted]


def api_token(user: User) -> str:
    """``user``'s REST API token (made on first use; the same key afterwards)."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return token.key


@transaction.atomic
def add_user(username: str, password: str | None, groups: Iterable[str] = (),
             superuser: bool = False) -> tuple[User, str]:
    """Create ``username`` (without a password: none usable, it signs in by token only), put it in
    ``groups`` (which must exist) and return ``(user, API token)``. A superuser is staff too."""
    username = username.strip()
    if not username or len(username) > 150:
        raise AccountError("a user name must be 1 to 150 characters long")
    try:
        User.username_validator(username)
    except ValidationError:
        raise AccountError(f"{username!r} is not a valid user name: "
                           "letters, digits and @ . + - _ only") from None
    if User.objects.filter(username=username).exists():
        raise AccountError(f"an account named {username!r} exists already")
    chosen = groups_named(groups)
    user = User.objects.create_user(username, "", password or None,
                                    is_staff=superuser, is_superuser=superuser)
    if not password:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(*chosen)
    return user, api_token(user)


def set_password(username: str, password: str | None) -> User:
    """Give ``username`` the password ``password`` (``None``: no usable password, token only)."""
    user = find(username)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def renew_token(username: str) -> str:
    """Replace ``username``'s API token by a new one (the old one stops working); the new key."""
    from rest_framework.authtoken.models import Token

    user = find(username)
    Token.objects.filter(user=user).delete()
    return api_token(user)


def described() -> list[dict]:
    """Every account: name, groups (sorted), staff/superuser flags, whether it has a usable password."""
    rows = []
    for user in User.objects.order_by("username").prefetch_related("groups"):
        rows.append({"username": user.get_username(), "groups": sorted(g.name for g in user.groups.all()),
                     "is_staff": user.is_staff, "is_superuser": user.is_superuser,
                     "password": user.has_usable_password(), "active": user.is_active})
    return rows
