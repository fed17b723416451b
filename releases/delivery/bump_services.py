"""Dependency bump services: intake (console, API, webhook), the path of each category, merge, queue.

The category (releases.bumps.categorise) decides the path: security merges by itself once CI is green;
patch and minor wait for a review gate (merge / hold / close); major, runtime LTS and database major for a
go/no-go gate with a migration note; upstream images for a staging test gate (ok / back). A merge also
needs CI green, and for a production bump not Friday (the release calendar, prerequisites.evaluate) and,
for a database major, a verified backup (the release prerequisite). At most BUMP_OPEN_LIMIT bumps are open
per ecosystem; the others are queued and promoted, oldest first, as open ones merge or close.
"""

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from formation_hub import inbound
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.gates import GateType, gate_request, gate_void, get_gate_type, pending_gate
from formation_hub.models import AuditEntry, Gate
from formation_hub.notifications import notify
from formation_hub.permissions import require
from formation_hub.timefmt import format_local
from releases import conf
from releases.delivery import dependabot
from releases.delivery.bumps import NEEDS_MIGRATION_NOTE, Category, Path, Severity, categorise
from releases.delivery.forge import ForgeMerge, merge_pull_request
from releases.models import BumpWebhookDelivery, Change, DependencyBump, PrerequisiteReport
from releases.pipeline import clock
from releases.pipeline.prepare import change_add
from releases.rules.prerequisites import BACKUP, CALENDAR, ReleaseFacts, ReportFact, evaluate
from releases.selectors import current_rules

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
BACKUP_REPORTS = 20
CI_PHRASES = {"unknown": "CI has not run", "pending": "CI is running", "red": "CI is red", "green": "CI is green"}


@dataclass(frozen=True)
class Intake:
    bump: DependencyBump
    created: bool


def _clean_advisories(advisories) -> list[str]:
    if advisories is None:
        return []
    if isinstance(advisories, str):
        advisories = advisories.replace(",", " ").split()
    if not isinstance(advisories, list | tuple) or not all(isinstance(item, str) for item in advisories):
        raise DomainError("Advisories are a list of ids (GHSA-xxxx-xxxx-xxxx or CVE-YYYY-NNNN).")
    return sorted({item.strip().upper() for item in advisories if item.strip()})


def _lock_ecosystem(ecosystem: str) -> None:
    """Serialise the intakes and promotions of one ecosystem until the transaction ends, so two of them never
    both take the last open slot. Locking the open rows would not do: a row inserted meanwhile by the other
    transaction is not seen (PostgreSQL READ COMMITTED). SQLite serialises every write transaction anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"releases.bumps:{ecosystem}".encode())])


def _open_count(ecosystem: str) -> int:
    """Open bumps of the ecosystem, a grouped update counting once (like Dependabot's pull-request limit)."""
    return DependencyBump.objects.filter(ecosystem=ecosystem, state__in=DependencyBump.OPEN_STATES,
                                         group_lead__isnull=True).count()


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
    advisories = _clean_advisories(advisories)
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
            _lock_ecosystem(ecosystem)
            full = _open_count(ecosystem) >= conf.bump_open_limit()
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
                _group_member_add(bump, *member, user=user)
            if group_members:
                _group_path_set(bump, user)
            if bump.state == State.OPEN:
                _start_path(bump, user)
    except IntegrityError:
        # The same pull request delivered twice at once: the other delivery made the bump.
        known = DependencyBump.objects.filter(pull_request_url=pull_request_url).first()
        if known is None:
            raise
        return Intake(known, False)
    return Intake(bump, True)


def _group_member_add(lead: DependencyBump, package: str, from_version: str, to_version: str, *, user) -> None:
    categorisation = categorise(package=package, ecosystem=lead.ecosystem, from_version=from_version,
                                to_version=to_version, severity=lead.severity, advisories=tuple(lead.advisories))
    member = DependencyBump.objects.create(
        package=package.strip()[:200], ecosystem=lead.ecosystem, from_version=from_version.strip(),
        to_version=to_version.strip(), advisories=lead.advisories, severity=lead.severity, scope=lead.scope,
        source=lead.source, category=categorisation.category, path=categorisation.path,
        explanation=categorisation.explanation, state=lead.state, ci_status=lead.ci_status, created_by=user,
        group_name=lead.group_name, group_lead=lead, waiting_for=f"its group, on {lead}"[:300],
    )
    audit_record(action="bump.created", target=member, actor=user, actor_label=f"releases:{lead.source}",
                 changes={"category": member.category, "group": lead.group_name, "group_lead": lead.pk,
                          "pull_request": lead.pull_request_url},
                 message=f"{categorisation.explanation} Decided and merged with the {lead.group_name} group.")


STRICTNESS = (Path.AUTO_MERGE, Path.REVIEW, Path.STAGING_TEST, Path.GO_NO_GO)


def _members(bump: DependencyBump) -> list[DependencyBump]:
    """The other packages of the grouped update this bump leads (none for a plain bump), locked."""
    if not bump.group_name or bump.group_lead_id is not None:
        return []
    return list(DependencyBump.objects.select_for_update().filter(group_lead=bump).order_by("id"))


def _group_path_set(lead: DependencyBump, user) -> None:
    """The group's one gate is the one its strictest package needs (a major inside makes it a go/no-go)."""
    strictest = max([lead, *_members(lead)], key=lambda bump: STRICTNESS.index(bump.path))
    if strictest.path == lead.path:
        return
    lead.path = strictest.path
    lead.explanation = (f"{lead.explanation} The {lead.group_name} group follows its strictest package, "
                        f"{strictest}: {strictest.explanation}")
    lead.save(update_fields=["path", "explanation"])
    audit_record(action="bump.group_path_set", target=lead, actor=user, changes={"path": lead.path},
                 message=lead.explanation)


def _group_follow(lead: DependencyBump, user, **fields) -> None:
    """The group's other packages take the lead's new state or CI status."""
    for member in _members(lead):
        for name, value in fields.items():
            setattr(member, name, value)
        member.save(update_fields=list(fields))
        audit_record(action="bump.group_followed", target=member, actor=user, changes=fields,
                     message=f"With its {lead.group_name} group, on {lead}.")


def _declared_by_hand(path: str, explanation: str, *, user, source: str) -> tuple[str, str]:
    """A severity a person typed in the console never merges alone: the security auto-merge becomes a
    review, requested by that person, so a second release approver confirms it."""
    if path != Path.AUTO_MERGE or user is None or source != DependencyBump.Source.MANUAL:
        return path, explanation
    return Path.REVIEW, (f"{explanation} Its severity was set by hand ({user.get_username()}): a second "
                         "release approver confirms it in a review before it merges.")


def _start_path(bump: DependencyBump, user) -> None:
    if bump.group_lead_id is not None:
        _waiting(bump, f"its group, on {bump.group_lead}")
        return
    gate_type = GATE_OF_PATH.get(bump.path)
    if gate_type is None:
        _merge_if_ready(bump, user)
        return
    gate_request(target=bump, gate_type=gate_type, subject=bump.subject, requested_by=user or bump.created_by)
    _waiting(bump, f"{get_gate_type(gate_type).label} gate")


def _waiting(bump: DependencyBump, what: str) -> None:
    bump.waiting_for = what[:300]
    bump.save(update_fields=["waiting_for"])


def _lock(bump: DependencyBump) -> DependencyBump:
    return DependencyBump.objects.select_for_update().get(pk=bump.pk)


RECATEGORISABLE = (State.QUEUED, State.OPEN, State.HELD)


def _recategorise(bump: DependencyBump, user, *, action: str, by_hand: bool = False, **changes) -> DependencyBump:
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
    _group_path_set(bump, user)
    audit_record(action=action, target=bump, actor=user, changes={"old": old, "new": {**changes,
                                                                                       "category": bump.category}},
                 message=bump.explanation)
    for gate_type in BUMP_GATES:
        gate = pending_gate(target=bump, gate_type=gate_type)
        if gate is not None:
            gate_void(gate=gate, reason=f"recategorised: {bump.subject}, {bump.category}")
    if bump.state == State.OPEN:
        _start_path(bump, user)
    return bump


@transaction.atomic
def bump_set_severity(*, bump: DependencyBump, severity: str, user, advisories=None) -> DependencyBump:
    """Set the advisory severity (and ids) once known: high or critical may make it a security bump."""
    require(user, CHANGE_BUMP, doing="set a bump's severity")
    if severity not in dict(Severity.CHOICES):
        raise DomainError(f"Unknown severity '{severity}': use one of {', '.join(dict(Severity.CHOICES))}.")
    changes = {"severity": severity}
    if advisories is not None:
        changes["advisories"] = _clean_advisories(advisories)
    return _recategorise(_lock(bump), user, action="bump.severity_set", by_hand=True, **changes)


@transaction.atomic
def bump_update_versions(*, bump: DependencyBump, from_version: str, to_version: str, user=None) -> DependencyBump:
    """The pull request now bumps to other versions (Dependabot rebased it on a newer release)."""
    bump = _lock(bump)
    if (bump.from_version, bump.to_version) == (from_version.strip(), to_version.strip()):
        return bump
    return _recategorise(bump, user, action="bump.versions_changed", from_version=from_version.strip(),
                         to_version=to_version.strip())


# --- merge rules --------------------------------------------------------------------------------------


def _backup_facts() -> ReleaseFacts:
    reports = PrerequisiteReport.objects.filter(
        kind=PrerequisiteReport.Kind.BACKUP, outcome=PrerequisiteReport.Outcome.SUCCESS
    )[:BACKUP_REPORTS]
    return ReleaseFacts(sha="", hotfix=False, reports=tuple(
        ReportFact(id=report.pk, kind=report.kind, outcome=report.outcome, sha=report.sha,
                   observed_at=report.observed_at, url=report.url, detail=report.detail)
        for report in reports
    ))


def production_calendar_problem(at: datetime) -> str:
    """'' when a production bump may merge at `at`; else why not and when it may. The release calendar,
    evaluated by prerequisites.evaluate from the bump cut-off (default the whole Friday) to Monday."""
    rules = replace(current_rules(), friday_cutoff=conf.bump_friday_cutoff(), deploy=timedelta(0),
                    watch=timedelta(minutes=1))
    evaluation = evaluate(ReleaseFacts(sha="", hotfix=False), at=at, rules=rules)
    if evaluation.result(CALENDAR).passing:
        return ""
    after = f" It may merge from {format_local(evaluation.next_allowed_at)}." if evaluation.next_allowed_at else ""
    return f"No production bump on Friday (nor the weekend that follows).{after}"


def backup_problem(at: datetime) -> str:
    """'' when a verified backup younger than the release rule's limit exists; else what to do."""
    result = evaluate(_backup_facts(), at=at, rules=current_rules()).result(BACKUP)
    return "" if result.passing else f"A database major needs a verified backup first: {result.evidence}"


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
    if Category.DATABASE_MAJOR in _categories(bump):
        problem = backup_problem(at)
        if problem:
            blockers.append(problem)
    return blockers


def _categories(bump: DependencyBump) -> set[str]:
    """The categories a decision on this bump covers: its own, and its group's."""
    return {bump.category, *DependencyBump.objects.filter(group_lead=bump).values_list("category", flat=True)}


def friday_override_granted(bump: DependencyBump, *, at: datetime) -> bool:
    """A second release approver allowed this bump (these versions) to merge despite the calendar, lately."""
    return Gate.objects.filter(
        object_id=str(bump.pk), gate_type=FRIDAY_GATE, state=Gate.State.DECIDED, decision="allow",
        subject=bump.subject, decided_at__gte=at - FRIDAY_OVERRIDE_VALID,
    ).exists()


@transaction.atomic
def bump_request_friday_override(*, bump: DependencyBump, user, reason: str) -> Gate:
    """Ask a second release approver to let a critical security bump merge on a Friday or a weekend."""
    bump = _lock(bump)
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
    _waiting(bump, f"Friday override asked by {user}: a second release approver decides. {bump.waiting_for}")
    return gate


def _on_friday_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = _lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is {bump.get_state_display()}: the override no longer applies.")
    audit_record(action=f"bump.friday_override_{gate.decision}", target=bump, actor=gate.decided_by,
                 message=gate.reason)
    ready = bump.state == State.APPROVED or (bump.state == State.OPEN and bump.path == Path.AUTO_MERGE)
    if gate.decision == "allow" and ready:
        _merge_if_ready(bump, gate.decided_by)


def _merge_if_ready(bump: DependencyBump, user) -> bool:
    blockers = merge_blockers(bump)
    if blockers:
        text = " ".join(blockers)
        if bump.waiting_for != text[:300]:
            _waiting(bump, text)
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
        _record_merged(bump, user, merge_sha=merge.sha)
    elif bump.waiting_for != merge.problem[:300]:
        _waiting(bump, merge.problem)
    return merge


def _record_merged(bump: DependencyBump, user, *, merge_sha: str = "") -> None:
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
    for member in _members(bump):
        _record_merged(member, user, merge_sha=merge_sha)
    _promote(bump.ecosystem, user)


@transaction.atomic
def bump_merge(*, bump: DependencyBump, user) -> DependencyBump:
    """Merge now, from the console: refused with every reason it may not."""
    require(user, CHANGE_BUMP, doing="merge a dependency bump")
    bump = _lock(bump)
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
    bump = _lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is {bump.get_state_display()}: its CI no longer matters.")
    bump.ci_status = status
    bump.save(update_fields=["ci_status"])
    audit_record(action="bump.ci_reported", target=bump, actor_label="releases:ci", changes={"status": status})
    _group_follow(bump, None, ci_status=status)
    ready = bump.state == State.APPROVED or (bump.state == State.OPEN and bump.path == Path.AUTO_MERGE)
    if ready:
        _merge_if_ready(bump, None)
    return bump


@transaction.atomic
def bump_close(*, bump: DependencyBump, user, reason: str) -> DependencyBump:
    require(user, CHANGE_BUMP, doing="close a dependency bump")
    bump = _lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is already {bump.get_state_display()}.")
    if not reason.strip():
        raise DomainError("Say why the bump is closed.")
    _close(bump, user, reason.strip())
    return bump


def _close(bump: DependencyBump, user, reason: str) -> None:
    bump.state, bump.closed_at, bump.waiting_for = State.CLOSED, timezone.now(), ""
    bump.save(update_fields=["state", "closed_at", "waiting_for"])
    for gate_type in BUMP_GATES:
        gate = pending_gate(target=bump, gate_type=gate_type)
        if gate is not None:
            gate_void(gate=gate, reason="bump closed")
    audit_record(action="bump.closed", target=bump, actor=user, message=reason)
    for member in _members(bump):
        _close(member, user, reason)
    _promote(bump.ecosystem, user)


@transaction.atomic
def bump_ask_again(*, bump: DependencyBump, user) -> DependencyBump:
    """A held bump goes back to its gate (a new decision, for example after a fix or a new changelog read)."""
    require(user, CHANGE_BUMP, doing="ask again for a bump's decision")
    bump = _lock(bump)
    if bump.state != State.HELD:
        raise DomainError(f"{bump} is {bump.get_state_display()}: only a held bump is asked again.")
    bump.state = State.OPEN
    bump.save(update_fields=["state"])
    audit_record(action="bump.asked_again", target=bump, actor=user)
    _group_follow(bump, user, state=State.OPEN)
    _start_path(bump, user)
    return bump


@transaction.atomic
def bump_set_migration_note(*, bump: DependencyBump, note: str, user) -> DependencyBump:
    require(user, CHANGE_BUMP, doing="write a bump's migration note")
    bump = _lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is {bump.get_state_display()}.")
    bump.migration_note = note.strip()
    bump.save(update_fields=["migration_note"])
    audit_record(action="bump.migration_note_set", target=bump, actor=user, message=bump.migration_note[:500])
    return bump


@transaction.atomic
def bump_pull_request_closed(*, bump: DependencyBump, merged: bool) -> DependencyBump:
    """The pull request was merged or closed on the forge: follow it (a queued bump frees nothing)."""
    bump = _lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        return bump
    if merged:
        audit_record(action="bump.merged_on_forge", target=bump, actor_label="releases:webhook")
        blockers = merge_blockers(bump)
        if blockers:
            _flag_merged_outside_gates(bump, blockers)
        _record_merged(bump, None)
        for gate_type in BUMP_GATES:
            gate = pending_gate(target=bump, gate_type=gate_type)
            if gate is not None:
                gate_void(gate=gate, reason="pull request merged on the forge")
    else:
        _close(bump, None, "pull request closed on the forge")
    return bump


def _flag_merged_outside_gates(bump: DependencyBump, blockers: list[str]) -> None:
    """Someone merged on the forge what formation-hub held back (a bypassed required check, Friday evening):
    recorded as what it is, not as a normal merge, and admins are told."""
    text = " ".join(blockers)
    bump.merged_outside_gates = text[:500]
    bump.save(update_fields=["merged_outside_gates"])
    audit_record(action="bump.merged_outside_gates", target=bump, actor_label="releases:webhook",
                 result=AuditEntry.Result.REFUSED, changes={"blockers": blockers}, message=text)
    notify(kind="bump.merged_outside_gates", subject=f"{bump} was merged on the forge against the rules",
           body=f"The pull request {bump.pull_request_url} was merged on the forge while formation-hub said:\n"
                f"{text}\n\nCheck what shipped and whether to revert.", dedupe_key=f"bump-outside-gates:{bump.pk}",
           target=bump)


def _promote(ecosystem: str, user) -> None:
    """Open queued bumps, oldest first, while the ecosystem has free slots."""
    _lock_ecosystem(ecosystem)
    free = conf.bump_open_limit() - _open_count(ecosystem)
    if free <= 0:
        return
    queued = DependencyBump.objects.select_for_update().filter(ecosystem=ecosystem, state=State.QUEUED,
                                                                group_lead__isnull=True)
    for bump in queued.order_by("created_at", "id")[:free]:
        bump.state = State.OPEN
        bump.save(update_fields=["state"])
        audit_record(action="bump.promoted", target=bump, actor_label="releases:bumps",
                     message="A slot freed: out of the queue.")
        _group_follow(bump, None, state=State.OPEN)
        _start_path(bump, user=None)


# --- gate decisions -----------------------------------------------------------------------------------


def _gate_bump(gate: Gate, bump: DependencyBump) -> DependencyBump:
    bump = _lock(bump)
    if bump.state != State.OPEN:
        raise DomainError(f"{bump} is {bump.get_state_display()}: its gate no longer applies.")
    return bump


def _approve(bump: DependencyBump, gate: Gate) -> None:
    bump.state = State.APPROVED
    bump.save(update_fields=["state"])
    _group_follow(bump, gate.decided_by, state=State.APPROVED)
    audit_record(action="bump.approved", target=bump, actor=gate.decided_by, changes={"gate": gate.gate_type})
    _merge_if_ready(bump, gate.decided_by)


def _hold(bump: DependencyBump, gate: Gate) -> None:
    bump.state = State.HELD
    bump.save(update_fields=["state"])
    _group_follow(bump, gate.decided_by, state=State.HELD)
    _waiting(bump, f"held: {gate.reason}")
    audit_record(action="bump.held", target=bump, actor=gate.decided_by, message=gate.reason)


def _on_review_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = _gate_bump(gate, bump)
    if gate.decision == "merge":
        _approve(bump, gate)
    elif gate.decision == "hold":
        _hold(bump, gate)
    else:
        _close(bump, gate.decided_by, gate.reason)


def _on_go_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = _gate_bump(gate, bump)
    if gate.decision == "no_go":
        _hold(bump, gate)
        return
    categories = _categories(bump)
    if categories & set(NEEDS_MIGRATION_NOTE) and not bump.migration_note.strip():
        raise DomainError(f"A go on {bump} needs its migration note first (what changes and how to adapt).")
    if Category.DATABASE_MAJOR in categories:
        problem = backup_problem(clock.now())
        if problem:
            raise DomainError(problem)
    audit_record(action="bump.go", target=bump, actor=gate.decided_by, message=gate.reason)
    gate_request(target=bump, gate_type=MAJOR_STAGING_GATE, subject=bump.subject)
    _waiting(bump, f"{get_gate_type(MAJOR_STAGING_GATE).label} gate")


def _on_staging_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = _gate_bump(gate, bump)
    if gate.decision == "ok":
        _approve(bump, gate)
    else:
        _hold(bump, gate)


def _pull_request_url(bump: DependencyBump) -> str:
    return bump.pull_request_url


GATE_TYPES = (
    GateType(name=REVIEW_GATE, label="bump review", decisions=("merge", "hold", "close"),
             permission=DECIDE_DELIVERY_GATE,
             current_subject=lambda bump: bump.subject, on_decided=_on_review_decided,
             reason_required_for=("hold", "close"), pull_request=_pull_request_url, passing=("merge",)),
    GateType(name=GO_GATE, label="major bump go/no-go", decisions=("go", "no_go"), permission=DECIDE_DELIVERY_GATE,
             current_subject=lambda bump: bump.subject, on_decided=_on_go_decided, reason_required_for=("no_go",),
             pull_request=_pull_request_url, passing=("go",)),
    GateType(name=STAGING_GATE, label="upstream image staging test", decisions=("ok", "back"),
             permission=DECIDE_DELIVERY_GATE, current_subject=lambda bump: bump.subject, on_decided=_on_staging_decided,
             reason_required_for=("back",), pull_request=_pull_request_url, passing=("ok",)),
    GateType(name=MAJOR_STAGING_GATE, label="major bump staging validation", decisions=("ok", "back"),
             permission=DECIDE_DELIVERY_GATE, current_subject=lambda bump: bump.subject, on_decided=_on_staging_decided,
             reason_required_for=("back",), pull_request=_pull_request_url, passing=("ok",)),
    GateType(name=FRIDAY_GATE, label="Friday merge override (critical CVE)", decisions=("allow", "refuse"),
             permission=DECIDE_DELIVERY_GATE, current_subject=lambda bump: bump.subject, on_decided=_on_friday_decided,
             reason_required_for=("allow", "refuse")),
)



# --- pull-request webhook -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict


REFUSAL_SOURCE = "dependabot"
ACCEPTED_OUTCOMES = (BumpWebhookDelivery.Outcome.CREATED, BumpWebhookDelivery.Outcome.DUPLICATE,
                     BumpWebhookDelivery.Outcome.UPDATED, BumpWebhookDelivery.Outcome.IGNORED)


def _finish(delivery: BumpWebhookDelivery, outcome: str, message: str = "", bump=None, error: str = "") -> None:
    delivery.outcome, delivery.bump = outcome, bump
    delivery.message, delivery.error = inbound.without_nul(message), inbound.without_nul(error)
    delivery.save(update_fields=["outcome", "message", "error", "bump"])


def _refuse(reason: str, *, status: int, remote_addr: str) -> None:
    """Count the call and answer; nothing is stored, so neither a stranger nor a replay fills the database."""
    inbound.refusal_record(source=REFUSAL_SOURCE, reason=reason, remote_addr=remote_addr)
    raise inbound.InboundRefused(reason, status=status)


def _replay_problem(*, source: str, delivery_id: str, digest: str, pull_request_url: str, updated) -> str:
    """Why a signed delivery is a replay, or ''. The delivery id is a header, outside the signature, so the
    body's hash and the pull request's updated_at are checked too: an old signed body sent again must never
    roll a bump back (issue 17, point 10)."""
    deliveries = BumpWebhookDelivery.objects.all()
    if delivery_id and deliveries.filter(source=source, delivery_id=delivery_id).exists():
        return f"Delivery {delivery_id} was already received: a repeated delivery is refused."
    if deliveries.filter(body_sha256=digest).exists():
        return "This exact body was already received: a repeated delivery is refused."
    if not pull_request_url:
        return ""
    last = (deliveries.filter(pull_request_url=pull_request_url, outcome__in=ACCEPTED_OUTCOMES,
                              pull_request_updated_at__isnull=False)
            .order_by("-pull_request_updated_at").values_list("pull_request_updated_at", flat=True).first())
    if last is not None and (updated is None or updated < last):
        return (f"This delivery describes {pull_request_url} as of {updated or 'an unknown time'}, older than the "
                f"last one accepted ({last.isoformat()}): it is refused so the bump never goes back.")
    return ""


def _pull_request_of(body: bytes) -> tuple[dict | None, dict | None, str]:
    """(payload, pull_request, why not) of a signed body; a body that is not JSON is ignored, not an error."""
    try:
        payload = inbound.json_parse(body) if body else None
    except inbound.InboundRefused as refused:
        return None, None, f"Not a pull-request event: {refused.message}"
    pull_request = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pull_request, dict):
        return payload, None, "Not a pull-request event: the body has no pull_request object."
    return payload, pull_request, ""


def pull_request_webhook_receive(*, body: bytes, headers, remote_addr: str = "") -> WebhookAnswer:
    """Check the signature, refuse replays, store the delivery, then create (once per pull request) or
    close the bump it names. Refusals raise formation_hub.inbound.InboundRefused (the JSON answer)."""
    signature = dependabot.signature_check(body=body, headers=headers)
    if not signature.valid:
        _refuse(signature.problem, status=401, remote_addr=remote_addr)
    source = signature.provider
    event = inbound.without_nul(headers.get(dependabot.EVENT_HEADERS.get(source, "X-GitHub-Event"), ""))[:60]
    delivery_id = inbound.without_nul(
        headers.get(dependabot.DELIVERY_HEADERS.get(source, "X-GitHub-Delivery"), ""))[:100]
    digest = hashlib.sha256(body).hexdigest()
    payload, pull_request, not_a_pull_request = _pull_request_of(body)
    url = str(pull_request.get("html_url") or "").strip()[:500] if pull_request else ""
    updated = dependabot.updated_at(pull_request) if pull_request else None
    problem = _replay_problem(source=source, delivery_id=delivery_id, digest=digest,
                              pull_request_url=inbound.without_nul(url), updated=updated)
    if problem:
        _refuse(problem, status=409, remote_addr=remote_addr)
    with transaction.atomic():
        return _store_and_act(
            body, headers, source=source, event=event, delivery_id=delivery_id, digest=digest, payload=payload,
            pull_request=pull_request, url=url, updated=updated, not_a_pull_request=not_a_pull_request,
        )


def _store_and_act(body: bytes, headers, *, source, event, delivery_id, digest, payload, pull_request, url, updated,
                   not_a_pull_request) -> WebhookAnswer:
    """One transaction: a database failure halfway stores nothing, so the forge's retry is not a replay."""
    delivery = BumpWebhookDelivery.objects.create(
        source=source, event=event, delivery_id=delivery_id, body_sha256=digest, signature_valid=True,
        raw_body=inbound.raw_text(body), pull_request_url=inbound.without_nul(url), pull_request_updated_at=updated,
        headers=inbound.evidence_headers(headers, prefixes=("x-github-", "x-forgejo-", "x-gitea-", "x-hub-")),
    )
    if event == "ping":
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, "ping")
        return WebhookAnswer(200, {"ignored": "ping"})
    if pull_request is None:
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, not_a_pull_request)
        return WebhookAnswer(200, {"ignored": not_a_pull_request})
    return _pull_request_receive(delivery, payload, pull_request)


def _pull_request_receive(delivery: BumpWebhookDelivery, payload: dict, pull_request: dict) -> WebhookAnswer:
    if not dependabot.is_dependabot(pull_request):
        message = "Not a Dependabot pull request (author dependabot[bot] or branch dependabot/...)."
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, message)
        return WebhookAnswer(200, {"ignored": message})
    action = str(payload.get("action", ""))
    try:
        found = dependabot.bump_requests_from(pull_request)
        request = found.bumps[0]
        if action == "closed":
            return _pull_request_closed(delivery, request, merged=bool(pull_request.get("merged")))
        if action not in dependabot.OPENING_ACTIONS:
            message = f"Action '{action}' changes no bump."
            _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, message)
            return WebhookAnswer(200, {"ignored": message})
        if found.group:
            return _group_receive(delivery, found)
        known = DependencyBump.objects.filter(pull_request_url=request.pull_request_url).first()
        if known is not None and (known.from_version, known.to_version) != (request.from_version, request.to_version):
            bump = bump_update_versions(bump=known, from_version=request.from_version,
                                        to_version=request.to_version)
            _finish(delivery, BumpWebhookDelivery.Outcome.UPDATED, f"versions now {bump.subject}", bump)
            return WebhookAnswer(200, {"id": bump.pk, "created": False, "category": bump.category,
                                       "state": bump.state})
        intake = bump_create(
            package=request.package, ecosystem=request.ecosystem, from_version=request.from_version,
            to_version=request.to_version, advisories=request.advisories, severity=request.severity,
            scope=request.scope, source=DependencyBump.Source.DEPENDABOT, pull_request_url=request.pull_request_url,
        )
    except DomainError as error:
        _finish(delivery, BumpWebhookDelivery.Outcome.REFUSED, error=error.message)
        audit_record(action="bump.webhook_refused", target=delivery, actor_label=f"releases:{delivery.source}",
                     result=AuditEntry.Result.REFUSED, message=error.message)
        return WebhookAnswer(422, {"error": error.message})
    bump = intake.bump
    outcome = BumpWebhookDelivery.Outcome.CREATED if intake.created else BumpWebhookDelivery.Outcome.DUPLICATE
    _finish(delivery, outcome, str(bump), bump)
    return WebhookAnswer(201 if intake.created else 200, {
        "id": bump.pk, "created": intake.created, "category": bump.category, "state": bump.state,
    })


def _group_receive(delivery: BumpWebhookDelivery, found: dependabot.PullRequestBumps) -> WebhookAnswer:
    """A grouped update: one bump per package, led by the first, with one gate for the group."""
    lead, *others = found.bumps
    known = DependencyBump.objects.filter(pull_request_url=lead.pull_request_url).first()
    if known is not None:
        changed = bump_group_update_versions(lead=known, versions=[(bump.package, bump.from_version,
                                                                     bump.to_version) for bump in found.bumps])
        outcome = BumpWebhookDelivery.Outcome.UPDATED if changed else BumpWebhookDelivery.Outcome.DUPLICATE
        intake = Intake(DependencyBump.objects.get(pk=known.pk), False)
    else:
        intake = bump_create(
            package=lead.package, ecosystem=lead.ecosystem, from_version=lead.from_version,
            to_version=lead.to_version, advisories=lead.advisories, severity=lead.severity, scope=lead.scope,
            source=DependencyBump.Source.DEPENDABOT, pull_request_url=lead.pull_request_url,
            group_name=found.group,
            group_members=[(bump.package, bump.from_version, bump.to_version) for bump in others],
        )
        outcome = BumpWebhookDelivery.Outcome.CREATED if intake.created else BumpWebhookDelivery.Outcome.DUPLICATE
    bump = intake.bump
    ids = [bump.pk, *bump.group_members.order_by("id").values_list("pk", flat=True)]
    _finish(delivery, outcome, bump.subject, bump)
    return WebhookAnswer(201 if intake.created else 200, {
        "id": bump.pk, "created": intake.created, "category": bump.category, "state": bump.state,
        "group": bump.group_name, "bumps": ids,
    })


@transaction.atomic
def bump_group_update_versions(*, lead: DependencyBump, versions: Sequence[tuple[str, str, str]]) -> bool:
    """A grouped pull request rebased on newer versions: each package's bump follows (its category computed
    again), and the group's gate, asked on the old versions, is void and asked again. True if anything changed.
    Packages added to the group later are not taken in: record them through POST /api/bumps/."""
    lead = _lock(lead)
    bumps = {bump.package: bump for bump in [*_members(lead), lead]}
    changed = False
    for package, from_version, to_version in sorted(versions, key=lambda version: version[0] == lead.package):
        bump = bumps.get(package)
        if bump is None or (bump.from_version, bump.to_version) == (from_version, to_version):
            continue
        _recategorise(bump, None, action="bump.versions_changed", from_version=from_version, to_version=to_version)
        changed = True
    if not changed:
        return False
    lead.refresh_from_db()
    _group_path_set(lead, None)
    stale = [gate for gate in (pending_gate(target=lead, gate_type=name) for name in BUMP_GATES)
             if gate is not None and gate.subject != lead.subject]
    for gate in stale:
        gate_void(gate=gate, reason=f"the group moved on: {lead.subject}")
    if stale and lead.state == State.OPEN:
        _start_path(lead, None)
    return True


def _pull_request_closed(delivery, request, *, merged: bool) -> WebhookAnswer:
    bump = DependencyBump.objects.filter(pull_request_url=request.pull_request_url).first()
    if bump is None:
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, "Closed pull request with no bump.")
        return WebhookAnswer(200, {"ignored": "no bump for this pull request"})
    bump = bump_pull_request_closed(bump=bump, merged=merged)
    _finish(delivery, BumpWebhookDelivery.Outcome.UPDATED, f"pull request {'merged' if merged else 'closed'}", bump)
    return WebhookAnswer(200, {"id": bump.pk, "created": False, "state": bump.state})
