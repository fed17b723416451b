"""Dependency bump services: intake (console, API, webhook), the path of each category, merge, queue.

The category (releases.rules.bumps.categorise) decides the path: security merges by itself once CI is green;
patch and minor wait for a review gate (merge / hold / close); major, runtime LTS and database major for a
go/no-go gate with a migration note; upstream images for a staging test gate (ok / back). A merge also
needs CI green, and for a production bump not Friday (the release calendar, prerequisites.evaluate) and,
for a database major, a verified backup (the release prerequisite). At most BUMP_OPEN_LIMIT bumps are open
per ecosystem; the others are queued and promoted, oldest first, as open ones merge or close.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import gate_request, gate_void, get_gate_type, pending_gate
from formation_hub.models import Gate
from releases import clock, conf
from releases.delivery.bump_checks import backup_problem, bump_categories, production_calendar_problem
from releases.delivery.bump_queue import (
    advisories_clean,
    bump_lock,
    bump_waiting,
    ecosystem_lock,
    group_follow,
    group_member_add,
    group_members,
    group_path_set,
    open_count,
)
from releases.delivery.forge import ForgeMerge, merge_pull_request
from releases.models import Change, DependencyBump
from releases.pipeline.prepare import change_add
from releases.rules.bumps import Category, Path, Severity, categorise

DECIDE_DELIVERY_GATE = "releases.decide_delivery_gate"


ADD_BUMP, CHANGE_BUMP = "releases.add_dependencybump", "releases.change_dependencybump"


REVIEW_GATE = "delivery.bump_review"


GO_GATE = "delivery.bump_go"


STAGING_GATE = "delivery.bump_staging"


# bump-deps.md, major sequence step 5 and its gate table: after the go, a staging sign-off (OK / RETOUR).
MAJOR_STAGING_GATE = "delivery.bump_major_staging"


# A critical CVE may not wait for Monday: a second release approver may allow a Friday or weekend merge.
FRIDAY_GATE = "delivery.bump_friday_override"


FRIDAY_OVERRIDE_VALID = timedelta(days=4)


BUMP_GATES = (REVIEW_GATE, GO_GATE, STAGING_GATE, MAJOR_STAGING_GATE, FRIDAY_GATE)


GATE_OF_PATH = {Path.REVIEW: REVIEW_GATE, Path.GO_NO_GO: GO_GATE, Path.STAGING_TEST: STAGING_GATE}


State = DependencyBump.State


CI_PHRASES = {"unknown": "CI has not run", "pending": "CI is running", "red": "CI is red", "green": "CI is green"}


@dataclass(frozen=True)
class Intake:
    bump: DependencyBump
    created: bool


def bump_create(
    *, package: str, ecosystem: str, from_version: str, to_version: str, advisories=(),
    severity: str = Severity.NONE, scope: str = DependencyBump.Scope.PRODUCTION,
    source: str = DependencyBump.Source.MANUAL, pull_request_url: str = "", ci_status: str = "", user=None,
    group_name: str = "", group_members: Sequence[tuple[str, str, str]] = (),
) -> Intake:
    """Record a bump with its computed category. The same pull request returns the bump it already made.

    A grouped update is one bump per package: this one leads (the pull request, its one gate, CI, merge) and
    `group_members` (package, from, to) follow it; the group takes the path of its strictest package.
    """
    require(user, ADD_BUMP, doing="record a dependency bump")
    advisories = advisories_clean(advisories)
    if severity not in dict(Severity.CHOICES):
        raise DomainError(f"Unknown severity '{severity}': use one of {', '.join(dict(Severity.CHOICES))}.")
    if advisories and severity == Severity.NONE:
        severity = Severity.UNKNOWN
    if scope not in DependencyBump.Scope.values:
        raise DomainError(f"Unknown scope '{scope}': production or development.")
    if ci_status and ci_status not in DependencyBump.CiStatus.values:
        raise DomainError(f"Unknown CI status '{ci_status}': use one of {', '.join(DependencyBump.CiStatus.values)}.")
    pull_request_url = pull_request_url.strip()
    if pull_request_url:
        known = DependencyBump.objects.filter(pull_request_url=pull_request_url).first()
        if known is not None:
            return Intake(known, False)
    categorisation = categorise(package=package, ecosystem=ecosystem, from_version=from_version,
                                to_version=to_version, severity=severity, advisories=tuple(advisories))
    path, explanation = _declared_by_hand(categorisation.path, categorisation.explanation, user=user, source=source)
    try:
        with transaction.atomic():
            ecosystem_lock(ecosystem)
            full = open_count(ecosystem) >= conf.bump_open_limit()
            bump = DependencyBump.objects.create(
                package=package.strip()[:200], ecosystem=ecosystem, from_version=from_version.strip(),
                to_version=to_version.strip(), advisories=advisories, severity=severity, scope=scope,
                source=source, pull_request_url=pull_request_url, category=categorisation.category,
                path=path, explanation=explanation,
                state=State.QUEUED if full else State.OPEN, ci_status=ci_status or DependencyBump.CiStatus.UNKNOWN,
                created_by=user, group_name=group_name[:100],
            )
            audit_record(
                action="bump.created", target=bump, actor=user, actor_label=f"releases:{source}",
                changes={"category": bump.category, "path": bump.path, "state": bump.state, "scope": scope,
                         "severity": severity, "advisories": advisories, "pull_request": pull_request_url},
                message=explanation,
            )
            for member in group_members:
                group_member_add(bump, *member, user=user)
            if group_members:
                group_path_set(bump, user)
            if bump.state == State.OPEN:
                path_start(bump, user)
    except IntegrityError:
        # The same pull request delivered twice at once: the other delivery made the bump.
        known = DependencyBump.objects.filter(pull_request_url=pull_request_url).first()
        if known is None:
            raise
        return Intake(known, False)
    return Intake(bump, True)


def _declared_by_hand(path: str, explanation: str, *, user, source: str) -> tuple[str, str]:
    """A severity a person typed in the console never merges alone: the security auto-merge becomes a
    review, requested by that person, so a second release approver confirms it."""
    if path != Path.AUTO_MERGE or user is None or source != DependencyBump.Source.MANUAL:
        return path, explanation
    return Path.REVIEW, (f"{explanation} Its severity was set by hand ({user.get_username()}): a second "
                         "release approver confirms it in a review before it merges.")


def path_start(bump: DependencyBump, user) -> None:
    if bump.group_lead_id is not None:
        bump_waiting(bump, f"its group, on {bump.group_lead}")
        return
    gate_type = GATE_OF_PATH.get(bump.path)
    if gate_type is None:
        merge_if_ready(bump, user)
        return
    gate_request(target=bump, gate_type=gate_type, subject=bump.subject, requested_by=user or bump.created_by)
    bump_waiting(bump, f"{get_gate_type(gate_type).label} gate")


RECATEGORISABLE = (State.QUEUED, State.OPEN, State.HELD)


def recategorise(bump: DependencyBump, user, *, action: str, by_hand: bool = False, **changes) -> DependencyBump:
    """Apply new versions or a new severity: the category is computed again and a gate asked on the old
    subject is void; an open bump starts its (maybe other) path again."""
    if bump.state not in RECATEGORISABLE:
        raise DomainError(
            f"{bump} is {bump.get_state_display()}: its versions and severity are settled (close it and record "
            "a new bump instead)."
        )
    values = {name: getattr(bump, name) for name in ("from_version", "to_version", "severity", "advisories")}
    values.update(changes)
    categorisation = categorise(package=bump.package, ecosystem=bump.ecosystem, from_version=values["from_version"],
                                to_version=values["to_version"], severity=values["severity"],
                                advisories=tuple(values["advisories"]))
    old = {"category": bump.category, **{name: getattr(bump, name) for name in changes}}
    for name, value in values.items():
        setattr(bump, name, value)
    bump.category, bump.path = categorisation.category, categorisation.path
    bump.explanation = categorisation.explanation
    if by_hand:
        bump.path, bump.explanation = _declared_by_hand(bump.path, bump.explanation, user=user,
                                                        source=DependencyBump.Source.MANUAL)
    bump.save(update_fields=[*values, "category", "path", "explanation"])
    group_path_set(bump, user)
    audit_record(action=action, target=bump, actor=user, changes={"old": old, "new": {**changes,
                                                                                       "category": bump.category}},
                 message=bump.explanation)
    for gate_type in BUMP_GATES:
        gate = pending_gate(target=bump, gate_type=gate_type)
        if gate is not None:
            gate_void(gate=gate, reason=f"recategorised: {bump.subject}, {bump.category}")
    if bump.state == State.OPEN:
        path_start(bump, user)
    return bump


@transaction.atomic
def bump_set_severity(*, bump: DependencyBump, severity: str, user, advisories=None) -> DependencyBump:
    """Set the advisory severity (and ids) once known: high or critical may make it a security bump."""
    require(user, CHANGE_BUMP, doing="set a bump's severity")
    if severity not in dict(Severity.CHOICES):
        raise DomainError(f"Unknown severity '{severity}': use one of {', '.join(dict(Severity.CHOICES))}.")
    changes = {"severity": severity}
    if advisories is not None:
        changes["advisories"] = advisories_clean(advisories)
    return recategorise(bump_lock(bump), user, action="bump.severity_set", by_hand=True, **changes)


@transaction.atomic
def bump_update_versions(*, bump: DependencyBump, from_version: str, to_version: str, user=None) -> DependencyBump:
    """The pull request now bumps to other versions (Dependabot rebased it on a newer release)."""
    bump = bump_lock(bump)
    if (bump.from_version, bump.to_version) == (from_version.strip(), to_version.strip()):
        return bump
    return recategorise(bump, user, action="bump.versions_changed", from_version=from_version.strip(),
                        to_version=to_version.strip())


def merge_blockers(bump: DependencyBump, *, at: datetime | None = None) -> list[str]:
    """Everything that stops this bump from merging now (empty: it may merge)."""
    at = at or clock.now()
    blockers = []
    if bump.state in DependencyBump.FINAL_STATES:
        return [f"The bump is {bump.get_state_display()}."]
    if bump.group_lead_id is not None:
        return [f"It merges with its {bump.group_name} group: merge {bump.group_lead} instead."]
    if bump.state == State.QUEUED:
        blockers.append(f"Queued: {conf.bump_open_limit()} {bump.get_ecosystem_display()} bumps are open already.")
    if bump.state == State.HELD:
        blockers.append("Held: ask for its decision again first.")
    if bump.state == State.OPEN and bump.path != Path.AUTO_MERGE:
        waiting = pending_gate(target=bump, gate_type=MAJOR_STAGING_GATE)
        gate_type = MAJOR_STAGING_GATE if waiting is not None else GATE_OF_PATH[bump.path]
        blockers.append(f"Waits for its {get_gate_type(gate_type).label} gate.")
    if bump.ci_status != DependencyBump.CiStatus.GREEN:
        blockers.append(f"{CI_PHRASES[bump.ci_status]}: a bump merges on green CI only.")
    if bump.scope == DependencyBump.Scope.PRODUCTION:
        problem = production_calendar_problem(at)
        if problem and not friday_override_granted(bump, at=at):
            blockers.append(problem)
    if Category.DATABASE_MAJOR in bump_categories(bump):
        problem = backup_problem(at)
        if problem:
            blockers.append(problem)
    return blockers


def friday_override_granted(bump: DependencyBump, *, at: datetime) -> bool:
    """A second release approver allowed this bump (these versions) to merge despite the calendar, lately."""
    return Gate.objects.filter(
        object_id=str(bump.pk), gate_type=FRIDAY_GATE, state=Gate.State.DECIDED, decision="allow",
        subject=bump.subject, decided_at__gte=at - FRIDAY_OVERRIDE_VALID,
    ).exists()


@transaction.atomic
def bump_request_friday_override(*, bump: DependencyBump, user, reason: str) -> Gate:
    """Ask a second release approver to let a critical security bump merge on a Friday or a weekend."""
    require(user, CHANGE_BUMP, doing="ask for a Friday merge")
    bump = bump_lock(bump)
    if bump.category != Category.SECURITY or bump.severity != Severity.CRITICAL:
        raise DomainError(f"{bump} is not a critical security bump: it waits for Monday like the others.")
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is {bump.get_state_display()}.")
    if not production_calendar_problem(clock.now()) or bump.scope != DependencyBump.Scope.PRODUCTION:
        raise DomainError(f"The calendar does not hold {bump} back now: no override needed.")
    if not reason.strip():
        raise DomainError("Say why this CVE cannot wait for Monday (exposure, exploit seen, ...).")
    gate = gate_request(target=bump, gate_type=FRIDAY_GATE, subject=bump.subject, requested_by=user)
    audit_record(action="bump.friday_override_requested", target=bump, actor=user, message=reason.strip())
    bump_waiting(bump, f"Friday override asked by {user}: a second release approver decides. {bump.waiting_for}")
    return gate


def merge_if_ready(bump: DependencyBump, user) -> bool:
    blockers = merge_blockers(bump)
    if blockers:
        text = " ".join(blockers)
        if bump.waiting_for != text[:300]:
            bump_waiting(bump, text)
            audit_record(action="bump.merge_waiting", target=bump, actor=user, changes={"blockers": blockers},
                         message=text)
        return False
    return _merge(bump, user).merged


def _changelog_line(bump: DependencyBump) -> tuple[str, str]:
    text = f"Bump {bump.package} from {bump.from_version} to {bump.to_version}"
    if bump.advisories:
        text += f" ({', '.join(bump.advisories)})"
    if bump.category == Category.SECURITY:
        return Change.Type.SECURITY, text
    if bump.category == Category.UPSTREAM_IMAGE:
        return Change.Type.CHANGE, text
    return Change.Type.CHORE, text


def _merge(bump: DependencyBump, user) -> ForgeMerge:
    """Merge the pull request on the forge; only a merge the forge confirmed is recorded (and claimed in the
    changelog). A refusal leaves the bump where it was, waiting with the forge's reason."""
    merge = merge_pull_request(target=bump, pull_request_url=bump.pull_request_url, title=f"Bump {bump.subject}",
                               actor=user)
    if merge.merged:
        merged_record(bump, user, merge_sha=merge.sha)
    elif bump.waiting_for != merge.problem[:300]:
        bump_waiting(bump, merge.problem)
    return merge


def merged_record(bump: DependencyBump, user, *, merge_sha: str = "") -> None:
    bump.state, bump.merged_at, bump.waiting_for = State.MERGED, timezone.now(), ""
    fields = ["state", "merged_at", "waiting_for"]
    if bump.scope == DependencyBump.Scope.PRODUCTION:
        kind, text = _changelog_line(bump)
        pull_request_url = bump.group_lead.pull_request_url if bump.group_lead_id else bump.pull_request_url
        bump.change = change_add(type=kind, text=text, reference=pull_request_url[:200] or f"bump-{bump.pk}",
                                 author=bump.created_by, user=user, source=Change.Source.BUMP)
        fields.append("change")
    bump.save(update_fields=fields)
    audit_record(action="bump.merged", target=bump, actor=user, actor_label="releases:bumps",
                 changes={"category": bump.category, "automatic": user is None, "merge_sha": merge_sha})
    for member in group_members(bump):
        merged_record(member, user, merge_sha=merge_sha)
    _promote(bump.ecosystem, user)


@transaction.atomic
def bump_merge(*, bump: DependencyBump, user) -> DependencyBump:
    """Merge now, from the console: refused with every reason it may not."""
    require(user, CHANGE_BUMP, doing="merge a dependency bump")
    bump = bump_lock(bump)
    blockers = merge_blockers(bump)
    if blockers:
        raise DomainError(f"{bump} cannot merge now. " + " ".join(blockers))
    merge = _merge(bump, user)
    if not merge.merged:
        raise DomainError(f"{bump} did not merge. {merge.problem}")
    return bump


@transaction.atomic
def bump_ci_report(*, bump: DependencyBump, status: str) -> DependencyBump:
    """CI's result on the bump's pull request (from CI, never a person); green merges a bump whose path is
    satisfied."""
    if status not in DependencyBump.CiStatus.values:
        raise DomainError(f"Unknown CI status '{status}': use one of {', '.join(DependencyBump.CiStatus.values)}.")
    bump = bump_lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is {bump.get_state_display()}: its CI no longer matters.")
    bump.ci_status = status
    bump.save(update_fields=["ci_status"])
    audit_record(action="bump.ci_reported", target=bump, actor_label="releases:ci", changes={"status": status})
    group_follow(bump, None, ci_status=status)
    ready = bump.state == State.APPROVED or (bump.state == State.OPEN and bump.path == Path.AUTO_MERGE)
    if ready:
        merge_if_ready(bump, None)
    return bump


@transaction.atomic
def bump_close(*, bump: DependencyBump, user, reason: str) -> DependencyBump:
    require(user, CHANGE_BUMP, doing="close a dependency bump")
    bump = bump_lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is already {bump.get_state_display()}.")
    if not reason.strip():
        raise DomainError("Say why the bump is closed.")
    bump_close_locked(bump, user, reason.strip())
    return bump


def bump_close_locked(bump: DependencyBump, user, reason: str) -> None:
    bump.state, bump.closed_at, bump.waiting_for = State.CLOSED, timezone.now(), ""
    bump.save(update_fields=["state", "closed_at", "waiting_for"])
    for gate_type in BUMP_GATES:
        gate = pending_gate(target=bump, gate_type=gate_type)
        if gate is not None:
            gate_void(gate=gate, reason="bump closed")
    audit_record(action="bump.closed", target=bump, actor=user, message=reason)
    for member in group_members(bump):
        bump_close_locked(member, user, reason)
    _promote(bump.ecosystem, user)


@transaction.atomic
def bump_ask_again(*, bump: DependencyBump, user) -> DependencyBump:
    """A held bump goes back to its gate (a new decision, for example after a fix or a new changelog read)."""
    require(user, CHANGE_BUMP, doing="ask again for a bump's decision")
    bump = bump_lock(bump)
    if bump.state != State.HELD:
        raise DomainError(f"{bump} is {bump.get_state_display()}: only a held bump is asked again.")
    bump.state = State.OPEN
    bump.save(update_fields=["state"])
    audit_record(action="bump.asked_again", target=bump, actor=user)
    group_follow(bump, user, state=State.OPEN)
    path_start(bump, user)
    return bump


@transaction.atomic
def bump_set_migration_note(*, bump: DependencyBump, note: str, user) -> DependencyBump:
    require(user, CHANGE_BUMP, doing="write a bump's migration note")
    bump = bump_lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is {bump.get_state_display()}.")
    bump.migration_note = note.strip()
    bump.save(update_fields=["migration_note"])
    audit_record(action="bump.migration_note_set", target=bump, actor=user, message=bump.migration_note[:500])
    return bump


def _promote(ecosystem: str, user) -> None:
    """Open queued bumps, oldest first, while the ecosystem has free slots."""
    ecosystem_lock(ecosystem)
    free = conf.bump_open_limit() - open_count(ecosystem)
    if free <= 0:
        return
    queued = DependencyBump.objects.select_for_update().filter(ecosystem=ecosystem, state=State.QUEUED,
                                                                group_lead__isnull=True)
    for bump in queued.order_by("created_at", "id")[:free]:
        bump.state = State.OPEN
        bump.save(update_fields=["state"])
        audit_record(action="bump.promoted", target=bump, actor_label="releases:bumps",
                     message="A slot freed: out of the queue.")
        group_follow(bump, None, state=State.OPEN)
        path_start(bump, user=None)
