"""Who may do what, shared by every app: the ELAsTiCC admin rule."""

from __future__ import annotations

#: Members of this group, holders of the permission ``elasticc.elasticc_admin`` and superusers are admins.
ADMIN_GROUP = "elasticc_admin"


def is_admin(user) -> bool:
    """Whether ``user`` may use the admin endpoints and pages (and read truth)."""
    return (user.is_superuser or user.has_perm("elasticc.elasticc_admin")
            or user.groups.filter(name=ADMIN_GROUP).exists())
