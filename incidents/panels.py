"""Landing-page panels of the console: open incidents with their clocks, who is on call, what is overdue."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from formation_hub.dashboard import Panel
from incidents.selectors import (
    breach_counts,
    local_today,
    on_call_summary,
    open_escalations,
    open_incidents,
    overdue_action_items,
    overdue_postmortems,
)

PANEL_ROWS = 10


def _open_incidents_context(request):
    now = timezone.now()
    return {
        "rows": open_incidents(now, limit=PANEL_ROWS),
        "breaches": breach_counts(now - timedelta(days=30)),
        "list_url": reverse("admin:incidents_incident_changelist") + "?open=yes",
        "new_url": reverse("incidents:new"),
    }


def _on_call_context(request):
    return {
        "summary": on_call_summary(timezone.now()),
        "rotation_url": reverse("admin:incidents_rotation_changelist"),
        "oncall_url": reverse("incidents:home"),
    }


def _overdue_context(request):
    """Two queries for the lists, two for the counts, whatever is overdue."""
    now = timezone.now()
    post_mortems = overdue_postmortems(now)
    action_items = overdue_action_items(now)
    return {
        "post_mortems": list(post_mortems[:PANEL_ROWS]),
        "post_mortem_count": post_mortems.count(),
        "action_items": list(action_items[:PANEL_ROWS]),
        "action_item_count": action_items.count(),
        "today": local_today(now),
        "post_mortems_url": reverse("admin:incidents_postmortem_changelist") + "?overdue=yes",
        "action_items_url": reverse("admin:incidents_actionitem_changelist") + "?overdue=yes",
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
