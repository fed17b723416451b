"""Settings rows edited in the console (freeze windows, smoke checks, monitor settings, table mappings,
the forge connection): saved or deleted with an audit entry that names who did it and what changed.

Rows with rules of their own (incidents, rotations, releases, connections to Baserow and Docmost) have
their own services; this is for the rows whose only rule is "an admin or the area's role edits them".
"""

from django.db import transaction

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record


def _permission(row, action: str) -> str:
    return f"{row._meta.app_label}.{action}_{row._meta.model_name}"


def _shown(value):
    """What the audit entry keeps of a field's new value: the text of a related row, not its object."""
    if hasattr(value, "_meta"):
        return str(value)
    if hasattr(value, "all") and hasattr(value, "model"):
        return sorted(str(related) for related in value.all())
    return value


@transaction.atomic
def setting_save(*, row, actor, changes: dict, created: bool) -> None:
    """Save a settings row the actor added or changed in the console, with its audit entry."""
    verb = "add" if created else "change"
    require(actor, _permission(row, verb), doing=f"{verb} {row._meta.verbose_name}")
    row.save()
    audit_record(action=f"setting.{row._meta.model_name}.{'created' if created else 'changed'}", target=row,
                 actor=actor, changes={name: _shown(value) for name, value in changes.items()})


@transaction.atomic
def setting_delete(*, row, actor) -> None:
    require(actor, _permission(row, "delete"), doing=f"delete {row._meta.verbose_name}")
    audit_record(action=f"setting.{row._meta.model_name}.deleted", target=row, actor=actor,
                 changes={"was": str(row)})
    row.delete()
