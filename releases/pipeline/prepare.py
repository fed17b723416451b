"""Preparing a release: its changes, its version (proposed, normal or hotfix), its SHA, and aborting it
before it is deployed."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import gate_void
from formation_hub.models import Gate
from releases.models import Change, Release
from releases.pipeline.state import (
    APPROVAL_GATE,
    CHANGE_RELEASE,
    PRE_DEPLOY,
    STAGING_GATE,
    TAG_GATE,
    release_lock,
    release_require,
    release_save,
)
from releases.rules.semver import Level, level_of, propose_next, validate_successor
from releases.selectors import existing_versions, last_release_version, last_stable_release, unreleased_changes


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
    require(user, "releases.add_release", doing="prepare a release")
    changes = list(unreleased_changes().select_for_update(of=("self",)))
    level = level_of(change.type for change in changes)
    if kind == Release.Kind.HOTFIX:
        chosen, base = _hotfix_version(changes, level)
    else:
        in_flight = Release.objects.filter(kind=Release.Kind.NORMAL, imported=False).exclude(
            status__in=Release.FINAL
        ).first()
        if in_flight is not None:
            raise DomainError(f"Release v{in_flight.version} is still in flight: release or abort it first.")
        chosen, base = _normal_version(changes, version, version_reason), ""
    taken = next((other for other in existing_versions() if chosen.compare(other) == 0), None)
    if taken is not None:
        raise DomainError(
            f"Version v{chosen} is already taken (v{taken}, perhaps a hotfix in flight): finish it, or choose the next "
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
        raise DomainError(
            f"Release v{version} already exists: finish or abort it before another hotfix of v{base.version}."
        )
    return version, base.version


@transaction.atomic
def release_set_sha(*, release: Release, sha: str, user) -> Release:
    """Point the release at another commit: every gate and approval given on the old SHA is void."""
    require(user, CHANGE_RELEASE, doing="change a release's SHA")
    release = release_lock(release)
    release_require(release, *PRE_DEPLOY, doing="change the SHA")
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
    release_save(
        release, user, "release.sha_changed", "sha", "status", "approved_at", "approval_evidence", old=old, new=sha
    )
    return release


def release_abort_locked(release: Release, user, reason: str) -> None:
    release.status, release.ended_at, release.end_reason = Release.Status.ABORTED, timezone.now(), reason
    release_save(release, user, "release.aborted", "status", "ended_at", "end_reason", message=reason)
    for gate in Gate.objects.filter(object_id=str(release.pk), state=Gate.State.PENDING,
                                    gate_type__in=(STAGING_GATE, TAG_GATE, APPROVAL_GATE)):
        gate_void(gate=gate, reason="release aborted")
    if release.tagged_at is None:
        # Never tagged: its changes go back under Unreleased for the next release.
        release.changes.update(release=None)


@transaction.atomic
def release_abort(*, release: Release, user, reason: str) -> Release:
    require(user, CHANGE_RELEASE, doing="abort a release")
    release = release_lock(release)
    release_require(release, *PRE_DEPLOY, doing="abort")
    if not reason.strip():
        raise DomainError("Say why the release is aborted.")
    release_abort_locked(release, user, reason.strip())
    return release
