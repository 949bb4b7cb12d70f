"""Template context for every page: ``desctom_is_admin`` (the ELAsTiCC admin rule, evaluated only if a
template asks, in one query: :func:`desctom.core.permissions.is_admin`)."""

from django.utils.functional import SimpleLazyObject

from desctom.core.permissions import is_admin


def desctom_flags(request) -> dict:
    return {"desctom_is_admin": SimpleLazyObject(lambda: is_admin(getattr(request, "user", None)))}
