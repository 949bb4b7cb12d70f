"""Idempotent set-up of an installation's groups and admin account."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction


def ensure_groups() -> list[str]:
    """Create the standard groups that are missing; return the names created."""
    created = []
    for name in settings.DESCTOM_GROUPS:
        _, new = Group.objects.get_or_create(name=name)
        if new:
            created.append(name)
    return created


@transaction.atomic
def ensure_admin(username: str, password: str | None) -> tuple[bool, str | None]:
    """Create superuser ``username`` unless any superuser exists.

    Returns ``(created, password)``: the password is the one given, or a generated one
    (only when an account was created and no password was given).
    """
    if User.objects.filter(is_superuser=True).exists():
        return False, None
    if User.objects.filter(username=username).exists():
        user = User.objects.get(username=username)
        user.is_superuser = user.is_staff = True
        if password:
            user.set_password(password)
        user.save()
        return True, password
    generated = password or secrets.token_urlsafe(12)
    user = User.objects.create_superuser(username=username, email="", password=generated)
    admin_group = Group.objects.filter(name="elasticc_admin").first()
    if admin_group:
        user.groups.add(admin_group)
    return True, generated
