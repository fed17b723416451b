"""Changing who is on call from the console: a rotation with its members, an override, or deleting one;
each audited."""

from collections.abc import Callable

from django.db import transaction

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from incidents.models import HandoffRecap, Override, Rotation
from incidents.permissions import actor


def _require_edit(user, record) -> None:
    action = "add" if record._state.adding else "change"
    require(user, f"incidents.{action}_{record._meta.model_name}", doing="change the on-call schedule")


@transaction.atomic
def rotation_save(*, rotation: Rotation, user, members_save: Callable[[], None] = lambda: None) -> Rotation:
    """Save a rotation, then its members and overrides (`members_save`: the console's inline rows).

    The handoff recaps not sent yet are dropped: the next sweep schedules them from the new rotation.
    """
    _require_edit(user, rotation)
    rotation.save()
    members_save()
    audit_record(action="oncall.rotation_saved", target=rotation, actor=actor(user),
                 changes={"members": [str(member.user) for member in rotation.members.all()]})
    HandoffRecap.objects.filter(rotation=rotation, sent_at__isnull=True).delete()
    return rotation


@transaction.atomic
def override_save(*, override: Override, user) -> Override:
    """Save an override of the rotation (its problems were refused or shown by the form)."""
    _require_edit(user, override)
    override.save()
    audit_record(action="oncall.override_saved", target=override, actor=actor(user),
                 changes={"user": str(override.user), "role": override.role, "starts_at": override.starts_at,
                          "ends_at": override.ends_at})
    return override


@transaction.atomic
def schedule_records_delete(*, records, user) -> None:
    """Delete rotations or overrides (a rotation takes its members, overrides and recaps with it)."""
    for record in records:
        model_name = record._meta.model_name
        require(user, f"incidents.delete_{model_name}", doing="change the on-call schedule")
        audit_record(action=f"oncall.{model_name}_deleted", target=record, actor=actor(user), message=str(record))
        record.delete()
