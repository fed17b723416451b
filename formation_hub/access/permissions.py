"""One language for who may do what: model permissions (`app_label.codename`).

Each app declares its own actions as model permissions (`Meta.permissions`) and maps the roles to
them in a data migration it owns; services and the console ask `user.has_perm(...)` through the two
helpers below. A service called by the system (no user) is not checked: the system acts on rules.

A decision one person takes on another's work (a gate) is separation of duties: it needs the
permission granted to the person or their group, and being a superuser does not imply it.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db.models import Q

from formation_hub.errors import NotAllowed


def may(user, permission: str) -> bool:
    """Whether a signed-in, active user has `app_label.codename`."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return False
    return user.has_perm(permission)


def require(user, permission: str, *, doing: str) -> None:
    """Refuse a person who lacks the permission; the system (user None) acts on its own rules."""
    if user is None:
        return
    if not may(user, permission):
        raise NotAllowed(f"You may not {doing}: it needs the '{permission_label(permission)}' permission.")


def holds(user, permission: str) -> bool:
    """Whether the permission is granted to the user or one of their groups (never implied by superuser)."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return False
    app_label, codename = permission.split(".", 1)
    return Permission.objects.filter(
        Q(group__user=user) | Q(user=user), content_type__app_label=app_label, codename=codename
    ).exists()


def holders(permission: str):
    """Active users who hold the permission (granted to them or their groups)."""
    app_label, codename = permission.split(".", 1)
    grant = Q(content_type__app_label=app_label, codename=codename)
    granted = Permission.objects.filter(grant)
    return get_user_model().objects.filter(
        Q(groups__permissions__in=granted) | Q(user_permissions__in=granted), is_active=True
    ).distinct()


def holder_groups(permission: str) -> list[str]:
    """The names of the groups granted the permission, for a refusal that says who to ask."""
    app_label, codename = permission.split(".", 1)
    return list(Group.objects.filter(permissions__content_type__app_label=app_label,
                                     permissions__codename=codename).order_by("name").values_list("name", flat=True))


def permission_label(permission: str) -> str:
    app_label, codename = permission.split(".", 1)
    found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    return found.name if found else permission
