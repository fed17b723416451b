"""Admins hear about sync work that failed for good: one e-mail per delivery whose rows went dead, listing
them, sent by a schedule (every 5 min) so the processing path stays as it is. The look-back covers a
stopped worker; the dedupe key keeps it to one alert per event."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from formation_hub.notifications import notify
from sync.models import Event, EventItem

LOOK_BACK = timedelta(hours=6)


def dead_items_alert() -> int:
    """Alert once per event with dead items processed lately; returns how many events were alerted."""
    since = timezone.now() - LOOK_BACK
    dead = (EventItem.objects.filter(state=EventItem.State.DEAD, processed_at__gte=since)
            .select_related("event").order_by("event_id", "position"))
    by_event: dict[int, list[EventItem]] = {}
    for item in dead[:1000]:
        by_event.setdefault(item.event_id, []).append(item)
    for items in by_event.values():
        event: Event = items[0].event
        lines = "\n".join(f"- {item}: {item.reason}" for item in items[:50])
        notify(
            kind="sync.dead", target=event, dedupe_key=f"sync.dead:{event.pk}",
            subject=f"[sync] {len(items)} row(s) of event #{event.pk} failed for good",
            body=(f"{event.event_type} on table {event.table_id}: these rows will not be retried.\n{lines}\n\n"
                  f"Fix the cause, then Replay on the event page: "
                  f"{reverse('admin:sync_event_change', args=[event.pk])}"),
        )
    return len(by_event)
