"""The on-call pages: permissions, validation messages, CSRF, and each action through its form."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from formation_hub.models import Notification
from incidents.models import Incident, Page, StatusUpdate
from incidents.services import incident_open, oncall_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def oncall_client(client, responder):
    client.force_login(responder)
    return client


def new_incident(**fields):
    values = {"title": "Docmost slow", "severity": "SEV2", "source": "oncall_form", "service": "docmost",
              "category": "performance"}
    return incident_open(**{**values, **fields})


def test_oncall_pages_need_a_login(client):
    response = client.get("/oncall/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_home_shows_who_is_on_call_the_preview_and_open_incidents(oncall_client, rotation):
    new_incident(title="Sync lagging")
    response = oncall_client.get("/oncall/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Primary: <strong>" in body and "Next 8 weeks" in body
    assert "Sync lagging" in body and "of business time left" in body
    assert "(Europe/Paris)" in body


def test_filing_an_incident_through_the_form(oncall_client, responder):
    response = oncall_client.post(reverse("incidents:new"), {
        "title": "Baserow 502", "severity": "SEV2", "service": "baserow", "category": "down",
        "description": "Every page answers 502", "detected_at": "", "user_facing": "on",
    })
    incident = Incident.objects.get()
    assert response.status_code == 302 and response.url == f"/oncall/incidents/{incident.pk}/"
    assert incident.source == "oncall_form" and incident.reported_by == responder and incident.user_facing


def test_detection_time_is_read_in_the_organisation_zone(oncall_client):
    oncall_client.post(reverse("incidents:new"), {
        "title": "Old problem", "severity": "SEV3", "service": "wiki", "category": "bug",
        "detected_at": "2026-07-01T10:30",
    })
    assert Incident.objects.get().detected_at.isoformat() == "2026-07-01T08:30:00+00:00"


def test_the_form_shows_validation_errors(oncall_client):
    response = oncall_client.post(reverse("incidents:new"), {"title": "", "severity": "SEV9", "service": "x"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in body and "Select a valid choice" in body
    assert not Incident.objects.exists()


def test_a_future_detection_time_is_refused_with_the_service_message(oncall_client):
    future = (timezone.localtime(timezone.now() + timedelta(days=2))).strftime("%Y-%m-%dT%H:%M")
    response = oncall_client.post(reverse("incidents:new"), {
        "title": "x", "severity": "SEV3", "service": "wiki", "category": "bug", "detected_at": future,
    })
    assert "in the future" in response.content.decode()


def test_viewers_cannot_file_or_act_but_can_report(client, make_user):
    viewer = make_user("vera", "viewer")
    client.force_login(viewer)
    assert client.get(reverse("incidents:new")).status_code == 403
    incident = new_incident()
    assert client.post(reverse("incidents:ack", args=[incident.pk])).status_code == 403
    response = client.post(reverse("incidents:report"), {
        "title": "Cannot upload a PDF", "service": "wiki", "description": "Upload spins forever",
    })
    assert response.status_code == 302
    report = Incident.objects.get(title="Cannot upload a PDF")
    assert (report.severity, report.source, report.category) == ("SEV3", "staff_report", "to triage")


def test_non_staff_cannot_report(client, make_user):
    client.force_login(make_user("outsider", is_staff=False))
    assert client.get(reverse("incidents:report")).status_code == 403


def test_forms_are_csrf_protected(responder):
    client = Client(enforce_csrf_checks=True)
    client.force_login(responder)
    response = client.post(reverse("incidents:report"), {"title": "x", "service": "y", "description": "z"})
    assert response.status_code == 403


def test_acknowledge_move_note_severity_and_flags_through_the_forms(oncall_client, responder, rotation):
    incident = new_incident()
    detail = reverse("incidents:detail", args=[incident.pk])
    assert oncall_client.post(reverse("incidents:ack", args=[incident.pk])).url == detail
    oncall_client.post(reverse("incidents:move", args=[incident.pk]), {"to_status": "triaged", "note": "confirmed"})
    oncall_client.post(reverse("incidents:note", args=[incident.pk]), {"text": "Restarted the worker"})
    oncall_client.post(reverse("incidents:severity", args=[incident.pk]), {"severity": "SEV1", "reason": "worse"})
    oncall_client.post(reverse("incidents:flags", args=[incident.pk]), {"commander": responder.pk, "data_loss": "on"})
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder and incident.status == "triaged"
    assert incident.severity == "SEV1" and incident.commander == responder and incident.data_loss
    body = oncall_client.get(detail).content.decode()
    assert "Restarted the worker" in body and "detected -&gt; triaged: confirmed" in body
    assert "GDPR art. 33" in body


def test_an_illegal_move_shows_the_reason(oncall_client):
    incident = new_incident()
    response = oncall_client.post(reverse("incidents:move", args=[incident.pk]), {"to_status": "closed"}, follow=True)
    assert "cannot go from detected to closed" in response.content.decode()


def test_status_update_form_is_prefilled_from_the_template_and_posts(oncall_client):
    incident = new_incident(user_facing=True, description="Search returns nothing")
    url = reverse("incidents:status_update", args=[incident.pk])
    body = oncall_client.get(url).content.decode()
    assert "[SEV2] formation-hub - Docmost slow" in body
    assert "Symptom: Search returns nothing" in body and "users affected, data loss no" in body
    response = oncall_client.post(url, {"kind": "in_progress", "subject": "[SEV2] formation-hub - slow",
                                        "body": "Symptom: slow\nETA: 30 min"})
    assert response.status_code == 302
    update = StatusUpdate.objects.get()
    assert update.emailed
    kinds = set(Notification.objects.filter(kind="incident.status_update").values_list("channel", flat=True))
    assert kinds == {"team", "email"}


def test_resolved_template_after_resolution(oncall_client, responder):
    incident = new_incident()
    for status in ["triaged", "investigating", "resolved"]:
        oncall_client.post(reverse("incidents:move", args=[incident.pk]), {"to_status": status})
    body = oncall_client.get(reverse("incidents:status_update", args=[incident.pk]) + "?kind=resolved").content
    assert b"[SEV2 RESOLVED] formation-hub - back online" in body and b"docs/post-mortems/" in body


def test_gdpr_conclusion_through_the_form(oncall_client):
    incident = new_incident(data_loss=True)
    oncall_client.post(reverse("incidents:gdpr", args=[incident.pk]), {
        "decision": "notify", "notified_authority_at": "", "data_categories": "emails",
    }, follow=True)
    incident.breach_assessment.refresh_from_db()
    assert incident.breach_assessment.decision == "pending"
    oncall_client.post(reverse("incidents:gdpr", args=[incident.pk]), {"decision": "unlikely_risk"})
    incident.breach_assessment.refresh_from_db()
    assert incident.breach_assessment.decision == "unlikely_risk"


def test_page_acknowledged_from_its_page(oncall_client, rotation):
    oncall_page(subject="Backup failed", body="nightly dump missing", dedupe_key="backup-1")
    page = Page.objects.get()
    assert b"Backup failed" in oncall_client.get(reverse("incidents:page", args=[page.pk])).content
    oncall_client.post(reverse("incidents:page", args=[page.pk]))
    page.refresh_from_db()
    assert page.state == "acknowledged"


def test_ical_feed_at_the_private_address(oncall_client, rotation, client):
    home = oncall_client.get("/oncall/").content.decode()
    address = home.split("/oncall/calendar/")[1].split('"')[0]
    client.logout()
    response = client.get(f"/oncall/calendar/{address}?all=1")
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    summaries = [str(event["summary"]) for event in calendar.walk("VEVENT")]
    assert any(summary.startswith("On call (primary): ") for summary in summaries)
    assert client.get("/oncall/calendar/forged.ics").status_code == 404
