"""Who may do what in the incidents app, in the app's own permissions (Meta.permissions)."""

from django.contrib.auth.models import AnonymousUser

from formation_hub.access.permissions import holders, may
from formation_hub.errors import NotAllowed

RESPOND = "incidents.respond_incident"
ACKNOWLEDGE_ESCALATION = "incidents.acknowledge_recurrenceescalation"


def actor(user):
    """The user to record as actor: None for an anonymous request or the system."""
    return None if isinstance(user, AnonymousUser) else user


def can_respond(user) -> bool:
    """On-call people and admins respond to incidents; any staff member may only report one."""
    return may(user, RESPOND)


def require_responder(user) -> None:
    if user is not None and not can_respond(user):
        raise NotAllowed("Only on-call people and admins can do this; use 'report a problem' to tell them.")


def responders():
    """The people who may be an incident's commander."""
    return holders(RESPOND).order_by("username")
