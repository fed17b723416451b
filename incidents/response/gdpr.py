"""GDPR art. 33: a personal-data breach is notified to the supervisory authority within 72 hours of
becoming aware of it. An incident flagged data loss gets an assessment with that deadline, shown on
the incident and reminded (24 h, 48 h, 6 h before and at the deadline) until it is concluded.
"""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.notifications import notify
from incidents.models import GDPR_NOTIFICATION_WINDOW, BreachAssessment, Incident, TimelineEntry
from incidents.response.timeline import timeline_add

REMINDER_OFFSETS = (timedelta(hours=24), timedelta(hours=48), timedelta(hours=66), GDPR_NOTIFICATION_WINDOW)


def _next_reminder(assessment: BreachAssessment, after: datetime) -> datetime | None:
    for offset in REMINDER_OFFSETS:
        when = assessment.aware_at + offset
        if when > after:
            return when
    return None


def breach_assessment_open(*, incident: Incident, aware_at: datetime) -> BreachAssessment:
    aware_at = aware_at.astimezone(UTC)  # 72 hours of real time, also across a DST change
    assessment, created = BreachAssessment.objects.get_or_create(
        incident=incident, defaults={"aware_at": aware_at, "deadline": aware_at + GDPR_NOTIFICATION_WINDOW}
    )
    if not created:
        return assessment
    assessment.next_reminder_at = _next_reminder(assessment, aware_at)
    assessment.save(update_fields=["next_reminder_at"])
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.CHANGE,
        text=f"Personal-data breach assessment opened: notify the authority by {format_local(assessment.deadline)} "
        "if people are at risk (GDPR art. 33).",
    )
    audit_record(action="incident.gdpr_assessment_opened", target=incident, changes={"deadline": assessment.deadline})
    notify(
        kind="incident.gdpr", subject=f"[GDPR] Data loss in incident #{incident.pk}: assess within 72 h",
        body=f"{incident.title}\nAssess the personal-data breach; notification deadline "
        f"{format_local(assessment.deadline)}.",
        dedupe_key=f"incident-{incident.pk}-gdpr-opened", target=incident,
    )
    return assessment


@transaction.atomic
def breach_assessment_decide(
    *, assessment: BreachAssessment, user, decision: str, data_categories: str = "", notes: str = "",
    notified_authority_at: datetime | None = None,
) -> BreachAssessment:
    assessment = BreachAssessment.objects.select_for_update().get(pk=assessment.pk)
    if decision not in BreachAssessment.Decision.values or decision == BreachAssessment.Decision.PENDING:
        raise DomainError("Choose a conclusion: no personal data, risk unlikely, or notify the authority.")
    if decision == BreachAssessment.Decision.NOTIFY and notified_authority_at is None:
        raise DomainError("Give the time the authority (CNIL) was notified, or keep the assessment open until then.")
    if notified_authority_at is not None and notified_authority_at > timezone.now():
        raise DomainError("The notification time is in the future.")
    previous = assessment.decision
    assessment.decision, assessment.data_categories, assessment.notes = decision, data_categories, notes
    assessment.notified_authority_at = notified_authority_at
    assessment.decided_by, assessment.decided_at = user, timezone.now()
    if assessment.is_concluded:
        assessment.next_reminder_at = None
    assessment.save()
    late = notified_authority_at is not None and notified_authority_at > assessment.deadline
    timeline_add(
        incident=assessment.incident, kind=TimelineEntry.Kind.CHANGE, user=user,
        text=f"GDPR assessment: {assessment.get_decision_display()}"
        + (" (after the 72 h deadline: give the reasons for the delay)" if late else ""),
    )
    audit_record(
        action="incident.gdpr_assessed", target=assessment.incident, actor=user,
        changes={"decision": [previous, decision], "notified_authority_at": notified_authority_at, "late": late},
    )
    return assessment


def breach_reminders_send_due(now: datetime | None = None) -> int:
    """Remind the ops admins of every open assessment whose reminder is due; each reminder once."""
    now = now or timezone.now()
    sent = 0
    due = BreachAssessment.objects.filter(next_reminder_at__lte=now).values_list("pk", "next_reminder_at")[:200]
    for pk, due_at in due:
        with transaction.atomic():
            assessment = BreachAssessment.objects.select_related("incident").get(pk=pk)
            following = None if assessment.is_concluded else _next_reminder(assessment, max(due_at, now))
            claimed = BreachAssessment.objects.filter(pk=pk, next_reminder_at=due_at).update(next_reminder_at=following)
            if not claimed or assessment.is_concluded:
                continue
            left = assessment.deadline - now
            state = "deadline passed" if left <= timedelta(0) else f"{int(left.total_seconds() // 3600)} h left"
            notify(
                kind="incident.gdpr", subject=f"[GDPR] Incident #{assessment.incident_id}: breach assessment, {state}",
                body=f"{assessment.incident.title}\nNotification deadline {format_local(assessment.deadline)}. "
                "Conclude the assessment on the incident page.",
                dedupe_key=f"incident-{assessment.incident_id}-gdpr-{due_at.isoformat()}", target=assessment.incident,
            )
            audit_record(action="incident.gdpr_reminded", target=assessment.incident, changes={"due": due_at})
            sent += 1
    return sent
