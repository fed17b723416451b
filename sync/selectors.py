"""Reads shared by the console, the landing panel and the trace command."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django_q.brokers import get_broker

from formation_hub.audit import audit_entries_for
from sync.models import Event, EventItem, LoopAlert, RejectedCall, ServiceCircuit, TableMapping
from sync.processing.routing import handled_event_types


def event_state_counts(queryset=None) -> dict[str, int]:
    """{state: count} for every state (zeros included), in one query."""
    queryset = Event.objects.all() if queryset is None else queryset
    found = dict(queryset.order_by().values_list("state").annotate(n=Count("id")))
    return {state: found.get(state, 0) for state in Event.State.values}


def mappings_with_last_delivery():
    """Table mappings annotated with `last_delivery_at` (the newest delivery received for the table)."""
    last = (
        Event.objects.filter(source=Event.Source.BASEROW, table_id=OuterRef("baserow_table_id"))
        .order_by("-received_at")
        .values("received_at")[:1]
    )
    return TableMapping.objects.annotate(last_delivery_at=Subquery(last))


def mapping_is_silent(mapping) -> bool:
    """Deliveries stopped: a table that never received one is not silent (a fresh install, a quiet table),
    nor one no rule listens to (its webhook is not needed, and may well be gone)."""
    last = getattr(mapping, "last_delivery_at", None)
    return (mapping.enabled and last is not None and last < timezone.now() - mapping.silence_alert_after
            and bool(handled_event_types(mapping.logical_table)))


def rejected_call_counts() -> dict[str, int]:
    hour_ago = timezone.now() - timedelta(hours=1)
    totals = RejectedCall.objects.aggregate(
        total=Sum("count"), last_hour=Sum("count", filter=Q(last_at__gte=hour_ago))
    )
    return {"total": totals["total"] or 0, "last_hour": totals["last_hour"] or 0}


BUSY_STATES = (Event.State.FAILED, Event.State.DEAD, Event.State.RECEIVED, Event.State.PROCESSING)


def sync_health() -> dict:
    """The numbers of the landing page's "Sync health" panel (a handful of queries)."""
    hour_ago = timezone.now() - timedelta(hours=1)
    # Two grouped counts the indexes answer (state, -received_at) and (-received_at), instead of one
    # aggregate over the whole table: the processed and ignored events are the bulk of a million rows.
    busy = dict(
        Event.objects.filter(state__in=BUSY_STATES).order_by().values_list("state").annotate(n=Count("id"))
    )
    recent = dict(
        Event.objects.filter(received_at__gte=hour_ago).order_by().values_list("state").annotate(n=Count("id"))
    )
    events = {
        "last_hour": sum(recent.values()),
        "failed": busy.get(Event.State.FAILED, 0),
        "dead": busy.get(Event.State.DEAD, 0),
        "ignored_last_hour": recent.get(Event.State.IGNORED, 0),
        "waiting": busy.get(Event.State.RECEIVED, 0) + busy.get(Event.State.PROCESSING, 0),
    }
    mappings = list(mappings_with_last_delivery())
    return {
        **events,
        "waiting_items": EventItem.objects.filter(state=EventItem.State.WAITING).count(),
        "open_circuits": list(open_circuits()),
        "loop_alerts": list(open_loop_alerts()[:5]),
        "rejected": rejected_call_counts(),
        "queue_depth": get_broker().queue_size(),
        "silent_tables": [mapping for mapping in mappings if mapping_is_silent(mapping)],
        "never_received": [mapping for mapping in mappings if mapping.enabled and mapping.last_delivery_at is None],
        "mapped_tables": len(mappings),
    }


@dataclass(frozen=True)
class TraceStep:
    """One line of an event's trace: an audit entry (attempts and outcomes are audited) or an HTTP call."""

    time: datetime
    kind: str  # "received", "audit" or "call"
    actor: str
    what: str
    result: str
    detail: str
    item_id: int | None = None


def event_trace(event: Event, audit: list | None = None) -> list[TraceStep]:
    """Every step of one event in time order: reception, each attempt and outcome, each HTTP call
    (method, path, status, duration; never headers or bodies) and every audit entry."""
    audit = audit if audit is not None else list(audit_entries_for(event).order_by("time", "id"))
    steps = [TraceStep(event.received_at, "received", event.get_source_display(), event.event_type, "ok",
                       f"{event.row_count} row(s)")]
    for entry in audit:
        item_id = entry.changes.get("item") if isinstance(entry.changes, dict) else None
        steps.append(TraceStep(entry.time, "audit", entry.actor_label, entry.action, entry.result, entry.message,
                               item_id))
    for call in event.http_calls.order_by("at", "id"):
        result = str(call.status) if call.status is not None else "no answer"
        steps.append(TraceStep(
            call.at, "call", call.service, f"{call.method} {call.path}", result,
            f"{call.duration_ms} ms, attempt {call.attempt}, {call.outcome}", call.item_id,
        ))
    return sorted(steps, key=lambda step: step.time)


def event_story(event: Event) -> dict:
    """Everything known about one delivery, in order: for the console page and trace_event."""
    audit = list(audit_entries_for(event).order_by("time", "id"))
    return {
        "event": event,
        "items": list(event.items.order_by("position")),
        "audit": audit,
        "trace": event_trace(event, audit),
    }


def open_loop_alerts():
    return LoopAlert.objects.filter(resolved_at__isnull=True)


def open_circuits():
    return ServiceCircuit.objects.filter(state=ServiceCircuit.State.OPEN)
