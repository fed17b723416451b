"""The response clock: from detection to acknowledgement.

SEV1 counts wall-clock minutes (15); SEV2 and SEV3 count business hours (4 and 24) on the
organisation's business calendar (formation_hub.business_hours).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from formation_hub.business_hours import business_calendar, format_duration
from formation_hub.console.timefmt import format_local
from incidents import conf
from incidents.models import Severity

AMBER_UNDER = timedelta(hours=1)
RED_UNDER = timedelta(minutes=30)


def uses_business_hours(severity: str) -> bool:
    return severity != Severity.SEV1


def response_target(severity: str) -> timedelta:
    return {
        Severity.SEV1: conf.sev1_response,
        Severity.SEV2: conf.sev2_response,
        Severity.SEV3: conf.sev3_response,
    }[Severity(severity)]()


def respond_by_for(*, severity: str, detected_at: datetime) -> datetime:
    target = response_target(severity)
    if uses_business_hours(severity):
        return business_calendar().add_business_time(detected_at, target)
    # In UTC: adding to a zoned datetime is wall-clock arithmetic, wrong across a DST change.
    return detected_at.astimezone(UTC) + target


def time_left(*, severity: str, respond_by: datetime, now: datetime) -> timedelta:
    """Business time left for SEV2/SEV3, wall-clock time for SEV1; negative once past."""
    if uses_business_hours(severity):
        return business_calendar().business_time_between(now, respond_by)
    return respond_by - now


@dataclass(frozen=True)
class ClockView:
    """What the console, the forms and the API show of an incident's response clock."""

    respond_by: datetime
    running: bool
    left: timedelta
    breached: bool
    level: str  # "ok", "amber", "red", "breached", "stopped"
    text: str


def clock_view(incident, now: datetime) -> ClockView:
    business = uses_business_hours(incident.severity)
    by = format_local(incident.respond_by, "%a %H:%M")
    if incident.acknowledged_at is not None:
        level = "breached" if incident.breached else "stopped"
        verdict = "late" if incident.breached else "in time"
        return ClockView(
            incident.respond_by, False, timedelta(0), incident.breached, level,
            f"acknowledged {format_local(incident.acknowledged_at, '%a %H:%M')} ({verdict})",
        )
    if not incident.is_open:
        return ClockView(incident.respond_by, False, timedelta(0), incident.breached, "stopped", "not acknowledged")
    left = time_left(severity=incident.severity, respond_by=incident.respond_by, now=now)
    kind = "of business time " if business else ""
    if left <= timedelta(0) or incident.breached:
        return ClockView(
            incident.respond_by, True, left, True, "breached",
            f"respond by {by}, breached {format_duration(now - incident.respond_by)} ago",
        )
    level = "red" if left < RED_UNDER else "amber" if left < AMBER_UNDER else "ok"
    return ClockView(
        incident.respond_by, True, left, False, level, f"respond by {by}, {format_duration(left)} {kind}left"
    )
