"""Staging validation, the tag and the production approval: what each decision of these gates does, and
how an approval expires or is voided."""

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from formation_hub.access.permissions import holders
from formation_hub.console.timefmt import format_local, to_local
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import gate_request
from formation_hub.models import Gate
from formation_hub.notifications import notify
from releases import conf
from releases.models import Release
from releases.pipeline import clock
from releases.pipeline.prepare import release_abort_locked
from releases.pipeline.state import (
    APPROVAL_GATE,
    DECIDE_RELEASE_GATE,
    TAG_GATE,
    failing_text,
    release_lock,
    release_requester,
    release_require,
    release_save,
)
from releases.selectors import release_evaluation


def tag_subject(release: Release) -> str:
    return f"{release.tag}@{release.sha}"


def on_staging_decided(gate: Gate, release: Release) -> None:
    release = release_lock(release)
    release_require(release, Release.Status.PREREQUISITES_MET, doing="record the staging validation")
    if gate.decision == "ok":
        release.status = Release.Status.STAGING_VALIDATED
        release_save(release, gate.decided_by, "release.staging_validated", "status", sha=release.sha)
        gate_request(target=release, gate_type=TAG_GATE, subject=tag_subject(release),
                     requested_by=release_requester(release, gate.decided_by))
        return
    release.status = Release.Status.DRAFT
    release_save(release, gate.decided_by, "release.back_to_fix", "status", message=gate.reason)


def on_tag_decided(gate: Gate, release: Release) -> None:
    release = release_lock(release)
    release_require(release, Release.Status.STAGING_VALIDATED, doing="tag")
    if gate.decision == "abort":
        release_abort_locked(release, gate.decided_by, gate.reason)
        return
    now = timezone.now()
    release.status, release.tagged_at, release.released_on = Release.Status.TAGGED, now, to_local(now).date()
    release_save(release, gate.decided_by, "release.tagged", "status", "tagged_at", "released_on", tag=release.tag,
                 sha=release.sha)
    release_id = release.pk
    transaction.on_commit(lambda: async_task("releases.tasks.publish_release_on_forge", release_id, group="forge"))
    approval = gate_request(target=release, gate_type=APPROVAL_GATE, subject=release.sha,
                            requested_by=release_requester(release, gate.decided_by))
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


def approver_check(gate: Gate, release: Release, user) -> None:
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


def on_approval_decided(gate: Gate, release: Release) -> None:
    release = release_lock(release)
    release_require(release, Release.Status.TAGGED, doing="approve for production")
    if gate.decision == "deny":
        release_abort_locked(release, gate.decided_by, f"production approval denied: {gate.reason}")
        return
    evaluation = release_evaluation(release)
    if not evaluation.allowed:
        raise DomainError(f"Cannot approve now. {failing_text(evaluation)}")
    release.status, release.approved_at = Release.Status.APPROVED, gate.decided_at
    release.approval_evidence = {**evaluation.summary(), "gate_id": gate.pk, "sha": release.sha}
    release_save(release, gate.decided_by, "release.approved", "status", "approved_at", "approval_evidence",
                 sha=release.sha, gate_id=gate.pk)


def approval_problem(release: Release, now: datetime) -> str:
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
        return "a prerequisite lapsed since the approval: " + failing_text(evaluation)
    return ""


@transaction.atomic
def approval_void(*, release: Release, reason: str, user=None) -> None:
    release = release_lock(release)
    if release.status != Release.Status.APPROVED:
        return
    gate = (
        Gate.objects.filter(object_id=str(release.pk), gate_type=APPROVAL_GATE, state=Gate.State.DECIDED)
        .order_by("-decided_at").first()
    )
    release.status, release.approved_at, release.approval_evidence = Release.Status.TAGGED, None, {}
    release_save(release, user, "release.approval_voided", "status", "approved_at", "approval_evidence", message=reason,
                 voided_gate_id=getattr(gate, "pk", None))
    approval = gate_request(
        target=release, gate_type=APPROVAL_GATE, subject=release.sha,
        requested_by=release_requester(release, user),
    )
    _ask_approvers(release, approval)


def approvals_expire() -> int:
    """Void the production approvals older than their validity (part of the minute schedule)."""
    voided = 0
    now = clock.now()
    for release in Release.objects.filter(status=Release.Status.APPROVED):
        problem = approval_problem(release, now)
        if problem:
            approval_void(release=release, reason=problem)
            voided += 1
    return voided
