"""Incident lifecycle services: open, acknowledge, move through the lifecycle, change severity, note.

Public API used by other apps: `incident_open` and `oncall_page` (re-exported from incidents.oncall.paging).
Every change writes a timeline entry and an audit entry; illegal moves raise DomainError.
"""

from datetime import UTC, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.business_hours import business_calendar
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.notifications import notify_team
from incidents import conf
from incidents.models import OPEN_STATUSES, Incident, Runbook, Severity, Source, Status, TimelineEntry
from incidents.oncall.paging import oncall_page, page_send, pages_acknowledge_for_incident
from incidents.permissions import actor as _actor
from incidents.permissions import can_respond, require_responder
from incidents.postmortems.services import postmortem_close_check, postmortem_open_if_required
from incidents.response.clock import respond_by_for, uses_business_hours
from incidents.response.forge_issues import forge_issue_open_later
from incidents.response.gdpr import breach_assessment_open
from incidents.response.recurrence import recurrence_check
from incidents.response.timeline import timeline_add

# An incident filed with an older detection time is a typo, not an incident to respond to.
DETECTION_MAX_AGE = timedelta(days=5 * 365)

__all__ = [
    "incident_open", "oncall_page", "incident_acknowledge", "incident_transition", "incident_change_severity",
    "incident_add_note", "incident_set_flags", "incident_create", "can_respond", "require_responder",
    "allowed_transitions", "schedule_updates", "incident_set_runbook",
]

TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DETECTED: (Status.TRIAGED,),
    Status.TRIAGED: (Status.INVESTIGATING, Status.RESOLVED),
    Status.INVESTIGATING: (Status.MITIGATED, Status.RESOLVED),
    Status.MITIGATED: (Status.RESOLVED, Status.INVESTIGATING),
    Status.RESOLVED: (Status.CLOSED, Status.INVESTIGATING),
    Status.CLOSED: (),
}
STATUS_TIME_FIELD = {
    Status.TRIAGED: "triaged_at",
    Status.INVESTIGATING: "investigating_at",
    Status.MITIGATED: "mitigated_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
}
UPDATED_SEVERITIES = (Severity.SEV1, Severity.SEV2)

def allowed_transitions(incident: Incident) -> tuple[str, ...]:
    return TRANSITIONS[incident.status]


def next_update_due(severity: str, since: datetime) -> datetime:
    """30 minutes later: of wall-clock time for a SEV1, of business time for the others (their response clock
    counts business hours, so nobody is reminded at night for them)."""
    if uses_business_hours(severity):
        return business_calendar().add_business_time(since, conf.update_interval())
    return since + conf.update_interval()


def schedule_updates(incident: Incident, since: datetime) -> None:
    """An open SEV1/SEV2 gets a status update every 30 minutes: store when the next is due."""
    if incident.severity in UPDATED_SEVERITIES and incident.is_open:
        incident.next_update_due_at = next_update_due(incident.severity, since)
        incident.update_reminder_at = incident.next_update_due_at
    else:
        incident.next_update_due_at = incident.update_reminder_at = None


def incident_open(
    *,
    title: str,
    severity: str,
    source: str,
    service: str,
    category: str,
    description: str = "",
    reported_by=None,
    detected_at: datetime | None = None,
    user_facing: bool = False,
    data_loss: bool = False,
    related_object=None,
) -> Incident:
    """Open an incident: starts its response clock, pages on a SEV1, announces SEV1/SEV2 to the team."""
    return incident_create(
        title=title, severity=severity, source=source, service=service, category=category, description=description,
        reported_by=reported_by, detected_at=detected_at, user_facing=user_facing, data_loss=data_loss,
        related_object=related_object,
    )


@transaction.atomic
def incident_create(
    *,
    title: str,
    severity: str,
    source: str,
    service: str,
    category: str,
    description: str = "",
    reported_by=None,
    detected_at: datetime | None = None,
    user_facing: bool = False,
    data_loss: bool = False,
    related_object=None,
    monitor: str = "",
) -> Incident:
    now = timezone.now()
    detected_at = detected_at or now
    if severity not in Severity.values:
        raise DomainError(f"Unknown severity '{severity}': use SEV1, SEV2 or SEV3.")
    if source not in Source.values:
        raise DomainError(f"Unknown source '{source}': use one of {', '.join(Source.values)}.")
    if not (title or "").strip():
        raise DomainError("An incident needs a title saying what is wrong.")
    if not (service or "").strip() or not (category or "").strip():
        raise DomainError("An incident needs the affected service and a category.")
    if detected_at.tzinfo is None:
        raise DomainError("The detection time needs a time zone.")
    detected_at = detected_at.astimezone(UTC)
    if detected_at > now + timedelta(minutes=5):
        raise DomainError("The detection time is in the future: give the time the problem was noticed.")
    if detected_at < now - DETECTION_MAX_AGE:
        raise DomainError(
            f"The detection time is more than {DETECTION_MAX_AGE.days} days ago: record an incident that is still "
            "relevant, or check the date."
        )
    reported_by = _actor(reported_by)
    incident = Incident(
        title=title.strip()[:200], severity=severity, source=source, service=service.strip()[:100],
        category=category.strip()[:100], description=description, reported_by=reported_by,
        detected_at=detected_at, respond_by=respond_by_for(severity=severity, detected_at=detected_at),
        user_facing=user_facing, data_loss=data_loss, monitor=monitor,
    )
    if related_object is not None:
        incident.related_content_type = ContentType.objects.get_for_model(related_object, for_concrete_model=False)
        incident.related_object_id = str(related_object.pk)
    schedule_updates(incident, detected_at)
    incident.save()
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.OPENED, user=reported_by, time=detected_at,
        text=f"Detected ({incident.get_source_display()}), {severity}; respond by {format_local(incident.respond_by)}.",
    )
    audit_record(
        action="incident.opened", target=incident, actor=reported_by, actor_label=f"incidents:{source}",
        changes={
            "severity": severity, "source": source, "service": incident.service, "category": incident.category,
            "respond_by": incident.respond_by, "user_facing": user_facing, "data_loss": data_loss,
        },
    )
    if severity in UPDATED_SEVERITIES:
        notify_team(
            kind="incident.opened", subject=f"[{severity}] {conf.product_name()} - {incident.title}",
            body=f"{incident.get_severity_display()} on {incident.service}, detected "
            f"{format_local(detected_at)}. Status: investigating, ETA unknown. Channel: #ops",
            dedupe_key=f"incident-{incident.pk}-opened", target=incident,
        )
    if severity == Severity.SEV1:
        _page_for(incident)
    if severity == Severity.SEV3:
        forge_issue_open_later(incident)
    if data_loss:
        breach_assessment_open(incident=incident, aware_at=detected_at)
    recurrence_check(incident=incident)
    return incident


def _page_for(incident: Incident) -> None:
    page_send(
        subject=f"[SEV1] {incident.title}",
        body=f"Incident #{incident.pk} on {incident.service}: {incident.description or incident.title}\n"
        f"Respond by {format_local(incident.respond_by)}.",
        dedupe_key=f"incident-{incident.pk}-sev1",
        incident=incident,
    )


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _acknowledge(incident: Incident, user, now: datetime) -> None:
    incident.acknowledged_at, incident.acknowledged_by = now, _actor(user)
    if now > incident.respond_by and not incident.breached:
        incident.breached, incident.breached_at = True, incident.respond_by
    pages_acknowledge_for_incident(incident=incident, user=user, now=now)
    verdict = "late: response target breached" if incident.breached else "within the response target"
    timeline_add(incident=incident, kind=TimelineEntry.Kind.ACK, user=user, time=now, text=f"Acknowledged ({verdict}).")
    audit_record(
        action="incident.acknowledged", target=incident, actor=_actor(user),
        changes={"acknowledged_at": now, "respond_by": incident.respond_by, "breached": incident.breached},
    )


@transaction.atomic
def incident_acknowledge(*, incident: Incident, user) -> Incident:
    """Stop the response clock; a late acknowledgement is a breach. Acknowledges the incident's pages."""
    require_responder(user)
    incident = _lock(incident)
    if incident.acknowledged_at is not None:
        raise DomainError(
            f"Incident #{incident.pk} was already acknowledged by {incident.acknowledged_by or 'someone'} "
            f"at {format_local(incident.acknowledged_at)}."
        )
    if not incident.is_open:
        raise DomainError(f"Incident #{incident.pk} is {incident.status}: there is nothing left to acknowledge.")
    _acknowledge(incident, user, timezone.now())
    incident.save()
    return incident


@transaction.atomic
def incident_transition(*, incident: Incident, to_status: str, user, note: str = "") -> Incident:
    """Move the incident one step in its lifecycle; refuses moves the lifecycle does not allow."""
    require_responder(user)
    incident = _lock(incident)
    if to_status not in Status.values:
        raise DomainError(f"Unknown status '{to_status}': use one of {', '.join(Status.values)}.")
    allowed = TRANSITIONS[incident.status]
    if to_status not in allowed:
        if not allowed:
            raise DomainError(
                f"Incident #{incident.pk} is closed: it cannot go to {to_status}. Open a new incident instead."
            )
        raise DomainError(
            f"Incident #{incident.pk} cannot go from {incident.status} to {to_status}; "
            f"from {incident.status} it can go to {' or '.join(allowed)}."
        )
    reopening = to_status in OPEN_STATUSES and incident.status not in OPEN_STATUSES
    if reopening and incident.monitor:
        other = Incident.objects.filter(monitor=incident.monitor, status__in=OPEN_STATUSES).exclude(pk=incident.pk)
        if other.exists():
            raise DomainError(
                f"Monitor {incident.monitor} already has open incident #{other.first().pk}: work on that one instead."
            )
    if to_status == Status.CLOSED and (reason := postmortem_close_check(incident)):
        raise DomainError(f"Incident #{incident.pk} cannot be closed yet: {reason}")
    now = timezone.now()
    if incident.acknowledged_at is None and incident.is_open:
        _acknowledge(incident, user, now)
    previous = incident.status
    incident.status = to_status
    setattr(incident, STATUS_TIME_FIELD[to_status], now)
    if reopening:
        schedule_updates(incident, now)
    elif to_status not in OPEN_STATUSES:
        incident.next_update_due_at = incident.update_reminder_at = None
    incident.save()
    text = f"{previous} -> {to_status}" + (f": {note}" if note else "")
    timeline_add(incident=incident, kind=TimelineEntry.Kind.TRANSITION, user=user, time=now, text=text)
    audit_record(
        action="incident.transitioned", target=incident, actor=_actor(user),
        changes={"status": [previous, to_status]}, message=note,
    )
    if to_status == Status.RESOLVED:
        postmortem_open_if_required(incident=incident, user=_actor(user))
    return incident


@transaction.atomic
def incident_change_severity(*, incident: Incident, severity: str, user, reason: str = "") -> Incident:
    """Change the severity; an unacknowledged clock restarts from detection with the new target."""
    require_responder(user)
    incident = _lock(incident)
    if severity not in Severity.values:
        raise DomainError(f"Unknown severity '{severity}': use SEV1, SEV2 or SEV3.")
    if incident.status == Status.CLOSED:
        raise DomainError(f"Incident #{incident.pk} is closed: its severity can no longer change.")
    if severity == incident.severity:
        raise DomainError(f"Incident #{incident.pk} is already {severity}.")
    previous = incident.severity
    incident.severity = severity
    if incident.acknowledged_at is None:
        incident.respond_by = respond_by_for(severity=severity, detected_at=incident.detected_at)
    if incident.is_open:
        if severity in UPDATED_SEVERITIES and incident.next_update_due_at is None:
            schedule_updates(incident, timezone.now())
        elif severity not in UPDATED_SEVERITIES:
            incident.next_update_due_at = incident.update_reminder_at = None
    incident.save()
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.SEVERITY, user=user,
        text=f"Severity {previous} -> {severity}" + (f": {reason}" if reason else "")
        + (f"; respond by {format_local(incident.respond_by)}" if incident.acknowledged_at is None else ""),
    )
    audit_record(
        action="incident.severity_changed", target=incident, actor=_actor(user),
        changes={"severity": [previous, severity], "respond_by": incident.respond_by}, message=reason,
    )
    if severity == Severity.SEV1 and incident.acknowledged_at is None and incident.is_open:
        _page_for(incident)
    if severity == Severity.SEV3 and incident.is_open:
        forge_issue_open_later(incident)
    postmortem_open_if_required(incident=incident, user=_actor(user))
    return incident


@transaction.atomic
def incident_set_runbook(*, incident: Incident, user, runbook: Runbook | None) -> Incident:
    """Record the runbook used to respond (or none); after a SEV1/SEV2 the console suggests reviewing it."""
    require_responder(user)
    incident = _lock(incident)
    if runbook == incident.runbook:
        return incident
    previous = incident.runbook
    incident.runbook = runbook
    incident.save(update_fields=["runbook", "updated_at"])
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.CHANGE, user=user,
        text=f"Runbook used: {runbook.title}" if runbook else f"Runbook unlinked (was {previous})",
    )
    audit_record(
        action="incident.runbook_set", target=incident, actor=_actor(user),
        changes={"runbook": [str(previous or ""), str(runbook or "")]},
    )
    return incident


@transaction.atomic
def incident_add_note(*, incident: Incident, user, text: str) -> TimelineEntry:
    require_responder(user)
    text = (text or "").strip()
    if not text:
        raise DomainError("A timeline note cannot be empty.")
    entry = timeline_add(incident=incident, kind=TimelineEntry.Kind.NOTE, user=user, text=text)
    audit_record(action="incident.note_added", target=incident, actor=_actor(user), changes={"entry": entry.pk})
    return entry


@transaction.atomic
def incident_set_flags(
    *, incident: Incident, user, user_facing: bool | None = None, data_loss: bool | None = None,
    commander=None, clear_commander: bool = False,
) -> Incident:
    """Set the commander and the user-facing / data-loss flags; data loss opens the GDPR assessment."""
    require_responder(user)
    incident = _lock(incident)
    changes = {}
    if user_facing is not None and user_facing != incident.user_facing:
        changes["user_facing"] = [incident.user_facing, user_facing]
        incident.user_facing = user_facing
    if data_loss is not None and data_loss != incident.data_loss:
        if not data_loss and hasattr(incident, "breach_assessment"):
            raise DomainError("Data loss stays flagged once assessed: record the conclusion in the GDPR assessment.")
        changes["data_loss"] = [incident.data_loss, data_loss]
        incident.data_loss = data_loss
    if commander is not None and commander != incident.commander:
        if not can_respond(commander):
            raise DomainError(f"{commander} is not in the on-call or admin group and cannot command an incident.")
        changes["commander"] = [str(incident.commander or ""), str(commander)]
        incident.commander = commander
    elif clear_commander and incident.commander is not None:
        changes["commander"] = [str(incident.commander), ""]
        incident.commander = None
    if not changes:
        return incident
    incident.save()
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.CHANGE, user=user,
        text="; ".join(f"{name.replace('_', ' ')}: {old} -> {new}" for name, (old, new) in changes.items()),
    )
    audit_record(action="incident.changed", target=incident, actor=_actor(user), changes=changes)
    if incident.data_loss and "data_loss" in changes:
        breach_assessment_open(incident=incident, aware_at=timezone.now())
    return incident
