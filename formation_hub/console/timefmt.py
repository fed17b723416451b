"""Times are stored in UTC and shown in the organisation's zone, always with the zone's name."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings


def organisation_zone() -> ZoneInfo:
    return ZoneInfo(settings.ORGANISATION_TIME_ZONE)


def to_local(value: datetime) -> datetime:
    return value.astimezone(organisation_zone())


def format_local(value: datetime | None, pattern: str = "%a %d %b %Y %H:%M") -> str:
    """'Mon 30 Nov 2026 12:00 (Europe/Paris)'; '-' for no time."""
    if value is None:
        return "-"
    return f"{to_local(value).strftime(pattern)} ({settings.ORGANISATION_TIME_ZONE})"
