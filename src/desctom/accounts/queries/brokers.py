"""Broker identity rules: who may PUT broker messages, and under which broker names.

* A member of ``elasticc_broker`` may post only messages whose ``brokerName`` is bound to its
  account (:class:`~desctom.accounts.models.BrokerBinding`, set by an admin in the Django admin or
  with ``desctom broker_account bind``).
* A superuser may post as any broker (it can bind itself anyway); the message still records who posted.
* Anyone else (``elasticc_admin`` members included) may not post at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.db import transaction

from desctom.accounts.models import BrokerBinding
from desctom.accounts.queries import users

BROKER_GROUP = "elasticc_broker"


def may_push(user) -> bool:
    """Whether ``user`` may PUT broker messages at all: a superuser or a member of ``elasticc_broker``."""
    return user.is_superuser or user.groups.filter(name=BROKER_GROUP).exists()


def bound_names(user) -> list[str]:
    """The broker names ``user`` may post as, sorted."""
    return sorted(BrokerBinding.objects.filter(user=user).values_list("broker_name", flat=True))


def refused_names(user, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(names user may not post as, names it may)``; a superuser may post as any name."""
    wanted = sorted(set(names))
    if user.is_superuser:
        return [], wanted
    allowed = bound_names(user)
    return [n for n in wanted if n not in allowed], allowed


def mismatch_message(user, refused: list[str], allowed: list[str]) -> str:
    """The 403 text for an account posting under broker names it is not bound to."""
    name = user.get_username()
    listed = ", ".join(repr(n) for n in refused)
    if allowed:
        may = "it may post only as " + ", ".join(repr(n) for n in allowed)
    else:
        may = "it is bound to no broker name yet"
    return (f"Account {name!r} may not post messages as brokerName {listed}: {may}. Nothing was stored. "
            "A TOM administrator binds an account to a broker name "
            f"(desctom broker_account bind {name} NAME).")


@transaction.atomic
def bind(user, names: Iterable[str]) -> list[str]:
    """Bind ``user`` to each of ``names``; return those that were new."""
    added = []
    for name in names:
        _, new = BrokerBinding.objects.get_or_create(user=user, broker_name=name)
        if new:
            added.append(name)
    return added


@transaction.atomic
def unbind(user, names: Iterable[str] | None = None) -> int:
    """Remove ``user``'s bindings to ``names`` (all of them if ``None``); return how many went."""
    rows = BrokerBinding.objects.filter(user=user)
    if names is not None:
        rows = rows.filter(broker_name__in=list(names))
    return rows.delete()[0]


@transaction.atomic
def add_broker_account(username: str, password: str | None, names: Iterable[str] = ()) -> tuple[User, str]:
    """Create ``username`` in ``elasticc_broker`` (password given or none usable), bind ``names``,
    and return ``(user, API token)``."""
    Group.objects.get_or_create(name=BROKER_GROUP)
    user, token = users.add_user(username, password, [BROKER_GROUP])
    bind(user, names)
    return user, token
