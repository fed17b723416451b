"""Landing-page panels of the console: open incidents with their clocks, who is on call, what is overdue."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from formation_hub.console.dashboard import Panel
from formation_hub.console.panels import countdown
from formation_hub.console.timefmt import format_local
from incidents.models import OPEN_STATUSES, Incident
from incidents.response.clock import clock_view, uses_business_hours
from incidents.selectors import (
    IncidentRow,
    breach_counts,
    local_today,
    on_call_summary,
    open_escalations,
    open_incidents,
    overdue_action_items,
    overdue_postmortems,
)

PANEL_ROWS = 10
# Clocks looked at for the attention count: far more than ever run at once, and still one bounded query.
CLOCKS_WATCHED = 200


def _panel_row(row: IncidentRow, now) -> dict:
    """An open incident with its clocks; the wall-clock ones (SEV1 response, next update) count down in
    the browser, the business-hour ones keep the server's text (docs/console.md)."""
    incident = row.incident
    response = None
    if row.clock.running and not uses_business_hours(incident.severity):
        response = countdown(incident.respond_by, now=now,
                             prefix=f"respond by {format_local(incident.respond_by, '%a %H:%M')}, ")
    update = None
    if row.update_due_in is not None:
        update = countdown(incident.next_update_due_at, now=now,
                           prefix=f"next update by {format_local(incident.next_update_due_at, '%H:%M')}, ")
    return {"incident": incident, "clock": row.clock, "response": response, "update": update}


def _open_incidents_attention(now) -> int:
    """Running response clocks that are red or breached, plus open incidents whose update is overdue."""
    running = Incident.objects.filter(status__in=OPEN_STATUSES, acknowledged_at__isnull=True).order_by(
        "respond_by")[:CLOCKS_WATCHED]
    urgent = sum(1 for incident in running if clock_view(incident, now).level in ("red", "breached"))
    late_updates = Incident.objects.filter(status__in=OPEN_STATUSES, next_update_due_at__lt=now).count()
    return urgent + late_updates


def _open_incidents_context(request):
    now = timezone.now()
    return {
        "rows": [_panel_row(row, now) for row in open_incidents(now, limit=PANEL_ROWS)],
        "open_count": Incident.objects.filter(status__in=OPEN_STATUSES).count(),
        "attention": _open_incidents_attention(now),
        "breaches": breach_counts(now - timedelta(days=30)),
        "list_url": reverse("admin:incidents_incident_changelist") + "?open=yes",
        "new_url": reverse("incidents:new"),
    }


def _on_call_context(request):
    summary = on_call_summary(timezone.now())
    return {
        "summary": summary,
        "attention": len(summary.now.problems),
        "list_url": reverse("incidents:home"),
        "rotation_url": reverse("admin:incidents_rotation_changelist"),
        "oncall_url": reverse("incidents:home"),
    }


def _overdue_context(request):
    """Two queries for the lists, two for the counts, whatever is overdue."""
    now = timezone.now()
    post_mortems = overdue_postmortems(now)
    action_items = overdue_action_items(now)
    post_mortem_count, action_item_count = post_mortems.count(), action_items.count()
    post_mortems_url = reverse("admin:incidents_postmortem_changelist") + "?overdue=yes"
    action_items_url = reverse("admin:incidents_actionitem_changelist") + "?overdue=yes"
    return {
        "post_mortems": list(post_mortems[:PANEL_ROWS]),
        "post_mortem_count": post_mortem_count,
        "action_items": list(action_items[:PANEL_ROWS]),
        "action_item_count": action_item_count,
        "attention": post_mortem_count + action_item_count,
        # The title opens the overdue post-mortems, or the overdue action items when only those are late.
        "list_url": action_items_url if action_item_count and not post_mortem_count else post_mortems_url,
        "today": local_today(now),
        "post_mortems_url": post_mortems_url,
        "action_items_url": action_items_url,
        "metrics_url": reverse("admin:incidents_incident_metrics"),
    }


def _escalations_context(request):
    """Shown only while a strategic escalation waits for an admin's decision."""
    waiting = list(open_escalations()[:PANEL_ROWS])
    if not waiting:
        return None
    list_url = reverse("admin:incidents_recurrenceescalation_changelist") + "?state__exact=open"
    return {"escalations": waiting, "list_url": list_url}


open_incidents_panel = Panel(
    name="incidents_open", title="Open incidents", template="admin/panels/incidents_open.html",
    context=_open_incidents_context, order=100,
)
on_call_panel = Panel(
    name="incidents_oncall", title="On call", template="admin/panels/incidents_oncall.html",
    context=_on_call_context, order=110,
)
overdue_panel = Panel(
    name="incidents_overdue", title="Overdue post-mortems and action items",
    template="admin/panels/incidents_overdue.html", context=_overdue_context, order=120,
)
escalations_panel = Panel(
    name="incidents_escalations", title="Strategic escalations to acknowledge",
    template="admin/panels/incidents_escalations.html", context=_escalations_context, order=30,
)
