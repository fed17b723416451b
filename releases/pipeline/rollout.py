"""The rollout of an approved release: deploy, smoke checks, the watch period and its end, roll back."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models.functions import TruncMinute
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import gate_request, gate_void, pending_gate
from formation_hub.models import AuditEntry, Gate
from incidents.oncall.paging import page_close
from incidents.services import incident_open, oncall_page
from releases import conf
from releases.models import CheckRun, Deployment, Release, SmokeCheck
from releases.pipeline.approvals import approval_void
from releases.pipeline.deployments import deployment_call_hook, deployment_start
from releases.pipeline.http_checks import run_http_check
from releases.pipeline.notes import release_announce
from releases.pipeline.state import (
    CHANGE_RELEASE,
    ROLLBACK_RELEASE,
    ROLLBACKABLE,
    WATCH_GATE,
    release_lock,
    release_requester,
    release_require,
    release_save,
)
from releases.selectors import last_stable_release

INCIDENT_SERVICE = "formation-hub"


WATCH_MISSED_MINUTES_TOLERATED = 3


def release_deploy(*, release: Release, user) -> Release:
    """Deploy an approved release to production, then run the smoke tests.

    The approval is checked again here: bound to the SHA, not expired, every prerequisite still passing.
    A failed check voids it (the release goes back to 'tagged' with a new approval gate) and refuses.
    """
    require(user, CHANGE_RELEASE, doing="deploy a release")
    deployment, problem = deployment_start(release=release, user=user)
    if problem:
        # Voided in its own transaction so the void and its audit entry stay although the deploy is refused.
        approval_void(release=release, reason=problem, user=user)
        audit_record(action="release.deploy_refused", target=release, actor=user,
                     result=AuditEntry.Result.REFUSED, message=problem)
        raise DomainError(f"Deploy refused: {problem}. The approval is void; a new one has been requested.")
    deployment_call_hook(deployment=deployment, user=user)
    deployment.refresh_from_db()
    release.refresh_from_db()
    if deployment.result == Deployment.Result.SUCCEEDED:
        release_run_smoke(release=release, user=user)
        release.refresh_from_db()
    return release


def _run_checks(*, release: Release, phase: str, deployment: Deployment | None) -> list[CheckRun]:
    checks = SmokeCheck.objects.filter(active=True)
    if phase == CheckRun.Phase.WATCH:
        checks = checks.filter(in_watch=True)
    runs = []
    for check in checks:
        outcome = run_http_check(url=check.url, expected_status=check.expected_status,
                                 expected_text=check.expected_text)
        runs.append(CheckRun.objects.create(
            release=release, deployment=deployment, smoke_check=check, phase=phase, name=check.name, url=check.url,
            ok=outcome.ok, status_code=outcome.status_code, detail=outcome.detail, duration_ms=outcome.duration_ms,
            ran_at=timezone.now(),
        ))
    return runs


def release_run_smoke(*, release: Release, user=None) -> list[CheckRun]:
    """Run the smoke tests against production; all green starts the watch, a failure proposes the rollback."""
    require(user, CHANGE_RELEASE, doing="run the smoke tests")
    release.refresh_from_db()
    release_require(release, Release.Status.DEPLOYING, doing="run the smoke tests")
    deployment = release.deployments.filter(action=Deployment.Action.DEPLOY).exclude(
        result=Deployment.Result.FAILED).first()
    runs = _run_checks(release=release, phase=CheckRun.Phase.SMOKE, deployment=deployment)
    failed = [run for run in runs if not run.ok]
    if not runs:
        audit_record(action="release.smoke_failed", target=release, actor=user, result=AuditEntry.Result.FAILED,
                     message="No smoke check is configured.")
        _propose_rollback(release=release, why="no smoke check is configured: nothing proves production works")
        return runs
    audit_record(
        action="release.smoke_ran", target=release, actor=user,
        result=AuditEntry.Result.FAILED if failed else AuditEntry.Result.OK,
        changes={"checks": {run.name: run.ok for run in runs}},
    )
    if failed:
        _propose_rollback(release=release, why="smoke tests failed: " + "; ".join(
            f"{run.name} ({run.detail})" for run in failed), failed=", ".join(run.name for run in failed))
        return runs
    _watch_start(release=release, user=user)
    return runs


@transaction.atomic
def _watch_start(*, release: Release, user) -> None:
    release = release_lock(release)
    release_require(release, Release.Status.DEPLOYING, doing="start the watch")
    release.status = Release.Status.SMOKE_PASSED
    release_save(release, user, "release.smoke_passed", "status")
    release.status, release.watch_started_at = Release.Status.WATCHING, timezone.now()
    release.rollback_proposed_at, release.rollback_proposal = None, ""
    release_save(release, user, "release.watch_started", "status", "watch_started_at", "rollback_proposed_at",
                 "rollback_proposal", watch_ends_at=release.watch_started_at + conf.watch_duration())
    gate_request(
        target=release, gate_type=WATCH_GATE, subject=release.sha, requested_by=release_requester(release, user)
    )


def _rollback_page_key(release: Release) -> str:
    return f"release-{release.pk}-rollback-proposed"


@transaction.atomic
def _propose_rollback(*, release: Release, why: str, failed: str = "") -> None:
    """Record the rollback proposal on the release and page on-call (once per release)."""
    release = release_lock(release)
    if release.rollback_proposed_at is None:
        release.rollback_proposed_at, release.rollback_proposal = timezone.now(), why[:2000]
        release_save(
            release, None, "release.rollback_proposed", "rollback_proposed_at", "rollback_proposal", message=why
        )
    oncall_page(
        subject=f"Release v{release.version}: rollback proposed" + (f" ({failed} failed)" if failed else ""),
        body=f"{why}\nOpen the release in the ops console and decide: roll back to the previous stable version.",
        dedupe_key=_rollback_page_key(release),
    )


def release_watch_tick(*, release: Release) -> list[CheckRun]:
    """One minute of the watch period: the health checks, recorded; a failure proposes the rollback."""
    release.refresh_from_db()
    if release.status != Release.Status.WATCHING:
        return []
    last = release.check_runs.filter(phase=CheckRun.Phase.WATCH).values_list("ran_at", flat=True).first()
    if last is not None and (timezone.now() - last).total_seconds() < 50:
        return []
    runs = _run_checks(release=release, phase=CheckRun.Phase.WATCH, deployment=None)
    failed = [run for run in runs if not run.ok]
    audit_record(
        action="release.watch_checked", target=release, actor_label="releases:watch",
        result=AuditEntry.Result.FAILED if failed else AuditEntry.Result.OK,
        changes={"checks": {run.name: run.ok for run in runs}},
    )
    if failed:
        _propose_rollback(release=release, why="watch-period health check failed: " + "; ".join(
            f"{run.name} ({run.detail})" for run in failed), failed=", ".join(run.name for run in failed))
    return runs


def watch_minutes_checked(release: Release) -> int:
    """How many distinct minutes of the watch period had their health checks run."""
    return (
        release.check_runs.filter(phase=CheckRun.Phase.WATCH, ran_at__gte=release.watch_started_at)
        .annotate(minute=TruncMinute("ran_at")).values("minute").distinct().count()
    )


def _watch_coverage_problem(release: Release) -> str:
    """The watch is 30 minutes of health checks every minute, not 30 minutes of waiting: a stopped worker or
    no configured check must not let it pass. A few missed minutes are tolerated."""
    needed = int(conf.watch_duration().total_seconds() // 60) - WATCH_MISSED_MINUTES_TOLERATED
    checked = watch_minutes_checked(release)
    if checked < needed:
        return (
            f"Only {checked} minute(s) of watch health checks ran (at least {needed} needed): check that a watch "
            "check is configured and the task worker runs, then wait."
        )
    return ""


def watch_ends_at(release: Release) -> datetime | None:
    if release.watch_started_at is None:
        return None
    return release.watch_started_at + conf.watch_duration()


def on_watch_decided(gate: Gate, release: Release) -> None:
    if gate.decision == "roll_back":
        _rollback(release=release_lock(release), user=gate.decided_by, reason=gate.reason)
        page_close(dedupe_key=_rollback_page_key(release), user=gate.decided_by, why="rolled back")
        return
    release = release_lock(release)
    release_require(release, Release.Status.WATCHING, doing="end the watch")
    ends = watch_ends_at(release)
    if timezone.now() < ends:
        raise DomainError(f"The watch period runs until {format_local(ends)}: it cannot be passed early.")
    missing = _watch_coverage_problem(release)
    if missing:
        raise DomainError(missing)
    release.status, release.released_at = Release.Status.RELEASED, timezone.now()
    release_save(release, gate.decided_by, "release.released", "status", "released_at", sha=release.sha)
    page_close(dedupe_key=_rollback_page_key(release), user=gate.decided_by,
               why=f"v{release.version} judged all OK at the end of its watch")
    release_announce(release=release)


@transaction.atomic
def release_rollback(*, release: Release, user, reason: str) -> Release:
    """Redeploy the previous stable release and open an incident linked to this one."""
    require(user, ROLLBACK_RELEASE, doing="roll back a release")
    release = release_lock(release)
    release = _rollback(release=release, user=user, reason=reason)
    page_close(dedupe_key=_rollback_page_key(release), user=user, why="rolled back")
    return release


def _rollback(*, release: Release, user, reason: str) -> Release:
    release_require(release, *ROLLBACKABLE, doing="roll back")
    if not reason.strip():
        raise DomainError("A rollback needs a written reason (it goes into the incident).")
    previous = last_stable_release(below=release)
    if previous is None:
        raise DomainError(f"There is no stable release before v{release.version} to go back to.")
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                release=release, environment=Deployment.Environment.PRODUCTION, action=Deployment.Action.ROLLBACK,
                version=previous.version, sha=previous.sha, started_by=user, started_at=timezone.now(),
                hook_url=conf.deploy_hook_url(),
            )
    except IntegrityError:
        raise DomainError(f"Release v{release.version} is already being rolled back.") from None
    release.status, release.ended_at, release.end_reason = Release.Status.ROLLED_BACK, timezone.now(), reason
    release_save(release, user, "release.rolled_back", "status", "ended_at", "end_reason", message=reason,
                 to_version=previous.version, deployment_id=deployment.pk)
    watch = pending_gate(target=release, gate_type=WATCH_GATE)
    if watch is not None:
        gate_void(gate=watch, reason="rolled back")
    deployment_call_hook(deployment=deployment, user=user, tag=f"{release.tag}-rollback")
    incident_open(
        title=f"Release v{release.version} rolled back to v{previous.version}", severity="SEV2", source="release",
        service=INCIDENT_SERVICE, category="release",
        description=f"{reason}\n\nRolled back by {user or 'the system'}; rollback deployment #{deployment.pk}.",
        reported_by=user, related_object=release, user_facing=True,
    )
    return release
