"""Release services: every write of the releases app, with its state guard and audit entry.

The pipeline (issue 7): draft -> prerequisites met -> [staging gate] staging validated -> [tag gate]
tagged -> [production approval gate] approved -> deploying -> smoke passed -> watching -> [watch gate]
released; or aborted / rolled back. Gates go through formation_hub.gates; their decisions land in the
`_on_*` handlers below.
"""

from datetime import UTC, datetime

import requests
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import TruncMinute
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.tasks import async_task

from formation_hub.audit import audit_record
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates import GateType, gate_request, gate_void, pending_gate
from formation_hub.models import AuditEntry, Gate
from formation_hub.notifications import notify, notify_team
from formation_hub.permissions import holders, require
from formation_hub.timefmt import format_local, to_local
from incidents.paging import page_close
from incidents.services import incident_open, oncall_page
from releases import conf
from releases.models import (
    Change,
    CheckRun,
    Deployment,
    PrerequisiteOverride,
    PrerequisiteReport,
    Release,
    SmokeCheck,
)
from releases.pipeline import clock
from releases.pipeline.http_checks import call_deploy_hook, fetch_commit_statuses, run_http_check
from releases.rules import changelog as keepachangelog
from releases.rules.prerequisites import LABELS, TIME_PREREQUISITES, Evaluation
from releases.rules.semver import Level, level_of, parse_version, propose_next, validate_successor
from releases.selectors import (
    existing_versions,
    last_release_version,
    last_stable_release,
    release_evaluation,
    unreleased_changes,
)

DECIDE_RELEASE_GATE = "releases.decide_release_gate"
ROLLBACK_RELEASE = "releases.rollback_release"
STAGING_GATE = "releases.staging"
TAG_GATE = "releases.tag"
APPROVAL_GATE = "releases.approval"
WATCH_GATE = "releases.watch"
OVERRIDE_GATE = "releases.override"

PRE_DEPLOY = (
    Release.Status.DRAFT, Release.Status.PREREQUISITES_MET, Release.Status.STAGING_VALIDATED,
    Release.Status.TAGGED, Release.Status.APPROVED,
)
ROLLBACKABLE = (
    Release.Status.DEPLOYING, Release.Status.SMOKE_PASSED, Release.Status.WATCHING, Release.Status.RELEASED,
)
INCIDENT_SERVICE = "formation-hub"
WATCH_MISSED_MINUTES_TOLERATED = 3


def _lock(release: Release) -> Release:
    return Release.objects.select_for_update().get(pk=release.pk)


def _require(release: Release, *statuses, doing: str) -> None:
    if release.status not in statuses:
        allowed = " or ".join(Release.Status(status).label for status in statuses)
        raise DomainError(
            f"v{release.version} is {release.get_status_display()}: you can {doing} only when it is {allowed}."
        )


def _save(release: Release, user, action: str, *fields: str, message: str = "", **changes) -> None:
    release.save(update_fields=list(fields))
    audit_record(action=action, target=release, actor=user, changes=changes, message=message)


def _failing_text(evaluation: Evaluation) -> str:
    lines = [f"{LABELS[result.name]}: {result.evidence}" for result in evaluation.failing]
    if evaluation.next_allowed_at is not None and evaluation.next_allowed_at != evaluation.at:
        lines.append(f"Next start the calendar and freeze windows allow: {format_local(evaluation.next_allowed_at)}.")
    return " ".join(lines)


# --- changes and versions -----------------------------------------------------------------------------


def change_add(*, type: str, text: str, author=None, reference: str = "", user=None,
               source: str = Change.Source.MANUAL) -> Change:
    """Add a change under Unreleased. Its author defaults to the person adding it; both are recorded."""
    require(user, "releases.add_change", doing="add a change")
    if type not in Change.Type.values:
        raise DomainError(f"Unknown change type '{type}': use one of {', '.join(Change.Type.values)}.")
    if not text.strip():
        raise DomainError("A change needs a line of text saying what changed.")
    change = Change.objects.create(
        type=type, text=text.strip(), author=author or user, created_by=user, reference=reference.strip(),
        source=source,
    )
    audit_record(action="release.change_added", target=change, actor=user,
                 changes={"type": type, "text": text, "author": str(change.author or "")})
    return change


UNRELEASED_EDITABLE = ("type", "text", "author", "reference")


@transaction.atomic
def change_edit(*, change: Change, user, **fields) -> Change:
    """Edit an unreleased change; every edit (above all its author) is an audit entry."""
    require(user, "releases.change_change", doing="edit a change")
    change = Change.objects.select_for_update().get(pk=change.pk)
    if change.release_id is not None:
        raise DomainError(f"This change ships in {change.release}: it is part of the release's record.")
    unknown = set(fields) - set(UNRELEASED_EDITABLE)
    if unknown:
        raise DomainError(f"Only {', '.join(UNRELEASED_EDITABLE)} of a change are edited.")
    old = {name: str(getattr(change, name) or "") for name in fields}
    for name, value in fields.items():
        setattr(change, name, value)
    change.save(update_fields=list(fields))
    audit_record(action="release.change_edited", target=change, actor=user,
                 changes={"old": old, "new": {name: str(value or "") for name, value in fields.items()}})
    return change


def release_propose(*, stable_reason: str = ""):
    """The next version proposed from the unreleased changes, with the reasons."""
    changes = list(unreleased_changes())
    return propose_next(
        last_release_version(), [(change.type, change.text) for change in changes], stable_reason=stable_reason
    )


@transaction.atomic
def release_create(
    *, user, sha: str = "", title: str = "", version: str = "", version_reason: str = "",
    kind: str = Release.Kind.NORMAL,
) -> Release:
    """Gather every unreleased change into a new draft release, at the proposed or a hand-chosen version."""
    changes = list(unreleased_changes().select_for_update(of=("self",)))
    level = level_of(change.type for change in changes)
    if kind == Release.Kind.HOTFIX:
        chosen, base = _hotfix_version(changes, level)
    else:
        in_flight = Release.objects.filter(kind=Release.Kind.NORMAL, imported=False).exclude(
            status__in=Release.FINAL
        ).first()
        if in_flight is not None:
            raise DomainError(f"v{in_flight.version} is still in flight: release or abort it first.")
        chosen, base = _normal_version(changes, version, version_reason), ""
    taken = next((other for other in existing_versions() if chosen.compare(other) == 0), None)
    if taken is not None:
        raise DomainError(
            f"v{chosen} is already taken (v{taken}, perhaps a hotfix in flight): finish it, or choose the next "
            "version by hand."
        )
    release = Release.objects.create(
        version=str(chosen), kind=kind, title=title.strip(), sha=_clean_sha(sha, allow_blank=True), author=user,
        version_reason=version_reason.strip(), base_version=base,
    )
    Change.objects.filter(pk__in=[change.pk for change in changes]).update(release=release)
    audit_record(
        action="release.created", target=release, actor=user,
        changes={"version": release.version, "kind": kind, "sha": release.sha, "level": level.label,
                 "changes": len(changes)},
        message=version_reason,
    )
    return release


def _clean_sha(sha: str, *, allow_blank: bool) -> str:
    sha = sha.strip().lower()
    if not sha and allow_blank:
        return ""
    try:
        Release._meta.get_field("sha").run_validators(sha)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages)) from None
    return sha


def _normal_version(changes, version: str, version_reason: str):
    proposal = propose_next(
        last_release_version(), [(change.type, change.text) for change in changes],
        stable_reason=version_reason if version.strip() in ("1.0.0", "v1.0.0") else "",
    )
    if not version.strip():
        if proposal.version is None:
            raise DomainError(f"{proposal.explanation} Add a fix, feature or breaking change first.")
        return proposal.version
    if proposal.version is None:
        raise DomainError(f"{proposal.explanation} A hand-chosen version needs something to release.")
    return validate_successor(
        version, current=last_release_version(), required=proposal.level, existing=existing_versions(),
        stable_reason=version_reason,
    )


def _hotfix_version(changes, level: Level):
    base = last_stable_release()
    if base is None:
        raise DomainError("A hotfix patches the last stable release, and there is none yet.")
    if level == Level.NONE:
        raise DomainError("A hotfix needs at least one fix or security change under Unreleased.")
    if level > Level.PATCH:
        raise DomainError(
            "A hotfix is a patch release: the unreleased changes include a feature or a breaking change. "
            "Make a normal release instead."
        )
    version = base.semver.bump_patch()
    if any(version.compare(other) == 0 for other in existing_versions()):
        raise DomainError(f"v{version} already exists: finish or abort it before another hotfix of v{base.version}.")
    return version, base.version


@transaction.atomic
def release_set_sha(*, release: Release, sha: str, user) -> Release:
    """Point the release at another commit: every gate and approval given on the old SHA is void."""
    release = _lock(release)
    _require(release, *PRE_DEPLOY, doing="change the SHA")
    sha = _clean_sha(sha, allow_blank=False)
    if sha == release.sha:
        return release
    old = release.sha
    for gate in Gate.objects.filter(object_id=str(release.pk), state=Gate.State.PENDING,
                                    gate_type__in=(STAGING_GATE, TAG_GATE, APPROVAL_GATE)):
        gate_void(gate=gate, reason=f"new SHA {sha[:10]} replaces {old[:10]}")
    release.sha = sha
    release.status = Release.Status.DRAFT
    release.approved_at = None
    release.approval_evidence = {}
    _save(release, user, "release.sha_changed", "sha", "status", "approved_at", "approval_evidence", old=old, new=sha)
    return release


# --- prerequisites ------------------------------------------------------------------------------------


def release_check_prerequisites(*, release: Release, user) -> Release:
    """Draft -> prerequisites met when every prerequisite passes now; asks for the staging validation.

    A refusal is audited (outside the transaction, so the entry stays) with what failed."""
    release.refresh_from_db()
    _require(release, Release.Status.DRAFT, doing="check the prerequisites")
    if conf.commit_status_url() and release.sha:
        commit_statuses_fetch(release=release, user=user)
    evaluation = release_evaluation(release)
    if not evaluation.allowed:
        audit_record(
            action="release.prerequisites_failed", target=release, actor=user, result=AuditEntry.Result.REFUSED,
            changes=evaluation.summary(), message=_failing_text(evaluation),
        )
        raise DomainError(f"Prerequisites not met. {_failing_text(evaluation)}")
    return _prerequisites_met(release=release, user=user, evaluation=evaluation)


def _requester(release: Release, acting):
    """Who a gate the pipeline opens on a release is asked for: its author (who then may not decide it),
    else the person whose action opened it. Never the decider of the gate before (issue 16)."""
    return release.author or acting


@transaction.atomic
def _prerequisites_met(*, release: Release, user, evaluation: Evaluation) -> Release:
    release = _lock(release)
    _require(release, Release.Status.DRAFT, doing="check the prerequisites")
    release.status = Release.Status.PREREQUISITES_MET
    _save(release, user, "release.prerequisites_met", "status", **evaluation.summary())
    gate_request(target=release, gate_type=STAGING_GATE, subject=release.sha, requested_by=_requester(release, user))
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
    report = PrerequisiteReport.objects.create(
        release=release, kind=kind, outcome=outcome, sha=sha.lower(), observed_at=observed_at or timezone.now(),
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
    if report.sha.startswith(release.sha) or release.sha.startswith(report.sha):
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
    release = _lock(release)
    _require(release, Release.Status.DRAFT, Release.Status.TAGGED, Release.Status.APPROVED,
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


def _override_current_subject(override: PrerequisiteOverride) -> str:
    """An override binds to the SHA it was asked for: a new release SHA makes its gate stale."""
    return f"{override.prerequisite}@{override.release.sha}"


def _on_override_decided(gate: Gate, override: PrerequisiteOverride) -> None:
    override.state = (
        PrerequisiteOverride.State.APPROVED if gate.decision == "approve" else PrerequisiteOverride.State.DENIED
    )
    override.decided_by, override.decided_at = gate.decided_by, gate.decided_at
    override.save(update_fields=["state", "decided_by", "decided_at"])
    audit_record(
        action=f"release.override_{override.state}", target=override.release, actor=gate.decided_by,
        changes={"prerequisite": override.prerequisite, "override_id": override.pk}, message=gate.reason,
    )


# --- staging, tag, approval ---------------------------------------------------------------------------


def _tag_subject(release: Release) -> str:
    return f"{release.tag}@{release.sha}"


def _on_staging_decided(gate: Gate, release: Release) -> None:
    release = _lock(release)
    _require(release, Release.Status.PREREQUISITES_MET, doing="record the staging validation")
    if gate.decision == "ok":
        release.status = Release.Status.STAGING_VALIDATED
        _save(release, gate.decided_by, "release.staging_validated", "status", sha=release.sha)
        gate_request(target=release, gate_type=TAG_GATE, subject=_tag_subject(release),
                     requested_by=_requester(release, gate.decided_by))
        return
    release.status = Release.Status.DRAFT
    _save(release, gate.decided_by, "release.back_to_fix", "status", message=gate.reason)


def _on_tag_decided(gate: Gate, release: Release) -> None:
    release = _lock(release)
    _require(release, Release.Status.STAGING_VALIDATED, doing="tag")
    if gate.decision == "abort":
        _abort(release, gate.decided_by, gate.reason)
        return
    now = timezone.now()
    release.status, release.tagged_at, release.released_on = Release.Status.TAGGED, now, to_local(now).date()
    _save(release, gate.decided_by, "release.tagged", "status", "tagged_at", "released_on", tag=release.tag,
          sha=release.sha)
    release_id = release.pk
    transaction.on_commit(lambda: async_task("releases.tasks.publish_release_on_forge", release_id, group="forge"))
    approval = gate_request(target=release, gate_type=APPROVAL_GATE, subject=release.sha,
                            requested_by=_requester(release, gate.decided_by))
    _ask_approvers(release, approval)


def _ask_approvers(release: Release, approval: Gate) -> None:
    """Email the release approvers who may approve; the link only opens the page, deciding is a signed-in POST."""
    excluded = {release.author_id, approval.requested_by_id, *release.changes.values_list("author_id", flat=True),
                *release.changes.values_list("created_by_id", flat=True)}
    approvers = holders(DECIDE_RELEASE_GATE).exclude(email="")
    recipients = sorted({user.email for user in approvers if user.pk not in excluded})
    link = conf.base_url() + reverse("admin:formation_hub_gate_decide", args=[approval.pk])
    notify(
        kind="release.approval_requested", subject=f"Production approval wanted: v{release.version}",
        body=f"v{release.version} ({release.sha[:10]}) is tagged and waits for a production approval by a release "
        f"approver who is neither its author nor the author of a change it ships.\n\nReview and decide: {link}",
        recipients=recipients or None, dedupe_key=f"release-approval-{approval.pk}", target=release,
    )


def _check_approver(gate: Gate, release: Release, user) -> None:
    """The production approver is neither the release's author nor the author of a change it ships."""
    if release.author_id == user.pk:
        raise NotAllowed(f"You are the author of v{release.version}: another release approver must approve it.")
    if release.changes.filter(author=user).exists():
        raise NotAllowed(
            f"You authored a change shipped in v{release.version}: another release approver must approve it."
        )
    if release.changes.filter(created_by=user).exists():
        raise NotAllowed(
            f"You added a change shipped in v{release.version} (you merged or recorded it): another release "
            "approver must approve it."
        )


def _on_approval_decided(gate: Gate, release: Release) -> None:
    release = _lock(release)
    _require(release, Release.Status.TAGGED, doing="approve for production")
    if gate.decision == "deny":
        _abort(release, gate.decided_by, f"production approval denied: {gate.reason}")
        return
    evaluation = release_evaluation(release)
    if not evaluation.allowed:
        raise DomainError(f"Cannot approve now. {_failing_text(evaluation)}")
    release.status, release.approved_at = Release.Status.APPROVED, gate.decided_at
    release.approval_evidence = {**evaluation.summary(), "gate_id": gate.pk, "sha": release.sha}
    _save(release, gate.decided_by, "release.approved", "status", "approved_at", "approval_evidence",
          sha=release.sha, gate_id=gate.pk)


def _approval_problem(release: Release, now: datetime) -> str:
    """Why the production approval no longer holds, or '' (checked again inside the deploy step)."""
    gate = (
        Gate.objects.filter(object_id=str(release.pk), gate_type=APPROVAL_GATE, state=Gate.State.DECIDED)
        .order_by("-decided_at").first()
    )
    if gate is None or gate.decision != "approve" or release.approved_at is None:
        return "there is no production approval"
    if gate.subject != release.sha:
        return f"the approval was for {gate.subject[:10]} but the release now ships {release.sha[:10]}"
    expires = gate.decided_at + conf.approval_validity()
    if now >= expires:
        return f"the approval expired at {format_local(expires)}"
    evaluation = release_evaluation(release, at=now)
    if not evaluation.allowed:
        return "a prerequisite lapsed since the approval: " + _failing_text(evaluation)
    return ""


@transaction.atomic
def _approval_void(*, release: Release, reason: str, user=None) -> None:
    release = _lock(release)
    if release.status != Release.Status.APPROVED:
        return
    gate = (
        Gate.objects.filter(object_id=str(release.pk), gate_type=APPROVAL_GATE, state=Gate.State.DECIDED)
        .order_by("-decided_at").first()
    )
    release.status, release.approved_at, release.approval_evidence = Release.Status.TAGGED, None, {}
    _save(release, user, "release.approval_voided", "status", "approved_at", "approval_evidence", message=reason,
          voided_gate_id=getattr(gate, "pk", None))
    approval = gate_request(
        target=release, gate_type=APPROVAL_GATE, subject=release.sha,
        requested_by=_requester(release, user),
    )
    _ask_approvers(release, approval)


def approvals_expire() -> int:
    """Void the production approvals older than their validity (part of the minute schedule)."""
    voided = 0
    now = clock.now()
    for release in Release.objects.filter(status=Release.Status.APPROVED):
        problem = _approval_problem(release, now)
        if problem:
            _approval_void(release=release, reason=problem)
            voided += 1
    return voided


# --- deploy, smoke, watch -----------------------------------------------------------------------------


def release_deploy(*, release: Release, user) -> Release:
    """Deploy an approved release to production, then run the smoke tests.

    The approval is checked again here: bound to the SHA, not expired, every prerequisite still passing.
    A failed check voids it (the release goes back to 'tagged' with a new approval gate) and refuses.
    """
    deployment, problem = _deployment_start(release=release, user=user)
    if problem:
        # Voided in its own transaction so the void and its audit entry stay although the deploy is refused.
        _approval_void(release=release, reason=problem, user=user)
        audit_record(action="release.deploy_refused", target=release, actor=user,
                     result=AuditEntry.Result.REFUSED, message=problem)
        raise DomainError(f"Deploy refused: {problem}. The approval is void; a new one has been requested.")
    _deployment_call_hook(deployment=deployment, user=user)
    deployment.refresh_from_db()
    release.refresh_from_db()
    if deployment.result == Deployment.Result.SUCCEEDED:
        release_run_smoke(release=release, user=user)
        release.refresh_from_db()
    return release


@transaction.atomic
def _deployment_start(*, release: Release, user) -> tuple[Deployment | None, str]:
    """Under the release's lock: the approval re-check, then the deployment row (one per release)."""
    release = _lock(release)
    _require(release, Release.Status.APPROVED, doing="deploy")
    problem = _approval_problem(release, clock.now())
    if problem:
        return None, problem
    now = timezone.now()
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                release=release, environment=Deployment.Environment.PRODUCTION, version=release.version,
                sha=release.sha, started_by=user, started_at=now, hook_url=conf.deploy_hook_url(),
            )
    except IntegrityError:
        raise DomainError(f"v{release.version} is already being deployed.") from None
    release.status, release.deployed_at = Release.Status.DEPLOYING, now
    _save(release, user, "release.deploy_started", "status", "deployed_at", deployment_id=deployment.pk,
          sha=release.sha)
    return deployment, ""


def _hook_payload(deployment: Deployment, tag: str) -> dict:
    return {
        "action": deployment.action, "environment": deployment.environment, "version": deployment.version,
        "tag": tag, "sha": deployment.sha, "release_id": deployment.release_id, "deployment_id": deployment.pk,
    }


def _deployment_call_hook(*, deployment: Deployment, user, tag: str = "") -> None:
    """Call the deploy hook if configured and record its answer. A deploy calls it outside any lock (it may
    take seconds); a rollback calls it under the release's lock, so a second click waits instead of redeploying."""
    if not deployment.hook_url:
        _deployment_finish(deployment=deployment, user=user, ok=True, status=None,
                           answer="No deploy hook configured (RELEASE_DEPLOY_HOOK_URL): deployment recorded.")
        return
    payload = _hook_payload(deployment, tag or f"v{deployment.version}")
    answer = call_deploy_hook(url=deployment.hook_url, payload=payload)
    _deployment_finish(deployment=deployment, user=user, ok=answer.ok, status=answer.status, answer=answer.text)


@transaction.atomic
def _deployment_finish(*, deployment: Deployment, user, ok: bool, status: int | None, answer: str) -> None:
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    deployment.result = Deployment.Result.SUCCEEDED if ok else Deployment.Result.FAILED
    deployment.finished_at, deployment.hook_status, deployment.hook_response = timezone.now(), status, answer
    deployment.save(update_fields=["result", "finished_at", "hook_status", "hook_response"])
    audit_record(
        action=f"release.{deployment.action}_hook", target=deployment.release, actor=user,
        result=AuditEntry.Result.OK if ok else AuditEntry.Result.FAILED,
        changes={"deployment_id": deployment.pk, "url": deployment.hook_url, "status": status}, message=answer[:500],
    )
    if not ok and deployment.action == Deployment.Action.DEPLOY:
        release = _lock(deployment.release)
        release.status = Release.Status.APPROVED
        _save(release, user, "release.deploy_failed", "status", message=answer[:500], deployment_id=deployment.pk)


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
    release.refresh_from_db()
    _require(release, Release.Status.DEPLOYING, doing="run the smoke tests")
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
    release = _lock(release)
    _require(release, Release.Status.DEPLOYING, doing="start the watch")
    release.status = Release.Status.SMOKE_PASSED
    _save(release, user, "release.smoke_passed", "status")
    release.status, release.watch_started_at = Release.Status.WATCHING, timezone.now()
    release.rollback_proposed_at, release.rollback_proposal = None, ""
    _save(release, user, "release.watch_started", "status", "watch_started_at", "rollback_proposed_at",
          "rollback_proposal", watch_ends_at=release.watch_started_at + conf.watch_duration())
    gate_request(target=release, gate_type=WATCH_GATE, subject=release.sha, requested_by=_requester(release, user))


def _rollback_page_key(release: Release) -> str:
    return f"release-{release.pk}-rollback-proposed"


@transaction.atomic
def _propose_rollback(*, release: Release, why: str, failed: str = "") -> None:
    """Record the rollback proposal on the release and page on-call (once per release)."""
    release = _lock(release)
    if release.rollback_proposed_at is None:
        release.rollback_proposed_at, release.rollback_proposal = timezone.now(), why[:2000]
        _save(release, None, "release.rollback_proposed", "rollback_proposed_at", "rollback_proposal", message=why)
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


def _on_watch_decided(gate: Gate, release: Release) -> None:
    if gate.decision == "roll_back":
        _rollback(release=_lock(release), user=gate.decided_by, reason=gate.reason)
        page_close(dedupe_key=_rollback_page_key(release), user=gate.decided_by, why="rolled back")
        return
    release = _lock(release)
    _require(release, Release.Status.WATCHING, doing="end the watch")
    ends = watch_ends_at(release)
    if timezone.now() < ends:
        raise DomainError(f"The watch period runs until {format_local(ends)}: it cannot be passed early.")
    missing = _watch_coverage_problem(release)
    if missing:
        raise DomainError(missing)
    release.status, release.released_at = Release.Status.RELEASED, timezone.now()
    _save(release, gate.decided_by, "release.released", "status", "released_at", sha=release.sha)
    page_close(dedupe_key=_rollback_page_key(release), user=gate.decided_by,
               why=f"v{release.version} judged all OK at the end of its watch")
    release_announce(release=release)


# --- rollback, abort, announcement --------------------------------------------------------------------


@transaction.atomic
def release_rollback(*, release: Release, user, reason: str) -> Release:
    """Redeploy the previous stable release and open an incident linked to this one."""
    release = _lock(release)
    release = _rollback(release=release, user=user, reason=reason)
    page_close(dedupe_key=_rollback_page_key(release), user=user, why="rolled back")
    return release


def _rollback(*, release: Release, user, reason: str) -> Release:
    _require(release, *ROLLBACKABLE, doing="roll back")
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
        raise DomainError(f"v{release.version} is already being rolled back.") from None
    release.status, release.ended_at, release.end_reason = Release.Status.ROLLED_BACK, timezone.now(), reason
    _save(release, user, "release.rolled_back", "status", "ended_at", "end_reason", message=reason,
          to_version=previous.version, deployment_id=deployment.pk)
    watch = pending_gate(target=release, gate_type=WATCH_GATE)
    if watch is not None:
        gate_void(gate=watch, reason="rolled back")
    _deployment_call_hook(deployment=deployment, user=user, tag=f"{release.tag}-rollback")
    incident_open(
        title=f"Release v{release.version} rolled back to v{previous.version}", severity="SEV2", source="release",
        service=INCIDENT_SERVICE, category="release",
        description=f"{reason}\n\nRolled back by {user or 'the system'}; rollback deployment #{deployment.pk}.",
        reported_by=user, related_object=release, user_facing=True,
    )
    return release


def _abort(release: Release, user, reason: str) -> None:
    release.status, release.ended_at, release.end_reason = Release.Status.ABORTED, timezone.now(), reason
    _save(release, user, "release.aborted", "status", "ended_at", "end_reason", message=reason)
    for gate in Gate.objects.filter(object_id=str(release.pk), state=Gate.State.PENDING,
                                    gate_type__in=(STAGING_GATE, TAG_GATE, APPROVAL_GATE)):
        gate_void(gate=gate, reason="release aborted")
    if release.tagged_at is None:
        # Never tagged: its changes go back under Unreleased for the next release.
        release.changes.update(release=None)


@transaction.atomic
def release_abort(*, release: Release, user, reason: str) -> Release:
    release = _lock(release)
    _require(release, *PRE_DEPLOY, doing="abort")
    if not reason.strip():
        raise DomainError("Say why the release is aborted.")
    _abort(release, user, reason.strip())
    return release


def release_notes(release: Release) -> str:
    """The release's changelog section, without its title: the body of the announcement."""
    section = keepachangelog.Section(version=release.version, released_on=release.released_on)
    for change in release.changes.all():
        keepachangelog.add_entry(section, change.type, change.text)
    return keepachangelog.render_entries(section)


def release_announce(*, release: Release):
    """Post the release notes (its changelog section) to the team channel, once."""
    notes = release_notes(release) or "Maintenance release (no user-visible change)."
    title = f" - {release.title}" if release.title else ""
    notification = notify_team(
        kind="release.announced", subject=f"Released v{release.version}{title}",
        body=f"v{release.version} is live in production ({release.sha[:10]}).\n\n{notes}",
        dedupe_key=f"release-{release.pk}-announced", target=release,
    )
    notify(
        kind="release.live", subject=f"New version live: v{release.version}",
        body=f"v{release.version} passed its watch period and is released.\n\n{notes}",
        dedupe_key=f"release-{release.pk}-live", target=release,
    )
    return notification


# --- changelog ----------------------------------------------------------------------------------------


def changelog_document() -> keepachangelog.Changelog:
    """CHANGELOG.md from the database: Unreleased, then each tagged release, highest version first."""
    document = keepachangelog.Changelog(sections=[])
    unreleased = document.unreleased
    pending = Change.objects.filter(Q(release__isnull=True) | Q(release__released_on__isnull=True))
    for change in pending.order_by("created_at", "id"):
        keepachangelog.add_entry(unreleased, change.type, change.text)
    releases = list(Release.objects.filter(released_on__isnull=False).prefetch_related("changes"))
    releases.sort(key=lambda release: release.semver, reverse=True)
    for release in releases:
        section = keepachangelog.Section(
            version=release.version, released_on=release.released_on,
            yanked=release.status in (Release.Status.ROLLED_BACK, Release.Status.ABORTED),
        )
        for change in release.changes.all():
            keepachangelog.add_entry(section, change.type, change.text)
        document.sections.append(section)
    return document


def changelog_render() -> str:
    return keepachangelog.render(changelog_document())


@transaction.atomic
def changelog_import(*, text: str, user) -> str:
    """Import an existing CHANGELOG.md: each version becomes a released release with its changes, the
    Unreleased entries become unreleased changes. Versions already known are skipped (re-import is a no-op)."""
    document = keepachangelog.parse(text)
    known = existing_versions()
    created_releases = created_changes = 0
    for section in document.sections:
        if section.version is None:
            existing = set(Change.objects.filter(release__isnull=True).values_list("type", "text"))
            for heading, entries in section.entries.items():
                for entry in entries:
                    kind, line = keepachangelog.change_of_entry(heading, entry)
                    if (kind, line) not in existing:
                        Change.objects.create(type=kind, text=line, source=Change.Source.IMPORT, created_by=user)
                        created_changes += 1
            continue
        version = parse_version(section.version)
        if any(version.compare(other) == 0 for other in known):
            continue
        release = Release.objects.create(
            version=section.version, imported=True, released_on=section.released_on, author=None,
            status=Release.Status.ROLLED_BACK if section.yanked else Release.Status.RELEASED,
        )
        created_releases += 1
        for heading, entries in section.entries.items():
            for entry in entries:
                kind, line = keepachangelog.change_of_entry(heading, entry)
                Change.objects.create(release=release, type=kind, text=line, source=Change.Source.IMPORT)
                created_changes += 1
    summary = f"{created_releases} release(s) and {created_changes} change(s) imported."
    audit_record(action="release.changelog_imported", actor=user, message=summary,
                 changes={"releases": created_releases, "changes": created_changes})
    return summary


# --- gate types (registered from ReleasesConfig.ready) -----------------------------------------------

GATE_TYPES = (
    GateType(
        name=STAGING_GATE, label="staging validation", decisions=("ok", "back_to_fix"), permission=DECIDE_RELEASE_GATE,
        current_subject=lambda release: release.sha, on_decided=_on_staging_decided,
        reason_required_for=("back_to_fix",),
    ),
    GateType(
        name=TAG_GATE, label="tag", decisions=("release", "abort"), permission=DECIDE_RELEASE_GATE,
        current_subject=_tag_subject, on_decided=_on_tag_decided, reason_required_for=("abort",),
    ),
    GateType(
        name=APPROVAL_GATE, label="production approval", decisions=("approve", "deny"), permission=DECIDE_RELEASE_GATE,
        current_subject=lambda release: release.sha, check_decider=_check_approver,
        on_decided=_on_approval_decided, reason_required_for=("deny",),
    ),
    GateType(
        name=WATCH_GATE, label="end of the watch period", decisions=("all_ok", "roll_back"),
        permission=DECIDE_RELEASE_GATE,
        current_subject=lambda release: release.sha, on_decided=_on_watch_decided,
        reason_required_for=("roll_back",),
    ),
    GateType(
        name=OVERRIDE_GATE, label="prerequisite override", decisions=("approve", "deny"),
        permission=DECIDE_RELEASE_GATE,
        current_subject=_override_current_subject, on_decided=_on_override_decided,
    ),
)
