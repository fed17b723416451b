"""Dependency bump services: intake (console, API, webhook), the path of each category, merge, queue.

The category (releases.bumps.categorise) decides the path: security merges by itself once CI is green;
patch and minor wait for a review gate (merge / hold / close); major, runtime LTS and database major for a
go/no-go gate with a migration note; upstream images for a staging test gate (ok / back). A merge also
needs CI green, and for a production bump not Friday (the release calendar, prerequisites.evaluate) and,
for a database major, a verified backup (the release prerequisite). At most BUMP_OPEN_LIMIT bumps are open
per ecosystem; the others are queued and promoted, oldest first, as open ones merge or close.
"""

import json
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.gates import GateType, gate_request, gate_void, get_gate_type, pending_gate
from formation_hub.models import AuditEntry, Gate
from formation_hub.permissions import require
from formation_hub.timefmt import format_local
from releases import clock, conf, dependabot
from releases.bumps import NEEDS_MIGRATION_NOTE, Category, Path, Severity, categorise
from releases.models import BumpWebhookDelivery, Change, DependencyBump, PrerequisiteReport
from releases.prerequisites import BACKUP, CALENDAR, ReleaseFacts, ReportFact, evaluate
from releases.selectors import current_rules
from releases.services import change_add

DECIDE_DELIVERY_GATE = "releases.decide_delivery_gate"
ADD_BUMP, CHANGE_BUMP = "releases.add_dependencybump", "releases.change_dependencybump"
REVIEW_GATE = "delivery.bump_review"
GO_GATE = "delivery.bump_go"
STAGING_GATE = "delivery.bump_staging"
BUMP_GATES = (REVIEW_GATE, GO_GATE, STAGING_GATE)
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
    return DependencyBump.objects.filter(ecosystem=ecosystem, state__in=DependencyBump.OPEN_STATES).count()


def bump_create(
    *, package: str, ecosystem: str, from_version: str, to_version: str, advisories=(),
    severity: str = Severity.NONE, scope: str = DependencyBump.Scope.PRODUCTION,
    source: str = DependencyBump.Source.MANUAL, pull_request_url: str = "", ci_status: str = "", user=None,
) -> Intake:
    """Record a bump with its computed category. The same pull request returns the bump it already made."""
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
                created_by=user,
            )
            audit_record(
                action="bump.created", target=bump, actor=user, actor_label=f"releases:{source}",
                changes={"category": bump.category, "path": bump.path, "state": bump.state, "scope": scope,
                         "severity": severity, "advisories": advisories, "pull_request": pull_request_url},
                message=explanation,
            )
            if bump.state == State.OPEN:
                _start_path(bump, user)
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


def _start_path(bump: DependencyBump, user) -> None:
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
    if bump.state == State.QUEUED:
        blockers.append(f"Queued: {conf.bump_open_limit()} {bump.get_ecosystem_display()} bumps are open already.")
    if bump.state == State.HELD:
        blockers.append("Held: ask for its decision again first.")
    if bump.state == State.OPEN and bump.path != Path.AUTO_MERGE:
        blockers.append(f"Waits for its {get_gate_type(GATE_OF_PATH[bump.path]).label} gate.")
    if bump.ci_status != DependencyBump.CiStatus.GREEN:
        blockers.append(f"{CI_PHRASES[bump.ci_status]}: a bump merges on green CI only.")
    if bump.scope == DependencyBump.Scope.PRODUCTION:
        problem = production_calendar_problem(at)
        if problem:
            blockers.append(problem)
    if bump.category == Category.DATABASE_MAJOR:
        problem = backup_problem(at)
        if problem:
            blockers.append(problem)
    return blockers


def _merge_if_ready(bump: DependencyBump, user) -> bool:
    blockers = merge_blockers(bump)
    if blockers:
        text = " ".join(blockers)
        if bump.waiting_for != text[:300]:
            _waiting(bump, text)
            audit_record(action="bump.merge_waiting", target=bump, actor=user, changes={"blockers": blockers},
                         message=text)
        return False
    _merge(bump, user)
    return True


def _changelog_line(bump: DependencyBump) -> tuple[str, str]:
    text = f"Bump {bump.package} from {bump.from_version} to {bump.to_version}"
    if bump.advisories:
        text += f" ({', '.join(bump.advisories)})"
    if bump.category == Category.SECURITY:
        return Change.Type.SECURITY, text
    if bump.category == Category.UPSTREAM_IMAGE:
        return Change.Type.CHANGE, text
    return Change.Type.CHORE, text


def _merge(bump: DependencyBump, user) -> None:
    bump.state, bump.merged_at, bump.waiting_for = State.MERGED, timezone.now(), ""
    fields = ["state", "merged_at", "waiting_for"]
    if bump.scope == DependencyBump.Scope.PRODUCTION:
        kind, text = _changelog_line(bump)
        bump.change = change_add(type=kind, text=text, reference=bump.pull_request_url[:200] or f"bump-{bump.pk}",
                                 author=bump.created_by, user=user, source=Change.Source.BUMP)
        fields.append("change")
    bump.save(update_fields=fields)
    audit_record(action="bump.merged", target=bump, actor=user, actor_label="releases:bumps",
                 changes={"category": bump.category, "automatic": user is None})
    _promote(bump.ecosystem, user)


@transaction.atomic
def bump_merge(*, bump: DependencyBump, user) -> DependencyBump:
    """Merge now, from the console: refused with every reason it may not."""
    require(user, CHANGE_BUMP, doing="merge a dependency bump")
    bump = _lock(bump)
    blockers = merge_blockers(bump)
    if blockers:
        raise DomainError(f"{bump} cannot merge now. " + " ".join(blockers))
    _merge(bump, user)
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
        _merge(bump, None)
    else:
        _close(bump, None, "pull request closed on the forge")
    return bump


def _promote(ecosystem: str, user) -> None:
    """Open queued bumps, oldest first, while the ecosystem has free slots."""
    _lock_ecosystem(ecosystem)
    free = conf.bump_open_limit() - _open_count(ecosystem)
    if free <= 0:
        return
    queued = DependencyBump.objects.select_for_update().filter(ecosystem=ecosystem, state=State.QUEUED)
    for bump in queued.order_by("created_at", "id")[:free]:
        bump.state = State.OPEN
        bump.save(update_fields=["state"])
        audit_record(action="bump.promoted", target=bump, actor_label="releases:bumps",
                     message="A slot freed: out of the queue.")
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
    audit_record(action="bump.approved", target=bump, actor=gate.decided_by, changes={"gate": gate.gate_type})
    _merge_if_ready(bump, gate.decided_by)


def _hold(bump: DependencyBump, gate: Gate) -> None:
    bump.state = State.HELD
    bump.save(update_fields=["state"])
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
    if bump.category in NEEDS_MIGRATION_NOTE and not bump.migration_note.strip():
        raise DomainError(f"A go on {bump} needs its migration note first (what changes and how to adapt).")
    if bump.category == Category.DATABASE_MAJOR:
        problem = backup_problem(clock.now())
        if problem:
            raise DomainError(problem)
    _approve(bump, gate)


def _on_staging_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = _gate_bump(gate, bump)
    if gate.decision == "ok":
        _approve(bump, gate)
    else:
        _hold(bump, gate)


GATE_TYPES = (
    GateType(name=REVIEW_GATE, label="bump review", decisions=("merge", "hold", "close"),
             permission=DECIDE_DELIVERY_GATE,
             current_subject=lambda bump: bump.subject, on_decided=_on_review_decided,
             reason_required_for=("hold", "close")),
    GateType(name=GO_GATE, label="major bump go/no-go", decisions=("go", "no_go"), permission=DECIDE_DELIVERY_GATE,
             current_subject=lambda bump: bump.subject, on_decided=_on_go_decided, reason_required_for=("no_go",)),
    GateType(name=STAGING_GATE, label="upstream image staging test", decisions=("ok", "back"),
             permission=DECIDE_DELIVERY_GATE, current_subject=lambda bump: bump.subject, on_decided=_on_staging_decided,
             reason_required_for=("back",)),
)



# --- pull-request webhook -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict


def _without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters; the evidence keeps everything else as received."""
    return text.replace("\x00", "")


def _finish(delivery: BumpWebhookDelivery, outcome: str, message: str, bump=None) -> None:
    delivery.outcome, delivery.message, delivery.bump = outcome, _without_nul(message), bump
    delivery.save(update_fields=["outcome", "message", "bump"])


def pull_request_webhook_receive(*, body: bytes, headers) -> WebhookAnswer:
    """Store the call, check its signature, then create (once per pull request) or close the bump it names."""
    signature = dependabot.signature_check(body=body, headers=headers)
    provider = signature.provider
    event = headers.get(dependabot.EVENT_HEADERS.get(provider, "X-GitHub-Event"), "")
    delivery_id = headers.get(dependabot.DELIVERY_HEADERS.get(provider, "X-GitHub-Delivery"), "")
    delivery = BumpWebhookDelivery.objects.create(
        provider=provider, event=_without_nul(event)[:60], delivery_id=_without_nul(delivery_id)[:100],
        signature_valid=signature.valid, body=_without_nul(body.decode("utf-8", errors="replace")),
    )
    if not signature.valid:
        _finish(delivery, BumpWebhookDelivery.Outcome.REFUSED, signature.problem)
        audit_record(action="bump.webhook_refused", target=delivery, actor_label=f"releases:{provider}",
                     result=AuditEntry.Result.REFUSED, message=signature.problem)
        return WebhookAnswer(401, {"error": signature.problem})
    if event == "ping":
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, "ping")
        return WebhookAnswer(200, {"ignored": "ping"})
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    pull_request = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pull_request, dict):
        message = "Not a pull-request event: the body has no pull_request object."
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, message)
        return WebhookAnswer(200, {"ignored": message})
    if not dependabot.is_dependabot(pull_request):
        message = "Not a Dependabot pull request (author dependabot[bot] or branch dependabot/...)."
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, message)
        return WebhookAnswer(200, {"ignored": message})
    action = str(payload.get("action", ""))
    try:
        request = dependabot.bump_request_from(pull_request)
        if action == "closed":
            return _pull_request_closed(delivery, request, merged=bool(pull_request.get("merged")))
        if action not in dependabot.OPENING_ACTIONS:
            message = f"Action '{action}' changes no bump."
            _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, message)
            return WebhookAnswer(200, {"ignored": message})
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
        _finish(delivery, BumpWebhookDelivery.Outcome.REFUSED, error.message)
        audit_record(action="bump.webhook_refused", target=delivery, actor_label=f"releases:{provider}",
                     result=AuditEntry.Result.REFUSED, message=error.message)
        return WebhookAnswer(422, {"error": error.message})
    bump = intake.bump
    outcome = BumpWebhookDelivery.Outcome.CREATED if intake.created else BumpWebhookDelivery.Outcome.DUPLICATE
    _finish(delivery, outcome, str(bump), bump)
    return WebhookAnswer(201 if intake.created else 200, {
        "id": bump.pk, "created": intake.created, "category": bump.category, "state": bump.state,
    })


def _pull_request_closed(delivery, request, *, merged: bool) -> WebhookAnswer:
    bump = DependencyBump.objects.filter(pull_request_url=request.pull_request_url).first()
    if bump is None:
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, "Closed pull request with no bump.")
        return WebhookAnswer(200, {"ignored": "no bump for this pull request"})
    bump = bump_pull_request_closed(bump=bump, merged=merged)
    _finish(delivery, BumpWebhookDelivery.Outcome.UPDATED, f"pull request {'merged' if merged else 'closed'}", bump)
    return WebhookAnswer(200, {"id": bump.pk, "created": False, "state": bump.state})
