"""Paging, escalation and the one-minute sweep: due times stored on rows, nothing lost, nothing repeated."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from formation_hub.errors import DomainError
from formation_hub.models import Notification
from formation_hub.notifications import notification_send
from formation_hub.schedules import ensure_schedules
from incidents.models import HandoffRecap, Incident, Page
from incidents.oncall import recap as recap_module
from incidents.oncall.paging import page_acknowledge
from incidents.oncall.recap import recap_body
from incidents.response.gdpr import breach_assessment_decide
from incidents.services import incident_acknowledge, incident_open, oncall_page
from incidents.status.updates import status_update_post
from incidents.sweeps import incidents_sweep
from incidents.tasks import sweep_due
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def sev1(**fields):
    values = {"title": "Docmost down", "severity": "SEV1", "source": "alert", "service": "docmost", "category": "down"}
    return incident_open(**{**values, **fields})


def test_oncall_page_pages_the_primary_once_per_key(rotation):
    oncall_page(subject="Release 1.4 failed", body="Rollback needed", dedupe_key="release-14-failed")
    oncall_page(subject="Release 1.4 failed", body="Rollback needed", dedupe_key="release-14-failed")
    page = Page.objects.get()
    assert page.incident is None and page.primary is not None
    notifications = Notification.objects.filter(kind="incident.page")
    assert [n.recipients for n in notifications] == [[page.primary.email]]
    assert "Acknowledge: http://localhost:8000/oncall/pages/" in notifications.get().body


def test_unacknowledged_page_escalates_to_the_backup_once(rotation):
    sev1()
    page = Page.objects.get()
    assert incidents_sweep(page.paged_at + timedelta(minutes=14))["page escalations"] == 0
    later = page.paged_at + timedelta(minutes=15)
    assert incidents_sweep(later)["page escalations"] == 1
    assert incidents_sweep(later + timedelta(minutes=5))["page escalations"] == 0
    page.refresh_from_db()
    assert page.state == Page.State.ESCALATED
    backup_pages = Notification.objects.filter(kind="incident.page", subject__startswith="[PAGE - ESCALATED]")
    assert [n.recipients for n in backup_pages] == [[page.backup.email]]
    assert page.incident.timeline.filter(text__startswith="Not acknowledged in time: paged the backup").count() == 1


def test_acknowledged_page_does_not_escalate(rotation, responder):
    incident = sev1()
    incident_acknowledge(incident=incident, user=responder)
    assert incidents_sweep(timezone.now() + timedelta(hours=1))["page escalations"] == 0


def test_page_acknowledge_refuses_twice(rotation, responder):
    oncall_page(subject="x", body="y", dedupe_key="k")
    page = page_acknowledge(page=Page.objects.get(), user=responder)
    assert page.state == Page.State.ACKNOWLEDGED
    with pytest.raises(DomainError, match="already acknowledged"):
        page_acknowledge(page=page, user=responder)


def test_nobody_on_call_pages_the_ops_admins(settings):
    oncall_page(subject="x", body="y", dedupe_key="k")
    assert Notification.objects.get(kind="incident.page").recipients == settings.OPS_ADMIN_EMAILS


def test_breach_is_flagged_once_and_counted(rotation):
    incident = incident_open(title="Slow", severity="SEV2", source="alert", service="sync", category="slow")
    assert incidents_sweep(incident.respond_by - timedelta(seconds=1))["breaches"] == 0
    assert incidents_sweep(incident.respond_by)["breaches"] == 1
    assert incidents_sweep(incident.respond_by + timedelta(hours=1))["breaches"] == 0
    incident.refresh_from_db()
    assert incident.breached and incident.breached_at == incident.respond_by
    assert Notification.objects.filter(kind="incident.breach").count() == 1
    assert Incident.objects.filter(breached=True).count() == 1


def test_update_reminder_is_sent_once_per_due_time_and_moves_with_updates(rotation, responder):
    incident = sev1()
    due = incident.update_reminder_at
    assert due == incident.detected_at + timedelta(minutes=30)
    assert incidents_sweep(due)["update reminders"] == 1
    assert incidents_sweep(due + timedelta(seconds=30))["update reminders"] == 0
    incident.refresh_from_db()
    assert incident.update_reminder_at == due + timedelta(minutes=30)
    update = status_update_post(incident=incident, user=responder, kind="in_progress", subject="[SEV1] x", body="y")
    incident.refresh_from_db()
    assert incident.update_reminder_at == incident.next_update_due_at == update.posted_at + timedelta(minutes=30)
    assert Notification.objects.filter(kind="incident.update_reminder").count() == 1


def test_a_late_sweep_sends_one_reminder_not_one_per_missed_slot(rotation):
    incident = sev1()
    assert incidents_sweep(incident.detected_at + timedelta(hours=3))["update reminders"] == 1
    incident.refresh_from_db()
    assert incident.update_reminder_at > incident.detected_at + timedelta(hours=3)


def test_reminder_goes_to_the_commander(rotation, responder):
    incident = sev1()
    Incident.objects.filter(pk=incident.pk).update(commander=responder)
    incidents_sweep(incident.update_reminder_at)
    assert Notification.objects.get(kind="incident.update_reminder").recipients == [responder.email]


def test_gdpr_reminders_until_concluded(responder):
    incident = incident_open(
        title="Rows deleted", severity="SEV2", source="oncall_form", service="baserow", category="data",
        data_loss=True,
    )
    assessment = incident.breach_assessment
    assert assessment.next_reminder_at == assessment.aware_at + timedelta(hours=24)
    assert incidents_sweep(assessment.aware_at + timedelta(hours=24))["GDPR reminders"] == 1
    assert incidents_sweep(assessment.aware_at + timedelta(hours=25))["GDPR reminders"] == 0
    with pytest.raises(DomainError, match="time the authority"):
        breach_assessment_decide(assessment=assessment, user=responder, decision="notify")
    breach_assessment_decide(assessment=assessment, user=responder, decision="not_personal")
    assert incidents_sweep(assessment.aware_at + timedelta(hours=72))["GDPR reminders"] == 0
    assert Notification.objects.filter(kind="incident.gdpr").count() == 2  # opened + 24 h


def test_handoff_recap_is_scheduled_then_sent_once_to_the_incoming_primary(rotation):
    IncidentFactory(title="Sync stuck", detected_at=datetime(2026, 11, 20, 12, tzinfo=UTC))
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)  # Sunday; next handoff Monday 23 November 10:00 Paris
    incidents_sweep(now)
    recap = HandoffRecap.objects.get()
    assert recap.handoff_at == datetime(2026, 11, 23, 9, tzinfo=UTC) and recap.sent_at is None
    assert incidents_sweep(recap.handoff_at)["recaps"] == 1
    assert incidents_sweep(recap.handoff_at + timedelta(minutes=1))["recaps"] == 0
    recap.refresh_from_db()
    notification = Notification.objects.get(kind="oncall.recap")
    assert notification.recipients == [recap.incoming.email]
    assert "Sync stuck" in notification.body
    assert HandoffRecap.objects.count() == 2  # the following handoff is stored as due


def test_recap_sections_can_be_added(monkeypatch):
    monkeypatch.setattr(recap_module, "open_action_items_recap", lambda since, until: ["AI 1: add a disk alert"])
    body = recap_body(since=datetime(2026, 11, 16, tzinfo=UTC), until=datetime(2026, 11, 23, tzinfo=UTC))
    assert "Open action items (1):\n- AI 1: add a disk alert" in body
    assert "Incidents of the past week (0):\n- none" in body


def test_the_sweep_task_is_scheduled_every_minute():
    ensure_schedules()
    schedule = Schedule.objects.get(func="incidents.tasks.sweep_due")
    assert schedule.minutes == 1
    assert sweep_due()["breaches"] == 0


def test_page_email_is_really_sent(rotation, smtp_server):
    oncall_page(subject="Disk full", body="/var at 100%", dedupe_key="disk")
    notification_send(notification_id=Notification.objects.get(kind="incident.page").pk)
    assert smtp_server.messages[0]["message"]["Subject"] == "[PAGE] Disk full"


def test_the_backup_reads_she_is_paged_only_once_escalated_with_her_own_time(rotation, client, clock):
    sev1()
    page = Page.objects.get()
    client.force_login(page.backup)
    assert "You are paged" not in client.get("/oncall/").content.decode()
    clock.now = page.paged_at + timedelta(minutes=17)
    incidents_sweep(clock.now)
    home = client.get("/oncall/").content.decode()
    assert "You are paged" in home
    assert "you as backup, paged Fri 14:17 (Europe/Paris)" in home
    assert "the primary was paged 14:00" in home
    email = Notification.objects.get(channel="email", subject__startswith="[PAGE - ESCALATED]").body
    assert "You are paged as the backup on call." in email
    primary_email = Notification.objects.get(channel="email", subject__startswith="[PAGE] ").body
    assert "Not acknowledged by 14:15 (Europe/Paris), the backup is paged." in primary_email
