"""The response clock: respond-by per severity (vectors) and what the console shows of it."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents.response.clock import clock_view, respond_by_for, time_left
from incidents.response.gdpr import breach_assessment_open
from tests.incidents.factories import IncidentFactory

PARIS = ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


# (what it checks, severity, detected at, respond by)
CLOCK_VECTORS = [
    ("SEV1 on a Sunday at 03:00: 15 min of wall clock", "SEV1", paris(2026, 11, 29, 3), paris(2026, 11, 29, 3, 15)),
    ("SEV1 on Christmas Day", "SEV1", paris(2026, 12, 25, 14, 50), paris(2026, 12, 25, 15, 5)),
    ("SEV1 across the March DST jump", "SEV1", paris(2026, 3, 29, 1, 55), paris(2026, 3, 29, 3, 10)),
    ("SEV1 in the repeated October hour", "SEV1", datetime(2026, 10, 25, 0, 50, tzinfo=UTC),
     datetime(2026, 10, 25, 1, 5, tzinfo=UTC)),
    ("SEV1 in business hours", "SEV1", paris(2026, 11, 24, 10), paris(2026, 11, 24, 10, 15)),
    ("SEV2 Friday 17:00 is due Monday 12:00", "SEV2", paris(2026, 11, 27, 17), paris(2026, 11, 30, 12)),
    ("SEV2 detected at 03:00", "SEV2", paris(2026, 11, 24, 3), paris(2026, 11, 24, 13)),
    ("SEV2 before Christmas", "SEV2", paris(2026, 12, 24, 16), paris(2026, 12, 28, 11)),
    ("SEV2 before 1 May", "SEV2", paris(2026, 4, 30, 17), paris(2026, 5, 4, 12)),
    ("SEV2 across the March DST weekend", "SEV2", paris(2026, 3, 27, 16), paris(2026, 3, 30, 11)),
    ("SEV2 across the October DST weekend", "SEV2", paris(2026, 10, 23, 17), paris(2026, 10, 26, 12)),
    ("SEV3 Monday 09:00: 24 business hours", "SEV3", paris(2026, 11, 23, 9), paris(2026, 11, 25, 15)),
    ("SEV3 Saturday night", "SEV3", paris(2026, 11, 28, 23), paris(2026, 12, 2, 15)),
    ("SEV3 over Christmas", "SEV3", paris(2026, 12, 23, 12), paris(2026, 12, 28, 18)),
]


@pytest.mark.parametrize(("label", "severity", "detected", "expected"), CLOCK_VECTORS,
                         ids=[v[0] for v in CLOCK_VECTORS])
def test_respond_by_vectors(label, severity, detected, expected):
    assert respond_by_for(severity=severity, detected_at=detected) == expected


def test_sev1_target_is_configurable(monkeypatch):
    monkeypatch.setenv("INCIDENT_SEV1_RESPONSE_MINUTES", "10")
    assert respond_by_for(severity="SEV1", detected_at=paris(2026, 1, 1)) == paris(2026, 1, 1, 0, 10)


def test_business_time_left_ignores_nights():
    left = time_left(severity="SEV2", respond_by=paris(2026, 11, 30, 12), now=paris(2026, 11, 27, 20))
    assert left == timedelta(hours=3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("minutes_left", "level"), [(200, "ok"), (59, "amber"), (31, "amber"), (29, "red"), (1, "red"), (-5, "breached")]
)
def test_clock_levels_amber_under_one_hour_red_under_thirty_minutes(minutes_left, level):
    now = paris(2026, 11, 24, 10)
    incident = IncidentFactory(severity="SEV1", detected_at=now, respond_by=now + timedelta(minutes=minutes_left))
    assert clock_view(incident, now).level == level


@pytest.mark.django_db
def test_clock_text_for_the_console():
    now = paris(2026, 11, 27, 9, 46)  # Friday
    incident = IncidentFactory(severity="SEV2", detected_at=now, respond_by=paris(2026, 11, 30, 12))
    assert clock_view(incident, now).text == (
        "respond by Mon 12:00 (Europe/Paris), 11 h 14 min of business time left"
    )
    incident.acknowledged_at = now + timedelta(minutes=5)
    assert clock_view(incident, now).text == "acknowledged Fri 09:51 (Europe/Paris) (in time)"


@pytest.mark.django_db
def test_gdpr_deadline_is_72_real_hours_across_a_dst_change():
    incident = IncidentFactory()
    assessment = breach_assessment_open(incident=incident, aware_at=paris(2026, 10, 24, 12))
    assert assessment.deadline == datetime(2026, 10, 27, 10, tzinfo=UTC)
    assert assessment.deadline.astimezone(PARIS).hour == 11
