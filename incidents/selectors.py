"""Reads shared by the on-call pages, the console, its panels and the API, so they agree."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q

from formation_hub.console.timefmt import to_local
from incidents.models import (
    OPEN_STATUSES,
    ActionItem,
    Incident,
    Page,
    PostMortem,
    RecurrenceEscalation,
    Runbook,
    Severity,
)
from incidents.oncall.paging import ACTIVE_STATES
from incidents.oncall.rotation import OnCall, active_rotation, next_handoff, on_call_at
from incidents.response.clock import ClockView, clock_view


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
    """Pages that reached this person: as primary, or as backup once escalated to them (not before).
    Each carries `you_as` and `you_paged_at`, the time this person was paged."""
    pages = list(
        Page.objects.filter(
            Q(primary=user, state__in=ACTIVE_STATES) | Q(backup=user, state=Page.State.ESCALATED)
        ).select_related("incident")[:20]
    )
    for page in pages:
        as_backup = page.backup_id == user.pk and page.state == Page.State.ESCALATED and page.primary_id != user.pk
        page.you_as = "backup" if as_backup else "primary"
        page.you_paged_at = page.escalated_at if as_backup else page.paged_at
    return pages


def breach_counts(since: datetime) -> dict[str, int]:
    """Breaches per severity since a time (the console's counter)."""
    rows = (
        Incident.objects.filter(detected_at__gte=since, breached=True).values("severity").annotate(count=Count("id"))
    )
    counts = {severity.value: 0 for severity in Severity}
    counts.update({row["severity"]: row["count"] for row in rows})
    return counts


def local_today(now: datetime) -> date:
    return to_local(now).date()


def overdue_postmortems(now: datetime):
    """Post-mortems past their due time and not published, oldest due first."""
    return (
        PostMortem.objects.filter(due_at__lt=now)
        .exclude(state=PostMortem.State.PUBLISHED)
        .select_related("incident")
        .order_by("due_at", "id")
    )


def open_action_items():
    return ActionItem.objects.filter(status__in=ActionItem.OPEN_STATUSES).select_related("owner", "post_mortem")


def overdue_action_items(now: datetime):
    """Open action items whose due date (a local day) has passed, oldest first."""
    return open_action_items().filter(due_date__lt=local_today(now)).order_by("due_date", "id")


def action_items_of(user):
    return open_action_items().filter(owner=user).order_by("due_date", "id")


def _recap_line(item: ActionItem, today: date) -> str:
    late = " - OVERDUE" if item.due_date < today else ""
    return (
        f"{item.description} - owner {item.owner.get_username()}, due {item.due_date:%Y-%m-%d}{late} "
        f"(post-mortem: {item.post_mortem.title})"
    )


def open_action_items_recap(since: datetime, until: datetime) -> list[str]:
    """The handoff recap's 'Open action items' section: every open item, by due date."""
    today = local_today(until)
    return [_recap_line(item, today) for item in open_action_items().order_by("due_date", "id")[:100]]


def runbook_to_review(incident: Incident) -> Runbook | None:
    """After a SEV1/SEV2 is resolved, the runbook it used should be reviewed (until someone does)."""
    if incident.severity not in (Severity.SEV1, Severity.SEV2) or incident.resolved_at is None:
        return None
    runbook = incident.runbook
    if runbook is None or (runbook.last_reviewed_at and runbook.last_reviewed_at >= incident.resolved_at):
        return None
    return runbook


def open_escalations():
    """Recurring patterns waiting for an admin's decision, oldest first, with their incident counts."""
    return (
        RecurrenceEscalation.objects.filter(state=RecurrenceEscalation.State.OPEN)
        .annotate(incident_count=Count("incidents"))
        .order_by("raised_at", "id")
    )
