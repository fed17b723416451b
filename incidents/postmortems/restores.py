"""Restores from a backup, driven by the 'restore-from-backup' runbook and closed only with evidence.

The monthly DR drill (bump-deps.md "1er du mois: DR test", incident.md prevention) is opened by a calendar
schedule and reminded to on-call and admins; a rollback of lost data (incident.md "DB corruption: restore
backup recent") is started from the incident. Either is completed with what was restored, where, how long
it took and what was checked; a failed one tells the admins.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import organisation_zone
from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry
from formation_hub.notifications import notify
from incidents.models import BackupRestore, Incident, Runbook, TimelineEntry
from incidents.permissions import actor as _actor
from incidents.permissions import require_responder
from incidents.response.timeline import timeline_add

RESTORE_RUNBOOK = "restore-from-backup"


def _runbook() -> Runbook | None:
    return Runbook.objects.filter(slug=RESTORE_RUNBOOK).first()


def restore_drill_open(*, now: datetime | None = None) -> BackupRestore:
    """The drill of this month (created once) and its reminder."""
    now = now or timezone.now()
    period = f"{now.astimezone(organisation_zone()):%Y-%m}"
    try:
        with transaction.atomic():
            drill, created = BackupRestore.objects.get_or_create(
                kind=BackupRestore.Kind.DRILL, period=period,
                defaults={"runbook": _runbook(), "opened_at": now,
                          "reason": "Monthly DR test: restore the latest backup into a scratch database."},
            )
    except IntegrityError:
        return BackupRestore.objects.get(kind=BackupRestore.Kind.DRILL, period=period)
    if created:
        audit_record(action="restore.drill_opened", target=drill, actor_label="incidents:rituals")
        notify(kind="restore.drill_due", subject=f"[formation-hub] DR drill {period}: restore a backup",
               body=(f"Restore the latest backup into a scratch database following the runbook "
                     f"{reverse('incidents:runbook', args=[RESTORE_RUNBOOK])}, then record what was restored, "
                     f"how long it took and what you checked: "
                     f"{reverse('admin:incidents_backuprestore_change', args=[drill.pk])}"),
               dedupe_key=f"restore.drill_due:{period}", target=drill)
    return drill


@transaction.atomic
def restore_start(*, incident: Incident, user, reason: str) -> BackupRestore:
    """Roll back lost data by restoring a backup: the incident gets the runbook and a timeline line."""
    require_responder(user)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.is_open:
        raise DomainError(f"Incident #{incident.pk} is {incident.status}: a restore belongs to an open incident.")
    if not reason.strip():
        raise DomainError("Say what was lost and needs restoring.")
    if incident.restores.filter(state=BackupRestore.State.OPEN).exists():
        raise DomainError(f"Incident #{incident.pk} already has a restore in progress: record its result first.")
    runbook = _runbook()
    restore = BackupRestore.objects.create(kind=BackupRestore.Kind.ROLLBACK, incident=incident, runbook=runbook,
                                           reason=reason.strip(), opened_at=timezone.now(), opened_by=_actor(user))
    if incident.runbook_id is None and runbook is not None:
        incident.runbook = runbook
        incident.save(update_fields=["runbook", "updated_at"])
    timeline_add(incident=incident, kind=TimelineEntry.Kind.NOTE, user=user,
                 text=f"Rollback by restoring a backup started (runbook: {runbook.title if runbook else '-'}): "
                      f"{reason.strip()}")
    audit_record(action="restore.started", target=restore, actor=_actor(user), message=reason.strip())
    return restore


def evidence_problems(*, outcome: str, backup_name: str, checks: str, restore_target: str) -> list[str]:
    problems = []
    if outcome not in (BackupRestore.State.PASSED, BackupRestore.State.FAILED):
        problems.append("Choose the outcome: restored and checked, or failed.")
    if not backup_name.strip():
        problems.append("Name the backup restored (file or snapshot).")
    if not restore_target.strip():
        problems.append("Say where it was restored (scratch database, production ...).")
    if not checks.strip():
        problems.append("Write what was checked (row counts, known records, a user flow) or what went wrong.")
    return problems


@transaction.atomic
def restore_record(*, restore: BackupRestore, user, outcome: str, backup_name: str, restore_target: str,
                   checks: str, backup_taken_at: datetime | None = None, duration_minutes: int | None = None,
                   evidence_url: str = "") -> BackupRestore:
    """Complete a restore with its evidence (refused without it, or twice)."""
    restore = BackupRestore.objects.select_for_update().get(pk=restore.pk)
    if restore.state != BackupRestore.State.OPEN:
        raise DomainError(f"{restore} was already recorded ({restore.get_state_display()}).")
    problems = evidence_problems(outcome=outcome, backup_name=backup_name, checks=checks,
                                 restore_target=restore_target)
    if problems:
        raise DomainError(" ".join(problems))
    restore.state, restore.backup_name, restore.restore_target = outcome, backup_name.strip(), restore_target.strip()
    restore.checks, restore.backup_taken_at = checks.strip(), backup_taken_at
    restore.duration_minutes = duration_minutes
    restore.evidence_url, restore.completed_at, restore.completed_by = evidence_url, timezone.now(), _actor(user)
    restore.save()
    audit_record(action=f"restore.{outcome}", target=restore, actor=_actor(user),
                 result=AuditEntry.Result.OK if outcome == BackupRestore.State.PASSED else AuditEntry.Result.FAILED,
                 changes={"backup": restore.backup_name, "target": restore.restore_target,
                          "duration_minutes": duration_minutes, "evidence_url": evidence_url},
                 message=restore.checks[:500])
    if restore.incident_id:
        timeline_add(incident=restore.incident, kind=TimelineEntry.Kind.NOTE, user=user,
                     text=f"Restore {restore.get_state_display()}: {restore.backup_name} into "
                          f"{restore.restore_target}. Checked: {restore.checks[:300]}")
    if outcome == BackupRestore.State.FAILED:
        notify(kind="restore.failed", subject=f"[formation-hub] {restore} failed",
               body=f"{restore.backup_name} into {restore.restore_target}:\n{restore.checks}\n\nThe backups may not "
                    "be restorable: escalate (runbook 'restore-from-backup', rollback / escalation).",
               dedupe_key=f"restore.failed:{restore.pk}", target=restore)
    return restore
