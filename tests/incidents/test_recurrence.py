"""Recurrence: three incidents of one service and category within 30 days raise one strategic escalation."""

from datetime import UTC, datetime, timedelta

import pytest

from formation_hub.audit import audit_entries_for
from formation_hub.errors import DomainError
from formation_hub.models import Notification
from incidents.models import PostMortem, RecurrenceEscalation
from incidents.postmortems.recurrence import escalation_acknowledge
from incidents.postmortems.services import postmortem_required
from incidents.services import incident_open, incident_transition

pytestmark = pytest.mark.django_db

DAY0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def similar(days, severity="SEV3", service="baserow", category="down", **fields):
    return incident_open(
        title=f"Baserow down (day {days})", severity=severity, source="oncall_form", service=service,
        category=category, detected_at=DAY0 + timedelta(days=days), **fields,
    )


def test_two_similar_incidents_raise_nothing():
    similar(0), similar(10)
    assert not RecurrenceEscalation.objects.exists()


def test_the_third_similar_incident_raises_an_escalation_notified_to_admins(settings):
    settings.OPS_ADMIN_EMAILS = ["ops@formation-hub.test"]
    first, second, third = similar(0), similar(10), similar(20)
    escalation = RecurrenceEscalation.objects.get()
    assert (escalation.service, escalation.category, escalation.state) == ("baserow", "down", "open")
    assert set(escalation.incidents.all()) == {first, second, third}
    notification = Notification.objects.get(kind="recurrence.escalation")
    assert notification.recipients == ["ops@formation-hub.test"]
    assert "3 baserow / down incidents in 30 days" in notification.subject
    assert audit_entries_for(escalation).get().action == "recurrence.escalated"
    assert "Recurring pattern" in third.timeline.last().text


@pytest.mark.parametrize(("third_day", "raised"), [(30, True), (31, False)])
def test_the_window_is_thirty_days_inclusive(third_day, raised):
    similar(0), similar(15), similar(third_day)
    assert RecurrenceEscalation.objects.exists() is raised


def test_thirty_days_counts_to_the_minute():
    similar(0), similar(15)
    incident_open(title="again", severity="SEV3", source="oncall_form", service="baserow", category="down",
                  detected_at=DAY0 + timedelta(days=30, minutes=1))
    assert not RecurrenceEscalation.objects.exists()


def test_other_services_or_categories_do_not_count():
    similar(0), similar(5, service="docmost"), similar(10, category="performance"), similar(15)
    assert not RecurrenceEscalation.objects.exists()


def test_service_and_category_match_whatever_the_case():
    similar(0), similar(5, service="Baserow"), similar(10, category="DOWN")
    assert RecurrenceEscalation.objects.get().incidents.count() == 3


def test_a_fourth_incident_joins_the_open_escalation_without_a_second_notification():
    similar(0), similar(10), similar(20)
    fourth = similar(25)
    escalation = RecurrenceEscalation.objects.get()
    assert fourth in escalation.incidents.all()
    assert Notification.objects.filter(kind="recurrence.escalation").count() == 1


def test_after_acknowledgement_three_new_incidents_are_needed(admin_user):
    similar(0), similar(10), similar(20)
    escalation_acknowledge(escalation=RecurrenceEscalation.objects.get(), user=admin_user, decision="refactor",
                           notes="Move Baserow to its own host by December.")
    similar(22), similar(24)
    assert RecurrenceEscalation.objects.count() == 1
    similar(26)
    assert RecurrenceEscalation.objects.filter(state="open").count() == 1
    assert Notification.objects.filter(kind="recurrence.escalation").count() == 2


def test_only_an_admin_acknowledges_with_a_decision_and_reasons(admin_user, responder):
    similar(0), similar(10), similar(20)
    escalation = RecurrenceEscalation.objects.get()
    with pytest.raises(DomainError, match="Only an admin"):
        escalation_acknowledge(escalation=escalation, user=responder, decision="refactor", notes="x")
    with pytest.raises(DomainError, match="Choose a decision"):
        escalation_acknowledge(escalation=escalation, user=admin_user, decision="shrug", notes="x")
    with pytest.raises(DomainError, match="Write what was decided"):
        escalation_acknowledge(escalation=escalation, user=admin_user, decision="resources", notes="  ")
    escalation = escalation_acknowledge(escalation=escalation, user=admin_user, decision="resources",
                                        notes="A second worker.")
    assert escalation.state == "acknowledged" and escalation.acknowledged_by == admin_user
    with pytest.raises(DomainError, match="already acknowledged"):
        escalation_acknowledge(escalation=escalation, user=admin_user, decision="resources", notes="again")
    assert audit_entries_for(escalation).filter(action="recurrence.acknowledged").count() == 1


def test_sev3s_of_a_pattern_require_a_post_mortem(responder, clock):
    clock.now = DAY0 + timedelta(days=40)
    lone = similar(0, service="sync")
    assert not postmortem_required(lone)
    first = similar(10)
    for status in ["triaged", "resolved"]:
        first = incident_transition(incident=first, to_status=status, user=responder)
    assert not PostMortem.objects.exists()
    similar(15), similar(20)
    first.refresh_from_db()
    assert postmortem_required(first)
    assert PostMortem.objects.filter(incident=first).exists()  # resolved already: started by the escalation
    with pytest.raises(DomainError, match="publish it first"):
        incident_transition(incident=first, to_status="closed", user=responder)
