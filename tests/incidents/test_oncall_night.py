"""Nights and closed incidents: SEV2 update reminders follow business hours (only a SEV1 wakes someone),
statuses say only what is true, a closed incident offers no reopening by default and no update to write."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from formation_hub.models import Notification
from incidents.models import Incident, Status
from incidents.services import incident_open, incident_transition
from incidents.status.updates import update_reminders_send_due

pytestmark = pytest.mark.django_db

FRIDAY_17_50_PARIS = datetime(2026, 11, 20, 16, 50, tzinfo=UTC)
MONDAY_09_20_PARIS = datetime(2026, 11, 23, 8, 20, tzinfo=UTC)


def incident(severity, detected_at):
    return incident_open(title=f"{severity} at night", severity=severity, source="oncall_form", service="docmost",
                         category="down", detected_at=detected_at)


def reminders_between(start, end):
    sent, at = 0, start
    while at <= end:
        sent += update_reminders_send_due(at)
        at += timedelta(minutes=10)
    return sent


def test_a_sev2_update_is_due_30_business_minutes_later_and_nobody_is_reminded_over_the_weekend():
    sev2 = incident("SEV2", FRIDAY_17_50_PARIS)
    assert sev2.next_update_due_at == MONDAY_09_20_PARIS
    assert reminders_between(FRIDAY_17_50_PARIS, MONDAY_09_20_PARIS - timedelta(minutes=1)) == 0
    assert update_reminders_send_due(MONDAY_09_20_PARIS) == 1
    assert Incident.objects.get().update_reminder_at == MONDAY_09_20_PARIS + timedelta(minutes=30)
    body = Notification.objects.get(kind="incident.update_reminder").body
    assert "every 30 minutes of business time" in body


def test_a_sev1_is_still_reminded_every_30_minutes_at_night():
    incident("SEV1", FRIDAY_17_50_PARIS)
    assert reminders_between(FRIDAY_17_50_PARIS, FRIDAY_17_50_PARIS + timedelta(hours=3)) == 6


def test_a_closed_incident_offers_neither_a_move_nor_an_update(client, responder, reviewer):
    sev3 = incident("SEV3", FRIDAY_17_50_PARIS)
    for status in ["triaged", "investigating", "resolved"]:
        incident_transition(incident=sev3, to_status=status, user=responder)
    client.force_login(responder)
    page = client.get(reverse("incidents:detail", args=[sev3.pk])).content.decode()
    assert "resolved (verified)" not in page
    assert 'id="id_to_status"' in page
    incident_transition(incident=sev3, to_status="closed", user=responder)
    page = client.get(reverse("incidents:detail", args=[sev3.pk])).content.decode()
    assert Incident.objects.get().status == Status.CLOSED
    assert 'id="id_to_status"' not in page, "one click must not reopen a closed incident"
    assert "Write update" not in page


def test_an_incident_filed_through_the_api_says_so_and_its_clock_says_which_time_it_counts(client, responder):
    client.force_login(responder)
    answer = client.post("/api/incidents/", {"title": "Baserow 502", "severity": "SEV2", "service": "baserow",
                                             "category": "down"}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["source"] == "api"
    assert answer.json()["time_left_kind"] == "business"
