"""Recurrence: three similar incidents within 30 days raise a strategic escalation (playbook incident.md, Notes).

"Similar" means the same service and category (case-insensitive). The window is inclusive: an
incident detected exactly 30 days after the first still counts, one detected 31 days after does not.
Incidents already covered by an acknowledged escalation do not count again, so after an admin's
decision a new escalation needs three new incidents. While an escalation is open, later incidents
of the pattern join it instead of raising (and notifying) another one.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from formation_hub.access.permissions import may
from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.notifications import notify
from incidents import conf
from incidents.models import Incident, RecurrenceEscalation, Severity, TimelineEntry
from incidents.permissions import ACKNOWLEDGE_ESCALATION, actor
from incidents.postmortems.services import postmortem_open_if_required
from incidents.response.timeline import timeline_add


def pattern_incidents(incident: Incident) -> list[Incident]:
    """The incidents of the same service and category in the window ending at this one's detection."""
    since = incident.detected_at - conf.recurrence_window()
    return list(
        Incident.objects.filter(
            service__iexact=incident.service, category__iexact=incident.category,
            detected_at__gte=since, detected_at__lte=incident.detected_at,
        )
        .exclude(recurrence_escalations__state=RecurrenceEscalation.State.ACKNOWLEDGED)
        .order_by("detected_at", "id")
    )


def _open_escalation(service: str, category: str) -> tuple[RecurrenceEscalation, bool]:
    existing = RecurrenceEscalation.objects.filter(
        service=service, category=category, state=RecurrenceEscalation.State.OPEN
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return RecurrenceEscalation.objects.create(
                service=service, category=category, raised_at=timezone.now()
            ), True
    except IntegrityError:  # a concurrent incident of the same pattern raised it first
        return RecurrenceEscalation.objects.get(
            service=service, category=category, state=RecurrenceEscalation.State.OPEN
        ), False


@transaction.atomic
def recurrence_check(*, incident: Incident) -> RecurrenceEscalation | None:
    """Called for each new incident: raise (once) or extend the escalation of its pattern."""
    incidents = pattern_incidents(incident)
    if len(incidents) < conf.recurrence_threshold():
        return None
    service, category = incident.service.lower(), incident.category.lower()
    escalation, raised = _open_escalation(service, category)
    escalation.incidents.add(*incidents)
    window_days = conf.recurrence_window().days
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.CHANGE,
        text=f"Recurring pattern: {len(incidents)} {service} / {category} incidents within {window_days} days "
        f"(strategic escalation #{escalation.pk}{' raised' if raised else ''}).",
    )
    if raised:
        audit_record(
            action="recurrence.escalated", target=escalation,
            changes={"service": service, "category": category, "incidents": [item.pk for item in incidents]},
        )
        listing = "\n".join(
            f"- #{item.pk} [{item.severity}] {item.title} ({format_local(item.detected_at)})" for item in incidents
        )
        notify(
            kind="recurrence.escalation",
            subject=f"Strategic escalation: {len(incidents)} {service} / {category} incidents in {window_days} days",
            body=f"{listing}\n\nDecide what to do (refactor, resources, runbooks and monitoring, or accept the risk) "
            f"and acknowledge it: {conf.base_url()}/admin/incidents/recurrenceescalation/{escalation.pk}/change/",
            dedupe_key=f"recurrence-escalation-{escalation.pk}", target=escalation,
        )
    else:
        audit_record(action="recurrence.extended", target=escalation, changes={"incident": incident.pk})
    for item in incidents:
        if item.severity == Severity.SEV3:
            postmortem_open_if_required(incident=item)
    return escalation


@transaction.atomic
def escalation_acknowledge(
    *, escalation: RecurrenceEscalation, user, decision: str, notes: str
) -> RecurrenceEscalation:
    """An admin acknowledges the escalation with a decision and its reasons."""
    if not may(user, ACKNOWLEDGE_ESCALATION):
        raise DomainError("Only an admin acknowledges a strategic escalation.")
    escalation = RecurrenceEscalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.state != RecurrenceEscalation.State.OPEN:
        raise DomainError(
            f"This escalation was already acknowledged by {escalation.acknowledged_by or 'someone'} "
            f"on {format_local(escalation.acknowledged_at)}."
        )
    if decision not in RecurrenceEscalation.Decision.values:
        raise DomainError("Choose a decision: refactor, resources, runbook or accept.")
    notes = (notes or "").strip()
    if not notes:
        raise DomainError("Write what was decided and why (who does what, by when).")
    escalation.state = RecurrenceEscalation.State.ACKNOWLEDGED
    escalation.decision, escalation.decision_notes = decision, notes
    escalation.acknowledged_by, escalation.acknowledged_at = user, timezone.now()
    escalation.save()
    audit_record(
        action="recurrence.acknowledged", target=escalation, actor=actor(user),
        changes={"decision": decision}, message=notes,
    )
    return escalation
