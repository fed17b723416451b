"""Restores from a backup with their evidence: the monthly DR drill and the rollback of lost data."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_q.models import Schedule

from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry, Notification
from formation_hub.schedules import ensure_schedules
from incidents.models import BackupRestore
from incidents.postmortems.restores import restore_drill_open, restore_record, restore_start
from incidents.services import incident_open

pytestmark = pytest.mark.django_db
EVIDENCE = {"backup_name": "pg-2026-12-01T02-00.dump", "restore_target": "scratch database fh_restore",
            "checks": "projet 412 rows = prod; page links 398; S-04 opened in the console"}


def data_loss():
    return incident_open(title="Rows lost after migration", severity="SEV1", source="oncall_form",
                         service="postgres", category="data", data_loss=True)


def test_the_drill_is_a_monthly_schedule_opened_once_a_month_and_reminded(settings):
    ensure_schedules()
    assert Schedule.objects.get(name="ritual: monthly DR drill (restore a backup)").schedule_type == Schedule.MONTHLY
    now = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    first, again = restore_drill_open(now=now), restore_drill_open(now=now)
    assert first.pk == again.pk and first.period == "2026-12" and first.runbook.slug == "restore-from-backup"
    reminder = Notification.objects.get(kind="restore.drill_due")
    assert reverse("admin:incidents_backuprestore_change", args=[first.pk]) in reminder.body


def test_a_drill_is_closed_only_with_its_evidence(responder):
    drill = restore_drill_open()
    with pytest.raises(DomainError, match="Name the backup restored"):
        restore_record(restore=drill, user=responder, outcome="passed", backup_name="", restore_target="x",
                       checks="y")
    restore_record(restore=drill, user=responder, outcome="passed", duration_minutes=18, **EVIDENCE)
    drill.refresh_from_db()
    assert (drill.state, drill.completed_by, drill.duration_minutes) == ("passed", responder, 18)
    entry = AuditEntry.objects.get(action="restore.passed")
    assert entry.changes["backup"] == EVIDENCE["backup_name"] and "412 rows" in entry.message
    with pytest.raises(DomainError, match="already recorded"):
        restore_record(restore=drill, user=responder, outcome="failed", **EVIDENCE)


def test_a_failed_restore_tells_the_admins(responder, settings):
    settings.OPS_ADMIN_EMAILS = ["ops@example.org"]
    restore_record(restore=restore_drill_open(), user=responder, outcome="failed",
                   **{**EVIDENCE, "checks": "pg_restore: archive is truncated"})
    assert "truncated" in Notification.objects.get(kind="restore.failed").body


def test_rollback_from_the_incident_page_follows_the_runbook_and_records_evidence_in_the_console(client, make_user):
    admin = make_user("adele", "admin", is_superuser=True)
    incident = data_loss()
    client.force_login(admin)
    response = client.post(f"/oncall/incidents/{incident.pk}/restore/", {"reason": "412 projet rows deleted"})
    restore = BackupRestore.objects.get()
    assert response.url == reverse("admin:incidents_backuprestore_change", args=[restore.pk])
    incident.refresh_from_db()
    assert incident.runbook.slug == "restore-from-backup" and restore.incident == incident
    assert incident.timeline.filter(text__startswith="Rollback by restoring a backup started").exists()
    page = client.post(response.url, {"state": "passed", "restore_target": "production", "backup_name": "",
                                      "checks": "counts"})
    assert page.status_code == 200 and "Name the backup restored" in page.content.decode()
    client.post(response.url, {"state": "passed", "duration_minutes": "35", **{**EVIDENCE, "restore_target": "prod"}})
    restore.refresh_from_db()
    assert restore.state == "passed" and restore.completed_by == admin
    assert incident.timeline.filter(text__startswith="Restore restored and checked").exists()


def test_a_second_restore_waits_for_the_first(responder):
    incident = data_loss()
    restore_start(incident=incident, user=responder, reason="rows lost")
    with pytest.raises(DomainError, match="already has a restore in progress"):
        restore_start(incident=incident, user=responder, reason="again")
