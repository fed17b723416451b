"""Queueing stored events for a worker: the enqueue (in the caller's transaction or on commit, one
broker per process) and the sweeper that requeues what was never queued, stuck, or has a retry due."""

import logging
from datetime import timedelta
from functools import cache, partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from formation_hub.audit import audit_record
from sync import conf
from sync.models import Event, EventItem

logger = logging.getLogger(__name__)

# The audit actor of the work a worker does on an event.
WORKER = "sync-worker"
PROCESS_TASK = "sync.tasks.process_event"


def queue_commits_with_the_event() -> bool:
    """django-q2's ORM broker on the default database writes its queue row in our transaction."""
    cluster = settings.Q_CLUSTER
    return not cluster.get("redis") and cluster.get("orm") == "default"


@cache
def _broker():
    """One django-q2 broker per process: with Redis, each new broker would open a new connection."""
    return get_broker()


def _enqueue_now(event_id: int) -> None:
    async_task(PROCESS_TASK, event_id, group="sync", broker=_broker())
    Event.objects.filter(pk=event_id).update(enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1)


def event_enqueue(*, event: Event) -> None:
    """Queue the processing job: in the caller's transaction with the ORM broker, on commit with Redis
    (the sweeper catches an event whose on-commit enqueue was lost in a crash)."""
    event_id_enqueue(event.pk)


def event_id_enqueue(event_id: int) -> None:
    """`event_enqueue` for a caller that holds only the id."""
    if queue_commits_with_the_event():
        _enqueue_now(event_id)
    else:
        transaction.on_commit(partial(_enqueue_now, event_id))


def event_enqueue_stored(*, event_id: int) -> None:
    """Queue the job of an event stored with its `enqueued_at` already set (ingest: no second write).

    With Redis the push runs once the event is committed; a push that fails clears `enqueued_at` so the
    sweeper runs the event within a minute; a push lost in a crash is found once the event has been
    queued longer than SYNC_STUCK_AFTER_SECONDS."""
    if queue_commits_with_the_event():
        async_task(PROCESS_TASK, event_id, group="sync", broker=_broker())
    else:
        transaction.on_commit(partial(_push_or_leave_to_sweeper, event_id))


def _push_or_leave_to_sweeper(event_id: int) -> None:
    try:
        async_task(PROCESS_TASK, event_id, group="sync", broker=_broker())
    except Exception:  # noqa: BLE001 - the event is stored: the sweeper runs it, the delivery stays accepted
        logger.exception("Pushing event #%s to the broker failed; the sweeper will run it", event_id)
        Event.objects.filter(pk=event_id, state=Event.State.RECEIVED).update(
            enqueued_at=None, enqueue_count=F("enqueue_count") - 1
        )


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
        | Q(state=Event.State.FAILED, items__state__in=[EventItem.State.FAILED, EventItem.State.WAITING],
            items__next_attempt_at__lte=now)
        | Q(state=Event.State.FAILED, items__state=EventItem.State.PENDING, claimed_at__lt=stale)
    )
    # Oldest first, so a backlog drains in the order it arrived.
    return (
        Event.objects.filter(due).annotate(oldest=Min("items__created_at"))
        .order_by(F("oldest").asc(nulls_first=True), "pk").values_list("pk", flat=True)
    )


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
