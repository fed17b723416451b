"""Dates in the console read like every other time it shows: 'Sun 06 Dec 2026 20:16 (Europe/Paris)'
(formation_hub.console.timefmt.format_local), not Django's 'Dec. 6, 2026, 8:16 p.m.' without a zone."""

from django.conf import settings


def _literal(text: str) -> str:
    return "".join(f"\\{char}" for char in text)


DATETIME_FORMAT = r"D d M Y H:i " + _literal(f"({settings.ORGANISATION_TIME_ZONE})")
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "D d M Y"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
