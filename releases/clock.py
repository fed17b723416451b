"""The instant prerequisites are evaluated at. One function, so tests can pin it to a weekday."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
