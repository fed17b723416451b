"""Changes to people, groups and API tokens: each one leaves an audit entry (issue 17).

The console's user, group and token pages call these; nothing here grants more than the actor has:
only a superuser makes a superuser or grants permissions one by one, and a token is made by its
owner, its key shown once.
"""

from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from formation_hub.audit import audit_record
from formation_hub.errors import NotAllowed

# Fields whose values never reach the audit trail (only that they changed).
SECRET_FIELDS = {"password"}


def _described(changes: dict) -> dict:
    return {name: ("(changed)" if name in SECRET_FIELDS else value) for name, value in changes.items()}


def person_saved(*, person, actor, created: bool, changes: dict) -> None:
    audit_record(action="person.created" if created else "person.changed", target=person, actor=actor,
                 changes=_described(changes))


def person_groups_changed(*, person, actor, before: set[str], after: set[str]) -> None:
    if before != after:
        audit_record(action="person.groups_changed", target=person, actor=actor,
                     changes={"added": sorted(after - before), "removed": sorted(before - after)})


def person_deleted(*, person, actor) -> None:
    audit_record(action="person.deleted", target=person, actor=actor, changes={"username": person.get_username()})


def group_saved(*, group: Group, actor, created: bool, changes: dict) -> None:
    audit_record(action="group.created" if created else "group.changed", target=group, actor=actor,
                 changes=_described(changes))


def group_permissions_changed(*, group: Group, actor, before: set[str], after: set[str]) -> None:
    if before != after:
        audit_record(action="group.permissions_changed", target=group, actor=actor,
                     changes={"added": sorted(after - before), "removed": sorted(before - after)})


@transaction.atomic
def token_create(*, owner, actor) -> Token:
    """A person's API token, made by that person: the key is returned once, to be shown once."""
    if actor is None or actor.pk != owner.pk:
        raise NotAllowed("An API token is made by its owner: sign in as that person to make theirs.")
    revoked = Token.objects.filter(user=owner).delete()[0]
    token = Token.objects.create(user=owner)
    audit_record(action="token.created", target=owner, actor=actor,
                 changes={"key_prefix": token.key[:6], "previous_revoked": bool(revoked)})
    return token
