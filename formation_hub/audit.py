"""The audit trail's single writer."""

import json
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from formation_hub.context import current_correlation_id
from formation_hub.models import AuditEntry

SYSTEM = "system"


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_record(
    *,
    action: str,
    target=None,
    actor=None,
    actor_label: str = SYSTEM,
    changes: dict | None = None,
    result: str = AuditEntry.Result.OK,
    message: str = "",
) -> AuditEntry:
    """Append one entry: who (a user, or the system part named by actor_label), what, on what, result."""
    if isinstance(actor, AnonymousUser):
        actor = None
    entry = AuditEntry(
        time=timezone.now(),
        actor=actor,
        actor_label=(actor.get_username() if actor is not None else actor_label)[:150],
        action=action,
        changes=_json_safe(changes or {}),
        result=result,
        message=message,
        correlation_id=current_correlation_id(),
    )
    if target is not None:
        entry.content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        entry.object_id = str(target.pk)
        entry.object_repr = str(target)[:200]
    entry.save()
    return entry


def audit_entries_for(target):
    """The audit entries of one object, newest first."""
    content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=content_type, object_id=str(target.pk))
