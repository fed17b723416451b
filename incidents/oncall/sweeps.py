"""The one-minute sweep: everything whose due time (stored on its row) has come.

Each step claims its rows with a conditional update before acting, so two overlapping sweeps, a
restart or a late run neither lose nor repeat a page, a reminder or a breach.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.notifications import notify_team
from incidents.models import OPEN_STATUSES, Incident, TimelineEntry
from incidents.oncall.paging import pages_escalate_due
from incidents.oncall.recap import recaps_schedule, recaps_send_due
from incidents.postmortems.action_items import action_items_remind_overdue
from incidents.postmortems.services import postmortems_remind_overdue
from incidents.response.gdpr import breach_reminders_send_due
from incidents.response.timeline import timeline_add
from incidents.status.updates import update_reminders_send_due

logger = logging.getLogger(__name__)


def incidents_mark_breaches(now: datetime | None = None) -> int:
    """Flag (once) every open incident not acknowledged by its respond-by time, and tell the team."""
    now = now or timezone.now()
    marked = 0
    due = Incident.objects.filter(
        status__in=OPEN_STATUSES, acknowledged_at__isnull=True, breached=False, respond_by__lte=now
    ).values_list("pk", flat=True)[:200]
    for pk in due:
        with transaction.atomic():
            claimed = Incident.objects.filter(pk=pk, breached=False, acknowledged_at__isnull=True).update(
                breached=True, breached_at=now
            )
            if not claimed:
                continue
            incident = Incident.objects.get(pk=pk)
            timeline_add(
                incident=incident, kind=TimelineEntry.Kind.BREACH, time=now,
                text=f"Response target breached: not acknowledged by {format_local(incident.respond_by)}.",
            )
            audit_record(action="incident.breached", target=incident, changes={"respond_by": incident.respond_by})
            notify_team(
                kind="incident.breach", subject=f"[{incident.severity}] Response target breached: #{incident.pk}",
                body=f"{incident.title} was not acknowledged by {format_local(incident.respond_by)}.",
                dedupe_key=f"incident-{pk}-breach", target=incident,
            )
            marked += 1
    return marked


STEPS = (
    ("breaches", incidents_mark_breaches),
    ("page escalations", pages_escalate_due),
    ("update reminders", update_reminders_send_due),
    ("GDPR reminders", breach_reminders_send_due),
    ("recap schedule", recaps_schedule),
    ("recaps", recaps_send_due),
    ("overdue post-mortems", postmortems_remind_overdue),
    ("overdue action items", action_items_remind_overdue),
)


def incidents_sweep(now: datetime | None = None) -> dict[str, int]:
    """Run every step; one failing step is logged and does not stop the others."""
    now = now or timezone.now()
    done = {}
    for name, step in STEPS:
        try:
            done[name] = step(now)
        except Exception:  # noqa: BLE001 - logged; the next minute's sweep retries the step
            logger.exception("incidents sweep: %s failed", name)
            done[name] = -1
    return done
