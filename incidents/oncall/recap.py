"""The handoff recap: what the incoming primary should know about the past week.

Three sections, in this order: the incidents of the past week, those still open, and the open action
items of the post-mortems.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.notifications import notify
from incidents.models import OPEN_STATUSES, HandoffRecap, Incident, Rotation
from incidents.oncall.rotation import Schedule, on_call_at
from incidents.selectors import open_action_items_recap

RECAP_PERIOD = timedelta(days=7)


def _incident_line(incident: Incident) -> str:
    return (
        f"#{incident.pk} [{incident.severity}] {incident.title} - {incident.status}, detected "
        f"{format_local(incident.detected_at)}{' - BREACHED' if incident.breached else ''}"
    )


def _past_week(since: datetime, until: datetime) -> list[str]:
    incidents = Incident.objects.filter(detected_at__gte=since, detected_at__lt=until).order_by("detected_at")
    return [_incident_line(incident) for incident in incidents]


def _still_open(since: datetime, until: datetime) -> list[str]:
    return [_incident_line(incident) for incident in Incident.objects.filter(status__in=OPEN_STATUSES)]


def recap_body(*, since: datetime, until: datetime) -> str:
    parts = [f"On-call recap from {format_local(since)} to {format_local(until)}."]
    sections = (
        ("Incidents of the past week", _past_week(since, until)),
        ("Incidents still open", _still_open(since, until)),
        ("Open action items", open_action_items_recap(since, until)),
    )
    for title, lines in sections:
        parts.append(f"\n{title} ({len(lines)}):")
        parts.extend(f"- {line}" for line in lines) if lines else parts.append("- none")
    return "\n".join(parts)


def recaps_schedule(now: datetime | None = None) -> int:
    """Store the next handoff of each active rotation as a recap row (its due time)."""
    now = now or timezone.now()
    created = 0
    for rotation in Rotation.objects.filter(active=True):
        handoff_at = Schedule(rotation=rotation).next_handoff(now)
        _, was_created = HandoffRecap.objects.get_or_create(rotation=rotation, handoff_at=handoff_at)
        created += was_created
    return created


def recaps_send_due(now: datetime | None = None) -> int:
    """Send every due recap to the incoming primary; the row's sent_at claims it, so it is sent once."""
    now = now or timezone.now()
    sent = 0
    due = HandoffRecap.objects.filter(sent_at__isnull=True, handoff_at__lte=now).values_list("pk", flat=True)[:50]
    for pk in due:
        with transaction.atomic():
            if not HandoffRecap.objects.filter(pk=pk, sent_at__isnull=True).update(sent_at=now):
                continue
            recap = HandoffRecap.objects.select_related("rotation").get(pk=pk)
            incoming = on_call_at(recap.handoff_at, recap.rotation).primary
            recap.incoming = incoming
            recap.body = recap_body(since=recap.handoff_at - RECAP_PERIOD, until=recap.handoff_at)
            recap.save(update_fields=["incoming", "body"])
            notify(
                kind="oncall.recap",
                subject=f"On-call handoff recap: you are primary from {format_local(recap.handoff_at)}",
                body=recap.body, recipients=[incoming.email] if incoming is not None and incoming.email else None,
                dedupe_key=f"oncall-recap-{recap.rotation_id}-{recap.handoff_at.isoformat()}", target=recap,
            )
            audit_record(action="oncall.recap_sent", target=recap, changes={"incoming": str(incoming or "")})
            sent += 1
    return sent
