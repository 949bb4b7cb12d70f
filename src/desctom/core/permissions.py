"""Who may do what, shared by every app: the ELAsTiCC admin rule."""

from __future__ import annotations

#: Members of this group, holders of the permission ``elasticc.elasticc_admin`` and superusers are admins.
ADMIN_GROUP = "elasticc_admin"
#: The permission, as (app label, codename).
ADMIN_PERMISSION = ("elasticc", "elasticc_admin")

_ADMIN_SQL = """
SELECT EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id
               WHERE ug.user_id = %(user)s AND g.name = %(group)s)
    OR (%(active)s AND EXISTS (
        SELECT 1 FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
        WHERE ct.app_label = %(app)s AND p.codename = %(codename)s
          AND (EXISTS (SELECT 1 FROM auth_user_user_permissions up
                       WHERE up.user_id = %(user)s AND up.permission_id = p.id)
               OR EXISTS (SELECT 1 FROM auth_group_permissions gp
                          JOIN auth_user_groups ug ON ug.group_id = gp.group_id
                          WHERE ug.user_id = %(user)s AND gp.permission_id = p.id))))"""


def is_admin(user) -> bool:
    """Whether ``user`` may use the admin endpoints and pages (and read truth): a superuser, a member of
    :data:`ADMIN_GROUP`, or an active holder of the permission (directly or through a group). One query,
    remembered on the user object for the rest of the request."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    known = getattr(user, "_desctom_is_admin", None)
    if known is None:
        from django.db import connection

        app, codename = ADMIN_PERMISSION
        with connection.cursor() as cur:
            cur.execute(_ADMIN_SQL, {"user": user.pk, "group": ADMIN_GROUP, "active": user.is_active,
                                     "app": app, "codename": codename})
            known = bool(cur.fetchone()[0])
        user._desctom_is_admin = known
    return known
