"""Landing-page panels of the console: open incidents with their clocks, and who is on call."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from formation_hub.dashboard import Panel
from incidents.selectors import breach_counts, on_call_summary, open_incidents

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


open_incidents_panel = Panel(
    name="incidents_open", title="Open incidents", template="admin/panels/incidents_open.html",
    context=_open_incidents_context, order=100,
)
on_call_panel = Panel(
    name="incidents_oncall", title="On call", template="admin/panels/incidents_oncall.html",
    context=_on_call_context, order=110,
)
