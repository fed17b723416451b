"""The audit trail's single writer, and the check of its hash chain (a rewritten,
removed or inserted entry breaks it)."""

import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from formation_hub.models import AuditEntry
from formation_hub.observability.correlation import current_correlation_id

SYSTEM = "system"
_batch: ContextVar[list | None] = ContextVar("audit_batch", default=None)


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
    batch = _batch.get()
    if batch is not None:
        batch.append(entry)
    else:
        entry.save()
    return entry


@contextmanager
def audit_batch():
    """Entries recorded inside the block are written together in one INSERT when it ends normally (in
    the transaction open at that moment); `write` inside the block writes those kept so far."""
    batch = _AuditBatch()
    token = _batch.set(batch.entries)
    try:
        yield batch
    finally:
        _batch.reset(token)
    batch.write()


class _AuditBatch:
    def __init__(self):
        self.entries: list[AuditEntry] = []

    def write(self) -> None:
        if self.entries:
            AuditEntry.append_many(self.entries)
            self.entries.clear()


def audit_entries_for(target):
    """The audit entries of one object, newest first."""
    content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=content_type, object_id=str(target.pk))


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str


def audit_chain_breaks(*, batch: int = 2000) -> list[ChainBreak]:
    """Every place the chain does not hold, oldest first. Entries written before the chain existed
    (no hash, before the first hashed one) are not checked."""
    breaks: list[ChainBreak] = []
    previous: str | None = None
    entries = AuditEntry.objects.order_by("id").only(
        "id", "time", "actor_label", "action", "content_type_id", "object_id", "object_repr", "changes",
        "result", "message", "correlation_id", "previous_hash", "entry_hash",
    )
    for entry in entries.iterator(chunk_size=batch):
        if previous is None and not entry.entry_hash:
            continue
        if not entry.entry_hash:
            breaks.append(ChainBreak(entry.pk, "no hash: written outside the audit trail's writer"))
        elif previous is not None and entry.previous_hash != previous:
            breaks.append(ChainBreak(entry.pk, "does not follow the entry before it: one was removed or inserted"))
        elif entry.content_hash(entry.previous_hash) != entry.entry_hash:
            breaks.append(ChainBreak(entry.pk, "its content does not match its hash: it was rewritten"))
        previous = entry.entry_hash
    return breaks
