"""Processing a stored event: enqueue, claim, route each item to its handler, record the outcome.

A task takes the event id and calls `event_process`. Claiming is a conditional UPDATE, so two
workers given the same event (a re-enqueue by the sweeper, a replay) never both run it.
"""

import logging
import traceback
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django_q.tasks import async_task

from formation_hub.audit import audit_record
from formation_hub.context import correlation
from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry
from sync import conf
from sync.models import Event, EventItem, TableMapping
from sync.routing import DOCMOST_TABLE, KNOWN_EVENT_TYPES, IgnoreItem, PermanentFailure, handler_for

logger = logging.getLogger(__name__)

WORKER = "sync-worker"
NOT_DONE = (EventItem.State.PENDING, EventItem.State.FAILED)
PROCESS_TASK = "sync.tasks.process_event"


def _queue_commits_with_the_event() -> bool:
    """django-q2's ORM broker on the default database writes its queue row in our transaction."""
    cluster = settings.Q_CLUSTER
    return not cluster.get("redis") and cluster.get("orm") == "default"


def _enqueue_now(event_id: int) -> None:
    async_task(PROCESS_TASK, event_id, group="sync")
    Event.objects.filter(pk=event_id).update(enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1)


def event_enqueue(*, event: Event) -> None:
    """Queue the processing job: in the caller's transaction with the ORM broker, on commit with Redis
    (the sweeper catches an event whose on-commit enqueue was lost in a crash)."""
    if _queue_commits_with_the_event():
        _enqueue_now(event.pk)
    else:
        transaction.on_commit(partial(_enqueue_now, event.pk))


def _claim(event_id: int) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=conf.stuck_after_seconds())
    claimable = Q(state__in=[Event.State.RECEIVED, Event.State.FAILED]) | Q(
        state=Event.State.PROCESSING, claimed_at__lt=stale
    )
    return bool(
        Event.objects.filter(claimable, pk=event_id).update(
            state=Event.State.PROCESSING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def _event_ignore_reason(event: Event, mapping: TableMapping | None) -> str:
    """Why no item of this event can be handled ('' when the items go to their handlers)."""
    if event.is_test_call:
        return "Baserow test call (no webhook id)"
    if event.source == Event.Source.DOCMOST:
        return ""
    if event.event_type not in KNOWN_EVENT_TYPES:
        return f"unknown event type '{event.event_type}'"
    if mapping is None:
        return f"Baserow table {event.table_id} is not mapped"
    if not mapping.enabled:
        return f"the mapping of table {event.table_id} ({mapping.logical_table}) is disabled"
    return ""


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _run_item(event: Event, item: EventItem, mapping: TableMapping | None, logical_table: str) -> None:
    now = timezone.now()
    handler = handler_for(logical_table, event.event_type)
    item.attempts += 1
    item.next_attempt_at = None
    result = AuditEntry.Result.OK
    try:
        if handler is None:
            raise IgnoreItem(f"no rule for {logical_table} {event.event_type}")
        note = handler(item, mapping)
    except IgnoreItem as outcome:
        item.state, item.reason = EventItem.State.IGNORED, outcome.reason[:300]
    except PermanentFailure as error:
        item.state, item.reason, item.last_error = EventItem.State.DEAD, str(error)[:300], traceback.format_exc()
        result = AuditEntry.Result.FAILED
    except Exception as error:  # noqa: BLE001 - any other error is a failure to retry, recorded on the item
        item.last_error = traceback.format_exc()
        result = AuditEntry.Result.FAILED
        if item.attempts >= conf.item_max_attempts():
            item.state, item.reason = EventItem.State.DEAD, f"gave up after {item.attempts} attempts: {error}"[:300]
        else:
            item.state, item.reason = EventItem.State.FAILED, f"{type(error).__name__}: {error}"[:300]
            item.next_attempt_at = now + _retry_delay(item.attempts)
    else:
        item.state, item.reason = EventItem.State.PROCESSED, (note or "")[:300]
    item.processed_at = now
    item.save(update_fields=["state", "reason", "attempts", "next_attempt_at", "last_error", "processed_at"])
    audit_record(
        action=f"sync.item.{item.state}", target=event, actor_label=WORKER, result=result,
        changes={"item": item.pk, "row_id": item.row_id, "attempt": item.attempts, "state": item.state},
        message=item.reason,
    )


def _finish(event: Event, reason: str = "") -> Event:
    counts = dict(event.items.values_list("state").annotate(n=Count("id")).order_by())
    states = EventItem.State
    if not counts:
        state, reason = Event.State.IGNORED, reason or "no rows in the delivery"
    elif counts.get(states.DEAD):
        state = Event.State.DEAD
    elif counts.get(states.FAILED) or counts.get(states.PENDING):
        state = Event.State.FAILED
    elif set(counts) == {states.IGNORED}:
        state = Event.State.IGNORED
        if not reason:
            reasons = list(event.items.order_by().values_list("reason", flat=True).distinct()[:2])
            reason = reasons[0] if len(reasons) == 1 else f"{counts[states.IGNORED]} items ignored"
    else:
        state = Event.State.PROCESSED
    failing = event.items.filter(state__in=[states.FAILED, states.DEAD]).exclude(last_error="").first()
    event.state, event.reason, event.processed_at = state, reason[:300], timezone.now()
    event.last_error = failing.reason if failing else ""
    event.last_traceback = failing.last_error if failing else ""
    event.save(update_fields=["state", "reason", "processed_at", "last_error", "last_traceback"])
    audit_record(
        action="sync.event.processed", target=event, actor_label=WORKER,
        changes={"state": state, "items": counts}, message=event.reason,
        result=AuditEntry.Result.FAILED if state in (Event.State.FAILED, Event.State.DEAD) else AuditEntry.Result.OK,
    )
    return event


def _process(event: Event) -> Event:
    mapping = TableMapping.objects.filter(baserow_table_id=event.table_id).first() if event.table_id else None
    if mapping != event.mapping:
        event.mapping = mapping
        event.save(update_fields=["mapping"])
    reason = _event_ignore_reason(event, mapping)
    if reason:
        ignored = event.items.filter(state__in=NOT_DONE).update(
            state=EventItem.State.IGNORED, reason=reason[:300], next_attempt_at=None, processed_at=timezone.now()
        )
        audit_record(
            action="sync.item.ignored", target=event, actor_label=WORKER, changes={"items": ignored}, message=reason
        )
        return _finish(event, reason)
    logical_table = mapping.logical_table if mapping else DOCMOST_TABLE
    due = Q(state=EventItem.State.PENDING) | Q(
        state=EventItem.State.FAILED, next_attempt_at__lte=timezone.now()
    )
    for item in event.items.filter(due).order_by("position"):
        _run_item(event, item, mapping, logical_table)
    return _finish(event)


def event_process(*, event_id: int) -> Event | None:
    """Run what is due in one event; None when another worker holds it or it has nothing to do."""
    if not _claim(event_id):
        return None
    event = Event.objects.select_related("mapping").get(pk=event_id)
    with correlation(event.correlation_id or None):
        try:
            return _process(event)
        except Exception as error:
            logger.exception("Processing event #%s failed", event_id)
            Event.objects.filter(pk=event_id).update(
                state=Event.State.FAILED, last_error=f"{type(error).__name__}: {error}"[:2000],
                last_traceback=traceback.format_exc(),
            )
            audit_record(
                action="sync.event.failed", target=event, actor_label=WORKER,
                result=AuditEntry.Result.FAILED, message=f"{type(error).__name__}: {error}",
            )
            raise


@transaction.atomic
def event_replay(*, event: Event, user) -> int:
    """Run again every item that did not succeed (ignored, failed, dead); returns how many."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.state == Event.State.PROCESSING:
        raise DomainError(f"Event #{event.pk} is being processed right now; replay it once it has finished.")
    if event.state == Event.State.RECEIVED and event.enqueued_at is not None:
        raise DomainError(f"Event #{event.pk} is already queued for a worker; nothing to replay yet.")
    items = event.items.exclude(state=EventItem.State.PROCESSED)
    count = items.update(state=EventItem.State.PENDING, attempts=0, next_attempt_at=None, reason="")
    if not count:
        raise DomainError(f"Nothing to replay in event #{event.pk}: every item was processed.")
    previous = event.state
    event.state, event.reason = Event.State.RECEIVED, ""
    event.save(update_fields=["state", "reason"])
    audit_record(
        action="sync.event.replayed", target=event, actor=user,
        changes={"items": count, "previous_state": previous},
        message=f"{count} item(s) that had not succeeded queued again",
    )
    event_enqueue(event=event)
    return count


def events_due_for_sweep():
    """Events stored but never enqueued, queued or claimed for too long, or with a retry due."""
    now = timezone.now()
    stale = now - timedelta(seconds=conf.stuck_after_seconds())
    # The grace leaves the on-commit enqueue of the Redis broker time to run.
    grace = now - timedelta(seconds=30)
    due = (
        Q(state=Event.State.RECEIVED, enqueued_at__isnull=True, received_at__lt=grace)
        | Q(state=Event.State.RECEIVED, enqueued_at__lt=stale)
        | Q(state=Event.State.PROCESSING, claimed_at__lt=stale)
        | Q(state=Event.State.FAILED, items__state=EventItem.State.FAILED, items__next_attempt_at__lte=now)
        | Q(state=Event.State.FAILED, items__state=EventItem.State.PENDING, claimed_at__lt=stale)
    )
    return Event.objects.filter(due).values_list("pk", flat=True).distinct().order_by("pk")


def events_sweep(*, limit: int = 500) -> int:
    swept = 0
    for event_id in list(events_due_for_sweep()[:limit]):
        with transaction.atomic():
            event = Event.objects.get(pk=event_id)
            audit_record(
                action="sync.event.requeued", target=event, actor_label="sync-sweeper",
                changes={"state": event.state, "enqueued_at": event.enqueued_at},
                message="stored but not enqueued, stuck, or with a retry due",
            )
            event_enqueue(event=event)
        swept += 1
    return swept
