"""Status updates from the playbook's templates (incident.md, "Comm template"), and their reminders.

The draft is pre-filled with the incident's current status and impact; the person edits and posts.
An update goes to the team channel, and by email when the incident is user-facing or lost data.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local, to_local
from formation_hub.errors import DomainError
from formation_hub.notifications import notify, notify_team
from incidents import conf
from incidents.models import Incident, PostMortem, StatusUpdate, TimelineEntry
from incidents.oncall.rotation import on_call_at
from incidents.postmortems.services import postmortem_slug
from incidents.response.clock import uses_business_hours
from incidents.response.timeline import timeline_add
from incidents.services import UPDATED_SEVERITIES, next_update_due, require_responder, schedule_updates

IN_PROGRESS_TEMPLATE = """Symptom: {symptom}
Started: {started}
Investigating: {investigating}
ETA: {eta}
Channel: #ops"""

RESOLVED_TEMPLATE = """Duration down: {duration}
Root cause: {root_cause}
Impact: {impact}
Post-mortem: {post_mortem} (published within 7 days)"""


def _duration(start: datetime, end: datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _impact(incident: Incident) -> str:
    users = "users affected" if incident.user_facing else "no user-facing impact"
    return f"{users}, data loss {'yes' if incident.data_loss else 'no'}"


def post_mortem_path(incident: Incident) -> str:
    """Where the exported post-mortem goes: the same name as `incidents.postmortems.export.postmortem_filename`."""
    day = to_local(incident.resolved_at or timezone.now())
    slug = PostMortem.objects.filter(incident=incident).values_list("slug", flat=True).first()
    return f"docs/post-mortems/{day:%Y-%m-%d}-{slug or postmortem_slug(incident)}.md"


def status_update_draft(*, incident: Incident, kind: str) -> tuple[str, str]:
    """(subject, body) pre-filled from the template with the incident's current status and impact."""
    product = conf.product_name()
    if kind == StatusUpdate.Kind.RESOLVED:
        subject = f"[{incident.severity} RESOLVED] {product} - back online"
        body = RESOLVED_TEMPLATE.format(
            duration=_duration(incident.detected_at, incident.resolved_at or timezone.now()),
            root_cause="<one line>", impact=_impact(incident), post_mortem=post_mortem_path(incident),
        )
        return subject, body
    subject = f"[{incident.severity}] {product} - {incident.title}"
    body = IN_PROGRESS_TEMPLATE.format(
        symptom=incident.description.strip().splitlines()[0] if incident.description.strip() else incident.title,
        started=format_local(incident.detected_at),
        investigating=f"status {incident.get_status_display()}; {_impact(incident)}",
        eta="investigating",
    )
    return subject, body


@transaction.atomic
def status_update_post(*, incident: Incident, user, kind: str, subject: str, body: str) -> StatusUpdate:
    require_responder(user)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if kind not in StatusUpdate.Kind.values:
        raise DomainError("Choose the kind of update: in progress or resolved.")
    if not subject.strip() or not body.strip():
        raise DomainError("A status update needs a subject and a body.")
    if kind == StatusUpdate.Kind.RESOLVED and incident.is_open:
        raise DomainError(f"Incident #{incident.pk} is still {incident.status}: mark it resolved first.")
    now = timezone.now()
    emailed = incident.user_facing or incident.data_loss
    update = StatusUpdate.objects.create(
        incident=incident, kind=kind, subject=subject.strip()[:250], body=body.strip(), posted_by=user,
        posted_at=now, emailed=emailed,
    )
    notify_team(
        kind="incident.status_update", subject=update.subject, body=update.body,
        dedupe_key=f"status-update-{update.pk}-team", target=incident,
    )
    if emailed:
        notify(
            kind="incident.status_update", subject=update.subject, body=update.body,
            recipients=conf.status_email_recipients() or None, dedupe_key=f"status-update-{update.pk}-email",
            target=incident,
        )
    incident.last_update_at = now
    schedule_updates(incident, now)
    incident.save(update_fields=["last_update_at", "next_update_due_at", "update_reminder_at", "updated_at"])
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.STATUS_UPDATE, user=user, time=now,
        text=f"Status update posted ({update.get_kind_display()}{', also by email' if emailed else ''}): "
        f"{update.subject}",
    )
    audit_record(
        action="incident.status_update_posted", target=incident, actor=user,
        changes={"update": update.pk, "kind": kind, "emailed": emailed},
    )
    return update


def update_reminders_send_due(now: datetime | None = None) -> int:
    """Remind the commander (or the primary on call) of every open SEV1/SEV2 whose update is due; once per due time.

    A SEV1 is reminded every 30 minutes around the clock; a SEV2 every 30 minutes of business time.
    """
    now = now or timezone.now()
    interval = conf.update_interval()
    sent = 0
    due = Incident.objects.filter(update_reminder_at__lte=now).values_list("pk", "update_reminder_at", "severity")[:200]
    for pk, due_at, severity in due:
        with transaction.atomic():
            if uses_business_hours(severity):
                following = next_update_due(severity, now)
            else:
                following = due_at + interval
                while following <= now:
                    following += interval
            claimed = Incident.objects.filter(pk=pk, update_reminder_at=due_at).update(update_reminder_at=following)
            if not claimed:
                continue
            incident = Incident.objects.select_related("commander").get(pk=pk)
            if not incident.is_open or incident.severity not in UPDATED_SEVERITIES:
                Incident.objects.filter(pk=pk).update(update_reminder_at=None)
                continue
            person = incident.commander or on_call_at(now).primary
            notify(
                kind="incident.update_reminder",
                subject=f"[{incident.severity}] Status update due for incident #{incident.pk}",
                body=f"{incident.title}\nThe last update was "
                f"{format_local(incident.last_update_at) if incident.last_update_at else 'never'}; "
                f"one is due every {int(interval.total_seconds() // 60)} minutes"
                f"{' of business time' if uses_business_hours(severity) else ''} while the incident is open.",
                recipients=[person.email] if person is not None and person.email else None,
                dedupe_key=f"incident-{pk}-update-due-{due_at.isoformat()}", target=incident,
            )
            audit_record(action="incident.update_reminded", target=incident, changes={"due": due_at})
            sent += 1
    return sent
