"""Reads shared by the on-call pages, the console, its panels and the API, so they agree."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from incidents.clock import ClockView, clock_view
from incidents.models import OPEN_STATUSES, Incident, Page, Severity
from incidents.oncall import OnCall, active_rotation, next_handoff, on_call_at
from incidents.paging import ACTIVE_STATES


@dataclass(frozen=True)
class IncidentRow:
    incident: Incident
    clock: ClockView
    update_due_in: timedelta | None


def incident_row(incident: Incident, now: datetime) -> IncidentRow:
    due = incident.next_update_due_at - now if incident.next_update_due_at and incident.is_open else None
    return IncidentRow(incident, clock_view(incident, now), due)


def open_incidents(now: datetime, limit: int = 50) -> list[IncidentRow]:
    incidents = (
        Incident.objects.filter(status__in=OPEN_STATUSES)
        .select_related("commander", "acknowledged_by")
        .order_by("severity", "respond_by")[:limit]
    )
    return [incident_row(incident, now) for incident in incidents]


@dataclass(frozen=True)
class OnCallSummary:
    now: OnCall
    next_handoff_at: datetime | None
    after_handoff: OnCall | None


def on_call_summary(now: datetime) -> OnCallSummary:
    rotation = active_rotation()
    current = on_call_at(now, rotation)
    handoff = next_handoff(now, rotation) if rotation else None
    return OnCallSummary(current, handoff, on_call_at(handoff, rotation) if handoff else None)


def active_pages_for(user) -> list[Page]:
    return list(
        Page.objects.filter(Q(primary=user) | Q(backup=user), state__in=ACTIVE_STATES).select_related("incident")[:20]
    )


def breach_counts(since: datetime) -> dict[str, int]:
    """Breaches per severity since a time (the console's counter)."""
    rows = (
        Incident.objects.filter(detected_at__gte=since, breached=True).values("severity").annotate(count=Count("id"))
    )
    counts = {severity.value: 0 for severity in Severity}
    counts.update({row["severity"]: row["count"] for row in rows})
    return counts
