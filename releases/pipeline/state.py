"""What every step of the pipeline shares: the gate and permission names, the status groups, and the
guards each write goes through (lock the release, require a status, save with its audit entry)."""

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from releases.models import Release
from releases.rules.prerequisites import LABELS, Evaluation

DECIDE_RELEASE_GATE = "releases.decide_release_gate"


ROLLBACK_RELEASE = "releases.rollback_release"
# Every step a person takes on a release (prepare, check, deploy, smoke, abort, ask for an override).
CHANGE_RELEASE = "releases.change_release"


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


def release_lock(release: Release) -> Release:
    return Release.objects.select_for_update().get(pk=release.pk)


def release_require(release: Release, *statuses, doing: str) -> None:
    if release.status not in statuses:
        allowed = " or ".join(Release.Status(status).label for status in statuses)
        raise DomainError(
            f"Release v{release.version} is {release.get_status_display()}: you can {doing} only when it is {allowed}."
        )


def release_save(release: Release, user, action: str, *fields: str, message: str = "", **changes) -> None:
    release.save(update_fields=list(fields))
    audit_record(action=action, target=release, actor=user, changes=changes, message=message)


def failing_text(evaluation: Evaluation) -> str:
    lines = [f"{LABELS[result.name]}: {result.evidence}" for result in evaluation.failing]
    if evaluation.next_allowed_at is not None and evaluation.next_allowed_at != evaluation.at:
        lines.append(f"Next start the calendar and freeze windows allow: {format_local(evaluation.next_allowed_at)}.")
    return " ".join(lines)


def release_requester(release: Release, acting):
    """Who a gate the pipeline opens on a release is asked for: its author (who then may not decide it),
    else the person whose action opened it. Never the decider of the gate before (issue 16)."""
    return release.author or acting
