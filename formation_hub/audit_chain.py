"""Checking the audit trail's hash chain: a rewritten, removed or inserted entry breaks it."""

from dataclasses import dataclass

from formation_hub.models import AuditEntry


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
