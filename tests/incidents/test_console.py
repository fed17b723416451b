"""The console: incident list with clocks and filters, rotation preview, overrides, panels, demo data."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from formation_hub.dev.demo import load_demo_users
from formation_hub.models import AuditEntry
from incidents.demo import load_demo_incidents
from incidents.models import Incident, Override, Rotation
from incidents.oncall.rotation import on_call_at
from incidents.services import incident_open
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("root", "admin", is_superuser=True))
    return client


def test_incident_list_shows_clocks_and_stays_at_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    for index in range(30):
        IncidentFactory(
            title=f"incident {index}", severity="SEV1", respond_by=timezone.now() + timedelta(minutes=20 + index * 10)
        )
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:incidents_incident_changelist"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "respond by" in body and "(Europe/Paris)" in body
    assert "ops-red" in body and "ops-amber" in body


def test_amber_under_one_hour_red_under_thirty_minutes(admin_client):
    now = timezone.now()
    sev1 = incident_open(title="Down", severity="SEV1", source="alert", service="docmost", category="down",
                         detected_at=now - timedelta(minutes=1))
    body = admin_client.get(reverse("admin:incidents_incident_change", args=[sev1.pk])).content.decode()
    assert "ops-red" in body and "min left" in body
    assert "Timeline" in body or "timeline" in body


@pytest.mark.parametrize("query", ["severity__exact=SEV1", "status__exact=triaged", "breached__exact=1", "open=yes"])
def test_incident_list_filters(admin_client, query):
    assert admin_client.get(reverse("admin:incidents_incident_changelist") + "?" + query).status_code == 200


def test_incident_edit_in_the_console_is_audited_and_status_is_read_only(admin_client):
    incident = IncidentFactory()
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    response = admin_client.post(url, {
        "title": "Renamed", "description": "", "service": "docmost", "category": "down",
        "timeline-TOTAL_FORMS": "0", "timeline-INITIAL_FORMS": "0",
        "status_updates-TOTAL_FORMS": "0", "status_updates-INITIAL_FORMS": "0", "status": "closed",
    })
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Renamed" and incident.status == "detected"
    assert AuditEntry.objects.filter(action="incident.edited").exists()


def test_rotation_page_previews_eight_weeks_with_dst_marks(admin_client, rotation):
    body = admin_client.get(reverse("admin:incidents_rotation_change", args=[rotation.pk])).content.decode()
    assert body.count("<tr") >= 9
    assert "alice" in body and "bruno" in body


def test_override_making_primary_the_backup_is_refused_in_the_console(admin_client, rotation):
    now = timezone.now()
    backup = on_call_at(now).backup
    response = admin_client.post(reverse("admin:incidents_override_add"), {
        "rotation": rotation.pk, "role": "primary", "user": backup.pk,
        "starts_at_0": (now + timedelta(hours=1)).strftime("%Y-%m-%d"), "starts_at_1": "00:00:00",
        "ends_at_0": (now + timedelta(hours=1)).strftime("%Y-%m-%d"), "ends_at_1": "23:00:00", "reason": "swap",
    })
    assert response.status_code == 200
    assert "would be both primary and backup" in response.content.decode()
    assert not Override.objects.exists()


def test_landing_page_shows_open_incidents_and_on_call_panels(admin_client, rotation):
    incident_open(title="Wiki slow", severity="SEV2", source="oncall_form", service="docmost", category="slow")
    body = admin_client.get(reverse("admin:index")).content.decode()
    assert "Open incidents" in body and "Wiki slow" in body
    assert "On call" in body and "Rotation and overrides" in body


def test_demo_loader_is_idempotent(db):
    load_demo_users()
    first = load_demo_incidents()
    second = load_demo_incidents()
    assert "4 incident(s) created" in first and "0 incident(s) created" in second
    rotation = Rotation.objects.get()
    assert [m.user.username for m in rotation.members.all()] == ["alice", "bruno"]
    assert set(Incident.objects.values_list("status", flat=True)) == {"detected", "investigating", "resolved"}


def test_saving_a_rotation_with_a_gap_warns(admin_client, make_user):
    alice = make_user("alice", "oncall")
    response = admin_client.post(reverse("admin:incidents_rotation_add"), {
        "name": "solo", "active": "on", "priority": "0", "time_zone": "Europe/Paris", "handoff_weekday": "0",
        "handoff_time": "10:00", "start_date": "2026-01-05",
        "members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0", "members-0-user": alice.pk, "members-0-position": "0",
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    }, follow=True)
    assert response.status_code == 200
    assert "Gap in the next 8 weeks" in response.content.decode() and "nobody is backup" in response.content.decode()


def test_a_rotation_with_an_unknown_time_zone_is_refused(admin_client):
    response = admin_client.post(reverse("admin:incidents_rotation_add"), {
        "name": "bad", "priority": "0", "time_zone": "Europe/Pariss", "handoff_weekday": "0",
        "handoff_time": "10:00", "start_date": "2026-01-05",
        "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0", "overrides-TOTAL_FORMS": "0",
        "overrides-INITIAL_FORMS": "0",
    })
    assert "is not an IANA time zone" in response.content.decode()
