from django.urls import reverse

from formation_hub.console.dashboard import Panel
from formation_hub.console.panels import chart_panel, hourly_counts
from sync.models import Event
from sync.selectors import open_loop_alerts, sync_health


def sync_health_context(request) -> dict:
    """The health figures, the events list behind them, and what needs someone: dead events, silent
    tables and open loop alerts (failed events retry by themselves, so they do not count)."""
    health = sync_health()
    open_loops = open_loop_alerts().count()
    return {
        **health,
        "open_loop_alerts": open_loops,
        "list_url": reverse("admin:sync_event_changelist"),
        "attention": health["dead"] + len(health["silent_tables"]) + open_loops,
    }


sync_health_panel = Panel(
    name="sync_health", title="Sync health", template="admin/panels/sync_health.html",
    context=sync_health_context, order=200,
)


def sync_events_per_hour_panel() -> Panel:
    """Events received per hour over 24 hours by their current state (one range scan of `sync_event_received`)."""
    return chart_panel(
        name="sync_events_per_hour", title="Sync events per hour (24 h)", order=210,
        segments=[Event.State.PROCESSED, Event.State.IGNORED, Event.State.FAILED, Event.State.DEAD,
                  Event.State.RECEIVED, Event.State.PROCESSING],
        bars=lambda request: hourly_counts(Event.objects.all(), time_field="received_at", segment_field="state"),
        colors={"processed": "#1a7f37", "ignored": "#667085", "failed": "#b54708", "dead": "#b42318",
                "received": "#2f6f9f", "processing": "#6e59a5"},
        list_url=lambda: reverse("admin:sync_event_changelist"), permission="sync.view_event",
        labels_are_times=True,
    )
