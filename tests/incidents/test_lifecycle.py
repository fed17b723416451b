"""Incident lifecycle: opening, acknowledging, transitions (legal and illegal), severity, notes, flags."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from formation_hub.audit import audit_entries_for
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.models import Notification
from incidents import services
from incidents.models import BreachAssessment, Incident, Page, Status, TimelineEntry
from incidents.services import (
    incident_acknowledge,
    incident_add_note,
    incident_change_severity,
    incident_open,
    incident_set_flags,
    incident_transition,
)

pytestmark = pytest.mark.django_db


def open_sev2(**fields):
    values = {"title": "Docmost slow", "severity": "SEV2", "source": "oncall_form", "service": "docmost",
              "category": "performance"}
    return incident_open(**{**values, **fields})


def test_incident_open_stores_the_clock_and_writes_timeline_and_audit(responder):
    detected = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 17:00 Paris
    incident = open_sev2(detected_at=detected, reported_by=responder, description="Pages take 30 s")
    assert incident.status == Status.DETECTED
    assert incident.respond_by == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Monday 12:00 Paris
    assert incident.timeline.get().kind == TimelineEntry.Kind.OPENED
    assert audit_entries_for(incident).get().action == "incident.opened"
    assert incident.next_update_due_at == detected + timedelta(minutes=30)


def test_incident_open_links_a_related_object(responder):
    incident = open_sev2(source="release", related_object=responder)
    assert incident.related_content_type == ContentType.objects.get_for_model(responder)
    assert incident.related_object == responder


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"severity": "SEV4"}, "Unknown severity"),
        ({"source": "pigeon"}, "Unknown source"),
        ({"title": "  "}, "needs a title"),
        ({"service": ""}, "service"),
        ({"detected_at": timezone.now() + timedelta(hours=2)}, "in the future"),
    ],
)
def test_incident_open_refuses_bad_input_with_a_message(fields, message):
    with pytest.raises(DomainError, match=message):
        open_sev2(**fields)
    assert not Incident.objects.exists()


def test_sev1_pages_the_primary_and_announces_to_the_team(rotation):
    incident = incident_open(title="Baserow down", severity="SEV1", source="alert", service="baserow", category="down")
    page = Page.objects.get(incident=incident)
    assert page.primary.username in {"alice", "bruno", "carla"}
    assert page.escalate_at == page.paged_at + timedelta(minutes=15)
    assert Notification.objects.filter(kind="incident.page", recipients=[page.primary.email]).exists()
    assert Notification.objects.filter(kind="incident.opened").exists()
    assert incident.respond_by == incident.detected_at + timedelta(minutes=15)


def test_sev3_is_not_announced_nor_paged():
    incident = open_sev2(severity="SEV3")
    assert not Page.objects.exists()
    assert not Notification.objects.filter(kind="incident.opened").exists()
    assert incident.next_update_due_at is None


def test_full_lifecycle_records_each_transition_time(responder):
    incident = open_sev2(severity="SEV3")  # no post-mortem required: it closes right after resolution
    for status in ["triaged", "investigating", "mitigated", "resolved", "closed"]:
        incident = incident_transition(incident=incident, to_status=status, user=responder)
        assert getattr(incident, f"{status}_at") is not None
    assert incident.status == Status.CLOSED
    transitions = incident.timeline.filter(kind=TimelineEntry.Kind.TRANSITION)
    assert [entry.text for entry in transitions] == [
        "detected -> triaged", "triaged -> investigating", "investigating -> mitigated",
        "mitigated -> resolved", "resolved -> closed",
    ]
    assert audit_entries_for(incident).filter(action="incident.transitioned").count() == 5
    assert incident.next_update_due_at is None


@pytest.mark.parametrize(
    ("path", "target", "message"),
    [
        (["triaged", "investigating", "mitigated", "resolved", "closed"], "investigating", "is closed"),
        ([], "investigating", "cannot go from detected to investigating; from detected it can go to triaged"),
        ([], "closed", "cannot go from detected to closed"),
        (["triaged"], "mitigated", "from triaged it can go to investigating or resolved"),
        (["triaged"], "detected", "cannot go from triaged to detected"),
        ([], "done", "Unknown status"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(responder, path, target, message):
    incident = open_sev2(severity="SEV3")
    for status in path:
        incident = incident_transition(incident=incident, to_status=status, user=responder)
    with pytest.raises(DomainError, match=message):
        incident_transition(incident=incident, to_status=target, user=responder)
    incident.refresh_from_db()
    assert incident.status == (path[-1] if path else "detected")


def test_a_resolved_incident_can_be_reopened_and_gets_updates_again(responder):
    incident = open_sev2()
    for status in ["triaged", "investigating", "resolved"]:
        incident = incident_transition(incident=incident, to_status=status, user=responder)
    assert incident.update_reminder_at is None
    incident = incident_transition(incident=incident, to_status="investigating", user=responder, note="came back")
    assert incident.update_reminder_at is not None
    assert incident.timeline.last().text == "resolved -> investigating: came back"


def test_close_checks_can_refuse_closing(responder, monkeypatch):
    monkeypatch.setattr(services, "postmortem_close_check", lambda incident: "the post-mortem is not published")
    incident = open_sev2()
    for status in ["triaged", "investigating", "resolved"]:
        incident = incident_transition(incident=incident, to_status=status, user=responder)
    with pytest.raises(DomainError, match="cannot be closed yet: the post-mortem is not published"):
        incident_transition(incident=incident, to_status="closed", user=responder)


def test_people_outside_oncall_cannot_respond(make_user):
    viewer = make_user("vera", "viewer")
    incident = open_sev2()
    with pytest.raises(NotAllowed):
        incident_transition(incident=incident, to_status="triaged", user=viewer)
    with pytest.raises(NotAllowed):
        incident_acknowledge(incident=incident, user=viewer)


def test_acknowledge_in_time_stops_the_clock_without_breach(responder):
    incident = open_sev2()
    incident = incident_acknowledge(incident=incident, user=responder)
    assert incident.acknowledged_by == responder
    assert not incident.breached
    with pytest.raises(DomainError, match="already acknowledged by oncall-olga"):
        incident_acknowledge(incident=incident, user=responder)


def test_late_acknowledgement_is_a_breach(responder):
    incident = incident_open(
        title="Down", severity="SEV1", source="alert", service="docmost", category="down",
        detected_at=timezone.now() - timedelta(minutes=20),
    )
    incident = incident_acknowledge(incident=incident, user=responder)
    assert incident.breached
    assert "late" in incident.timeline.filter(kind="ack").get().text


def test_acknowledging_the_incident_acknowledges_its_pages(rotation, responder):
    incident = incident_open(title="Down", severity="SEV1", source="alert", service="docmost", category="down")
    incident_acknowledge(incident=incident, user=responder)
    page = Page.objects.get(incident=incident)
    assert page.state == Page.State.ACKNOWLEDGED
    assert page.escalate_at is None


def test_triaging_an_unacknowledged_incident_acknowledges_it(responder):
    incident = incident_transition(incident=open_sev2(), to_status="triaged", user=responder)
    assert incident.acknowledged_at is not None


def test_severity_change_recomputes_an_unacknowledged_clock_and_pages_on_sev1(rotation, responder):
    detected = timezone.now() - timedelta(minutes=5)
    incident = open_sev2(detected_at=detected)
    incident = incident_change_severity(incident=incident, severity="SEV1", user=responder, reason="all users down")
    assert incident.respond_by == detected + timedelta(minutes=15)
    assert Page.objects.filter(incident=incident).exists()
    entry = incident.timeline.filter(kind="severity").get()
    assert entry.text.startswith("Severity SEV2 -> SEV1: all users down; respond by")
    assert audit_entries_for(incident).filter(action="incident.severity_changed").exists()
    with pytest.raises(DomainError, match="already SEV1"):
        incident_change_severity(incident=incident, severity="SEV1", user=responder)


def test_downgrading_to_sev3_stops_update_reminders(responder):
    incident = incident_change_severity(incident=open_sev2(), severity="SEV3", user=responder)
    assert incident.update_reminder_at is None


def test_notes_are_added_to_the_timeline_and_empty_notes_refused(responder):
    incident = open_sev2()
    entry = incident_add_note(incident=incident, user=responder, text="Restarted the container")
    assert entry.author == responder and entry.kind == "note"
    with pytest.raises(DomainError, match="cannot be empty"):
        incident_add_note(incident=incident, user=responder, text="   ")


def test_flagging_data_loss_opens_the_gdpr_assessment(responder):
    incident = incident_set_flags(incident=open_sev2(), user=responder, data_loss=True, commander=responder)
    assessment = BreachAssessment.objects.get(incident=incident)
    assert assessment.deadline == assessment.aware_at + timedelta(hours=72)
    assert incident.commander == responder
    with pytest.raises(DomainError, match="stays flagged"):
        incident_set_flags(incident=incident, user=responder, data_loss=False)


def test_commander_must_be_a_responder(responder, make_user):
    with pytest.raises(DomainError, match="cannot command"):
        incident_set_flags(incident=open_sev2(), user=responder, commander=make_user("stan"))
