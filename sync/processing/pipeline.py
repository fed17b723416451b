"""Processing a stored event: claim, route each item to its handler, record the outcome.

A task takes the event id and calls `event_process`. Claiming is a conditional UPDATE (`claims.py`), so
two workers given the same event (a re-enqueue by the sweeper, a replay) never both run it. The last
item's record and the event's outcome are written in one transaction, with one audit INSERT.
"""

import logging
import traceback
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_batch, audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.hot_sql import insert_rows
from formation_hub.models import AuditEntry
from formation_hub.observability.correlation import correlation
from sync import conf
from sync.clients.circuits import circuit_trip, waiting_reason
from sync.clients.errors import PermanentError, PermanentFailure, RetryableError
from sync.clients.http import CallRecord, recording
from sync.config_cache import mapping_for_table
from sync.models import Event, EventItem, HttpCall, TableMapping
from sync.processing.claims import claim_renew, claimed_event_update, event_claim, item_claim_next
from sync.processing.enqueue import WORKER, event_enqueue
from sync.processing.ordering import BEHIND, entity_look, item_outcome_save, loop_check
from sync.processing.routing import (
    DOCMOST_TABLE,
    KNOWN_EVENT_TYPES,
    IgnoreItem,
    bridge_owned_fields,
    handler_for,
)

logger = logging.getLogger(__name__)

NOT_DONE = EventItem.NOT_DONE
# Keys of every Baserow row that are not fields.
ROW_META_KEYS = frozenset({"id", "order"})


def ingest_ignore_reason(*, event_type: str, table_id: int, is_test_call: bool, mapping: TableMapping | None,
                         has_units: bool) -> str:
    """Why a Baserow delivery needs no job at all ('' when its items go to a worker): it is then stored
    as ignored, with that reason, and an admin can still replay it (after mapping the table, say)."""
    if is_test_call:
        return "Baserow test call (no webhook id)"
    if event_type not in KNOWN_EVENT_TYPES:
        return f"unknown event type '{event_type}'"
    if mapping is None:
        return f"Baserow table {table_id} is not mapped"
    if not mapping.enabled:
        return f"the mapping of table {mapping.baserow_table_id} ({mapping.logical_table}) is disabled"
    if not has_units:
        return "no rows in the delivery"
    if handler_for(mapping.logical_table, event_type) is None:
        return f"no rule for {mapping.logical_table} {event_type}"
    return ""


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


class _CallRecorder:
    """Keeps each HTTP attempt of a handler with the time it started, to store them on the item."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __call__(self, record: CallRecord) -> None:
        self.calls.append((timezone.now() - timedelta(milliseconds=record.duration_ms), record))

    def save(self, event: Event, item: EventItem) -> None:
        insert_rows(HttpCall, [
            {
                "event_id": event.pk, "item_id": item.pk, "at": at, "service": record.service,
                "method": record.method, "path": record.path[:500], "status": record.status,
                "duration_ms": record.duration_ms, "attempt": record.attempt, "outcome": record.outcome[:40],
            }
            for at, record in self.calls
        ])


def _echo_reason(event: Event, item: EventItem, mapping: TableMapping | None) -> str:
    """Why a rows.updated is the echo of a write (''  when a person changed something that matters)."""
    if event.event_type != "rows.updated" or item.old_data is None or item.data is None or mapping is None:
        return ""
    changed = {
        key for key in set(item.data) | set(item.old_data)
        if key not in ROW_META_KEYS and item.data.get(key) != item.old_data.get(key)
    }
    if not changed:
        return "no field changed (row moved or saved as is)"
    owned = bridge_owned_fields(mapping)
    if changed <= owned:
        return f"own write: only bridge-owned field(s) changed ({', '.join(sorted(changed))})"
    return ""


def _wait(item: EventItem, reason: str, until) -> None:
    item.state, item.reason, item.next_attempt_at = EventItem.State.WAITING, reason[:300], until


def _run_item(event: Event, item: EventItem, mapping: TableMapping | None, logical_table: str,
              finish_with: list[EventItem] | None = None) -> None:
    """Run the item's handler, then record its outcome, its HTTP calls and its audit entries (the
    handler's own included) in one transaction; with `finish_with` (the event's last due item and every
    item run), the event's outcome too, all audit entries in one INSERT."""
    with audit_batch() as audit:
        recorder, result = _item_outcome(event, item, mapping, logical_table)
        with transaction.atomic():
            item_outcome_save(item)
            recorder.save(event, item)
            audit_record(
                action=f"sync.item.{item.state}", target=event, actor_label=WORKER, result=result,
                changes={"item": item.pk, "row_id": item.row_id, "attempt": item.attempts, "state": item.state},
                message=item.reason,
            )
            if finish_with is not None:
                _finish(event, ran=finish_with)
            # Last: the audit chain's lock is held until the commit.
            audit.write()


def _item_outcome(event: Event, item: EventItem, mapping: TableMapping | None,
                  logical_table: str) -> tuple[_CallRecorder, str]:
    """Run the item's handler (unless it must wait or is ignored): its outcome set on the item, with the
    HTTP calls it made and the audit result."""
    now = timezone.now()
    handler = handler_for(logical_table, event.event_type)
    item.next_attempt_at = None
    result = AuditEntry.Result.OK
    recorder = _CallRecorder()
    look = entity_look(item, tuple(getattr(handler, "services", ())) if handler else ())
    try:
        if item.created_at < now - timedelta(hours=conf.item_max_age_hours()):
            raise PermanentFailure(f"gave up: not done {conf.item_max_age_hours():g} h after it arrived")
        loop_check(item, look.loop_counts)
        if look.blocker is not None:
            _wait(item, f"{BEHIND} #{look.blocker.pk} (event #{look.blocker.event_id})", now + timedelta(seconds=30))
        elif look.circuit is not None:
            _wait(item, f"{waiting_reason(look.circuit.service)} (circuit open since "
                        f"{format_local(look.circuit.opened_at, '%H:%M:%S')})", look.circuit.next_probe_at)
        else:
            item.attempts += 1
            if handler is None:
                raise IgnoreItem(f"no rule for {logical_table} {event.event_type}")
            echo = _echo_reason(event, item, mapping)
            if echo:
                raise IgnoreItem(echo)
            with recording(recorder):
                note = handler(item, mapping)
            item.state, item.reason = EventItem.State.PROCESSED, (note or "")[:300]
    except IgnoreItem as outcome:
        item.state, item.reason = EventItem.State.IGNORED, outcome.reason[:300]
    except (PermanentFailure, PermanentError) as error:
        item.state, item.reason, item.last_error = EventItem.State.DEAD, str(error)[:300], traceback.format_exc()
        result = AuditEntry.Result.FAILED
    except RetryableError as error:
        # The client's quick retries are spent: the service is down; wait for it without burning an attempt.
        item.attempts -= 1
        item.last_error = traceback.format_exc()
        tripped = circuit_trip(service=error.service or "unknown", error=str(error),
                               retry_after=getattr(error, "retry_after", None))
        _wait(item, f"{waiting_reason(tripped.service)}: {error}", tripped.next_probe_at)
        result = AuditEntry.Result.FAILED
    except Exception as error:  # noqa: BLE001 - any other error is a failure to retry, recorded on the item
        item.last_error = traceback.format_exc()
        result = AuditEntry.Result.FAILED
        item.state, item.reason = EventItem.State.FAILED, f"{type(error).__name__}: {error}"[:300]
        item.next_attempt_at = now + _retry_delay(item.attempts)
    item.processed_at, item.claimed_at = timezone.now(), None
    return recorder, result


def _finish(event: Event, reason: str = "", ran: list[EventItem] | None = None) -> Event:
    """The event's state from its items': `ran`, when it holds every item of the event, saves reading them.
    Written only while this worker's claim holds (another worker that took the event over writes its own)."""
    if ran and len(ran) == (event.row_count or 1):
        counts: dict[str, int] = {}
        for item in ran:
            counts[item.state] = counts.get(item.state, 0) + 1
    else:
        counts = dict(event.items.values_list("state").annotate(n=Count("id")).order_by())
    states = EventItem.State
    if not counts:
        state, reason = Event.State.IGNORED, reason or "no rows in the delivery"
    elif counts.get(states.DEAD):
        state = Event.State.DEAD
    elif counts.get(states.FAILED) or counts.get(states.PENDING) or counts.get(states.WAITING):
        state = Event.State.FAILED
        if not reason:
            waiting = event.items.filter(state=states.WAITING).order_by("position").first()
            reason = waiting.reason if waiting else ""
    elif set(counts) == {states.IGNORED}:
        state = Event.State.IGNORED
        if not reason:
            reasons = list(event.items.order_by().values_list("reason", flat=True).distinct()[:2])
            reason = reasons[0] if len(reasons) == 1 else f"{counts[states.IGNORED]} items ignored"
    else:
        state = Event.State.PROCESSED
    failing = None
    if counts.get(states.FAILED) or counts.get(states.DEAD):
        failing = event.items.filter(state__in=[states.FAILED, states.DEAD]).exclude(last_error="").first()
    outcome = {
        "state": state, "reason": reason[:300], "processed_at": timezone.now(),
        "last_error": failing.reason if failing else "", "last_traceback": failing.last_error if failing else "",
    }
    result = AuditEntry.Result.FAILED if state in (Event.State.FAILED, Event.State.DEAD) else AuditEntry.Result.OK
    with transaction.atomic(savepoint=False):
        if not claimed_event_update(event, outcome):
            logger.warning("Event #%s was taken over by another worker; its outcome is left to that one", event.pk)
            return event
        audit_record(
            action="sync.event.processed", target=event, actor_label=WORKER,
            changes={"state": state, "items": counts}, message=event.reason, result=result,
        )
    return event


def _process(event: Event) -> Event:
    mapping = mapping_for_table(event.table_id)
    if (mapping.pk if mapping else None) != event.mapping_id:
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
    ran = []
    while True:
        item, is_last = item_claim_next(event, after_position=ran[-1].position if ran else -1)
        if item is None:
            break
        ran.append(item)
        if is_last:
            # No item follows: the event's outcome goes in the item's transaction.
            _run_item(event, item, mapping, logical_table, finish_with=ran)
            return event
        _run_item(event, item, mapping, logical_table)
        if not claim_renew(event):
            logger.warning("Event #%s was taken over by another worker; this one stops", event.pk)
            return event
    return _finish(event, ran=ran)


def event_process(*, event_id: int) -> Event | None:
    """Run what is due in one event; None when another worker holds it or it has nothing to do."""
    event = event_claim(event_id)
    if event is None:
        return None
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
    require(user, "sync.replay_event", doing="replay a sync event")
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
