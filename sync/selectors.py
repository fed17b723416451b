"""Reads shared by the console, the landing panel and the trace command."""

from datetime import timedelta

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django_q.brokers import get_broker

from formation_hub.audit import audit_entries_for
from sync.models import Event, RejectedCall, TableMapping


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
    last = getattr(mapping, "last_delivery_at", None)
    return mapping.enabled and (last is None or last < timezone.now() - mapping.silence_alert_after)


def rejected_call_counts() -> dict[str, int]:
    hour_ago = timezone.now() - timedelta(hours=1)
    totals = RejectedCall.objects.aggregate(
        total=Sum("count"), last_hour=Sum("count", filter=Q(last_at__gte=hour_ago))
    )
    return {"total": totals["total"] or 0, "last_hour": totals["last_hour"] or 0}


def sync_health() -> dict:
    """The numbers of the landing page's "Sync health" panel (a handful of queries)."""
    hour_ago = timezone.now() - timedelta(hours=1)
    events = Event.objects.aggregate(
        last_hour=Count("id", filter=Q(received_at__gte=hour_ago)),
        failed=Count("id", filter=Q(state=Event.State.FAILED)),
        dead=Count("id", filter=Q(state=Event.State.DEAD)),
        ignored_last_hour=Count("id", filter=Q(state=Event.State.IGNORED, received_at__gte=hour_ago)),
        waiting=Count("id", filter=Q(state__in=[Event.State.RECEIVED, Event.State.PROCESSING])),
    )
    mappings = list(mappings_with_last_delivery())
    return {
        **events,
        "rejected": rejected_call_counts(),
        "queue_depth": get_broker().queue_size(),
        "silent_tables": [mapping for mapping in mappings if mapping_is_silent(mapping)],
        "mapped_tables": len(mappings),
    }


def event_story(event: Event) -> dict:
    """Everything known about one delivery, in order: for the console page and trace_event."""
    return {
        "event": event,
        "items": list(event.items.order_by("position")),
        "audit": list(audit_entries_for(event).order_by("time", "id")),
    }
