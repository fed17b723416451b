"""Prerequisites of a release: checking them, the CI reports and commit statuses that feed them, and the
overrides a decider may grant."""

import re
from datetime import UTC, datetime

import requests
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import gate_request
from formation_hub.models import AuditEntry, Gate
from releases import conf
from releases.models import SHA_PATTERN, SHA_RULE, PrerequisiteOverride, PrerequisiteReport, Release
from releases.pipeline.http_checks import fetch_commit_statuses
from releases.pipeline.state import (
    CHANGE_RELEASE,
    OVERRIDE_GATE,
    STAGING_GATE,
    failing_text,
    release_lock,
    release_requester,
    release_require,
    release_save,
)
from releases.rules.prerequisites import LABELS, TIME_PREREQUISITES, Evaluation
from releases.selectors import release_evaluation


def release_check_prerequisites(*, release: Release, user) -> Release:
    """Draft -> prerequisites met when every prerequisite passes now; asks for the staging validation.

    A refusal is audited (outside the transaction, so the entry stays) with what failed."""
    require(user, CHANGE_RELEASE, doing="check a release's prerequisites")
    release.refresh_from_db()
    release_require(release, Release.Status.DRAFT, doing="check the prerequisites")
    if conf.commit_status_url() and release.sha:
        commit_statuses_fetch(release=release, user=user)
    evaluation = release_evaluation(release)
    if not evaluation.allowed:
        audit_record(
            action="release.prerequisites_failed", target=release, actor=user, result=AuditEntry.Result.REFUSED,
            changes=evaluation.summary(), message=failing_text(evaluation),
        )
        raise DomainError(f"Prerequisites not met. {failing_text(evaluation)}")
    return _prerequisites_met(release=release, user=user, evaluation=evaluation)


@transaction.atomic
def _prerequisites_met(*, release: Release, user, evaluation: Evaluation) -> Release:
    release = release_lock(release)
    release_require(release, Release.Status.DRAFT, doing="check the prerequisites")
    release.status = Release.Status.PREREQUISITES_MET
    release_save(release, user, "release.prerequisites_met", "status", **evaluation.summary())
    gate_request(
        target=release, gate_type=STAGING_GATE, subject=release.sha, requested_by=release_requester(release, user)
    )
    return release


@transaction.atomic
def report_receive(
    *, release: Release | None, kind: str, outcome: str, sha: str = "", observed_at: datetime | None = None,
    url: str = "", detail: str = "", source: str = "api",
) -> PrerequisiteReport:
    """Store a CI / E2E / backup fact as evidence."""
    if kind in (PrerequisiteReport.Kind.CI, PrerequisiteReport.Kind.E2E) and not sha:
        if release is None or not release.sha:
            raise DomainError(f"A '{kind}' report needs the commit SHA it ran on.")
        sha = release.sha
    sha = sha.lower()
    if sha and not re.fullmatch(SHA_PATTERN, sha):
        raise DomainError(f"The {kind} report names {sha[:12]!r}: {SHA_RULE}")
    report = PrerequisiteReport.objects.create(
        release=release, kind=kind, outcome=outcome, sha=sha, observed_at=observed_at or timezone.now(),
        url=url, detail=detail[:2000], source=source,
    )
    audit_record(
        action="release.check_reported", target=release or report, actor_label=f"releases:{source}",
        changes={"kind": kind, "outcome": outcome, "sha": sha, "report_id": report.pk},
    )
    return report


def report_note(*, release: Release, report: PrerequisiteReport) -> str:
    """'' when the report counts for release now; else why it does not (it is kept as evidence all the same)."""
    if report.kind == PrerequisiteReport.Kind.BACKUP or not report.sha:
        return ""
    if not release.sha:
        return (f"Recorded, not applying: v{release.version} has no commit SHA yet; it applies once the release is "
                f"set to {report.sha[:10]}.")
    if report.sha == release.sha:
        return ""
    return (f"Recorded, not applying: v{release.version} ships {release.sha[:10]}, this report is for "
            f"{report.sha[:10]}. Report the run of {release.sha[:10]}.")


STATUS_OUTCOMES = {"success": "success", "failure": "failure", "error": "failure", "failed": "failure",
                   "pending": "pending", "warning": "failure"}


def _status_time(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text) if text else None
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def commit_statuses_fetch(*, release: Release, user=None) -> int:
    """Read CI and E2E results for the release's SHA from the configured commit-status API and store the
    new ones as reports. An unreachable API is audited and leaves the prerequisites as they were."""
    require(user, CHANGE_RELEASE, doing="read a release's CI results")
    template = conf.commit_status_url()
    if not template:
        raise DomainError("No commit-status API configured (RELEASE_COMMIT_STATUS_URL); CI reports through the API.")
    if not release.sha:
        raise DomainError("Set the release's SHA first.")
    url = template.replace("{sha}", release.sha)
    try:
        statuses = fetch_commit_statuses(url=url)
    except (requests.RequestException, ValueError) as error:
        audit_record(action="release.commit_status_failed", target=release, actor=user,
                     result=AuditEntry.Result.FAILED, changes={"url": url}, message=f"{type(error).__name__}: {error}")
        return 0
    wanted = {conf.ci_context(): PrerequisiteReport.Kind.CI, conf.e2e_context(): PrerequisiteReport.Kind.E2E}
    stored = 0
    for status in statuses:
        kind = wanted.get(status.context)
        outcome = STATUS_OUTCOMES.get(status.state.lower())
        observed_at = _status_time(status.updated_at)
        if kind is None or outcome is None or observed_at is None:
            continue
        duplicate = PrerequisiteReport.objects.filter(
            kind=kind, sha=release.sha, outcome=outcome, observed_at=observed_at, source="commit-status"
        ).exists()
        if not duplicate:
            report_receive(release=release, kind=kind, outcome=outcome, sha=release.sha, observed_at=observed_at,
                           url=status.url[:500], detail=status.description, source="commit-status")
            stored += 1
    audit_record(action="release.commit_status_read", target=release, actor=user,
                 changes={"url": url, "statuses": len(statuses), "stored": stored})
    return stored


@transaction.atomic
def override_request(*, release: Release, prerequisite: str, reason: str, user) -> PrerequisiteOverride:
    """Ask a second release approver to pass a failing prerequisite for this SHA, with a written reason."""
    require(user, CHANGE_RELEASE, doing="ask for a prerequisite override")
    release = release_lock(release)
    release_require(release, Release.Status.DRAFT, Release.Status.TAGGED, Release.Status.APPROVED,
                    doing="ask for an override")
    if prerequisite not in LABELS:
        raise DomainError(f"Unknown prerequisite '{prerequisite}': use one of {', '.join(LABELS)}.")
    if not reason.strip():
        raise DomainError("An override needs a written reason.")
    if not release.sha:
        raise DomainError("Set the release's SHA first: an override is bound to it.")
    if prerequisite in TIME_PREREQUISITES and release.kind != Release.Kind.HOTFIX:
        raise DomainError(f"Only a hotfix may pass '{LABELS[prerequisite]}'; a normal release waits for the "
                          "next allowed time.")
    if release_evaluation(release).result(prerequisite).passing:
        raise DomainError(f"'{LABELS[prerequisite]}' passes now: there is nothing to override.")
    override = PrerequisiteOverride.objects.create(
        release=release, prerequisite=prerequisite, sha=release.sha, reason=reason.strip(), requested_by=user,
        requested_at=timezone.now(),
    )
    audit_record(
        action="release.override_requested", target=release, actor=user,
        changes={"prerequisite": prerequisite, "sha": release.sha, "override_id": override.pk}, message=reason,
    )
    gate_request(target=override, gate_type=OVERRIDE_GATE, subject=_override_subject(override), requested_by=user)
    return override


def _override_subject(override: PrerequisiteOverride) -> str:
    return f"{override.prerequisite}@{override.sha}"


def override_current_subject(override: PrerequisiteOverride) -> str:
    """An override binds to the SHA it was asked for: a new release SHA makes its gate stale."""
    return f"{override.prerequisite}@{override.release.sha}"


def on_override_decided(gate: Gate, override: PrerequisiteOverride) -> None:
    override.state = (
        PrerequisiteOverride.State.APPROVED if gate.decision == "approve" else PrerequisiteOverride.State.DENIED
    )
    override.decided_by, override.decided_at = gate.decided_by, gate.decided_at
    override.save(update_fields=["state", "decided_by", "decided_at"])
    audit_record(
        action=f"release.override_{override.state}", target=override.release, actor=gate.decided_by,
        changes={"prerequisite": override.prerequisite, "override_id": override.pk}, message=gate.reason,
    )
