"""Coalescing: after a sync that read a row's latest state, the newer updates it already covers are done.

Below both the pipeline and the rules (which call it after a successful sync), so neither imports the other."""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from sync import conf
from sync.models import Event, EventItem
from sync.processing.enqueue import WORKER, event_enqueue


def items_coalesce_into(*, item: EventItem, read_at) -> int:
    """After a successful sync that read the row's state at `read_at`, mark the newer updates of the same
    entity received before that read and within the coalescing window as done; returns how many."""
    if not item.entity_key or read_at <= item.created_at:
        return 0
    window_end = item.created_at + timedelta(seconds=conf.coalesce_window_seconds())
    newer = EventItem.objects.filter(
        entity_key=item.entity_key, state__in=EventItem.NOT_DONE, event__event_type="rows.updated",
        created_at__gte=item.created_at, created_at__lte=min(window_end, read_at),
    ).exclude(pk=item.pk)
    event_ids = set(newer.values_list("event_id", flat=True))
    if not event_ids:
        return 0
    count = newer.update(
        state=EventItem.State.IGNORED, next_attempt_at=None, processed_at=timezone.now(),
        reason=f"coalesced into item #{item.pk} (synced the row's latest state)",
    )
    for event in Event.objects.filter(pk__in=event_ids).exclude(pk=item.event_id):
        audit_record(action="sync.item.coalesced", target=event, actor_label=WORKER,
                     changes={"into_item": item.pk}, message=f"update(s) coalesced into item #{item.pk}")
        transaction.on_commit(partial(event_enqueue, event=event))
    return count
