"""Who may do what in the incidents app: responders (on-call people and admins), and admins."""

from django.contrib.auth.models import AnonymousUser

from formation_hub.errors import NotAllowed
from formation_hub.roles import ADMIN, ONCALL


def actor(user):
    """The user to record as actor: None for an anonymous request or the system."""
    return None if isinstance(user, AnonymousUser) else user


def can_respond(user) -> bool:
    """On-call people and admins respond to incidents; any staff member may only report one."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name__in=(ONCALL, ADMIN)).exists()


def require_responder(user) -> None:
    if user is not None and not can_respond(user):
        raise NotAllowed("Only on-call people and admins can do this; use 'report a problem' to tell them.")


def is_admin(user) -> bool:
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=ADMIN).exists()
