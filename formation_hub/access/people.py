"""Changes to people and groups: each one leaves an audit entry (issue 17); API tokens are in
`formation_hub.access.api_tokens`.

The console's user and group pages call these; nothing here grants more than the actor has: only a
superuser makes a superuser or grants permissions one by one.
"""

from django.contrib.auth.models import Group

from formation_hub.audit import audit_record

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

