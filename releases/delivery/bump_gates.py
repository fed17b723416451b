"""The bump gate types (registered from ReleasesConfig.ready) and what each decision does: review, go/no-go,
staging test and the Friday override."""

from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import GateType, gate_request, get_gate_type
from formation_hub.models import Gate
from releases.delivery.bump_checks import backup_problem, bump_categories
from releases.delivery.bump_queue import bump_lock, bump_waiting, group_follow
from releases.delivery.bump_services import (
    DECIDE_DELIVERY_GATE,
    FRIDAY_GATE,
    GO_GATE,
    MAJOR_STAGING_GATE,
    REVIEW_GATE,
    STAGING_GATE,
    State,
    bump_close_locked,
    merge_if_ready,
)
from releases.delivery.bumps import NEEDS_MIGRATION_NOTE, Category, Path
from releases.models import DependencyBump
from releases.pipeline import clock


def _on_friday_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = bump_lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        raise DomainError(f"{bump} is {bump.get_state_display()}: the override no longer applies.")
    audit_record(action=f"bump.friday_override_{gate.decision}", target=bump, actor=gate.decided_by,
                 message=gate.reason)
    ready = bump.state == State.APPROVED or (bump.state == State.OPEN and bump.path == Path.AUTO_MERGE)
    if gate.decision == "allow" and ready:
        merge_if_ready(bump, gate.decided_by)


def _gate_bump(gate: Gate, bump: DependencyBump) -> DependencyBump:
    bump = bump_lock(bump)
    if bump.state != State.OPEN:
        raise DomainError(f"{bump} is {bump.get_state_display()}: its gate no longer applies.")
    return bump


def _approve(bump: DependencyBump, gate: Gate) -> None:
    bump.state = State.APPROVED
    bump.save(update_fields=["state"])
    group_follow(bump, gate.decided_by, state=State.APPROVED)
    audit_record(action="bump.approved", target=bump, actor=gate.decided_by, changes={"gate": gate.gate_type})
    merge_if_ready(bump, gate.decided_by)


def _hold(bump: DependencyBump, gate: Gate) -> None:
    bump.state = State.HELD
    bump.save(update_fields=["state"])
    group_follow(bump, gate.decided_by, state=State.HELD)
    bump_waiting(bump, f"held: {gate.reason}")
    audit_record(action="bump.held", target=bump, actor=gate.decided_by, message=gate.reason)


def _on_review_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = _gate_bump(gate, bump)
    if gate.decision == "merge":
        _approve(bump, gate)
    elif gate.decision == "hold":
        _hold(bump, gate)
    else:
        bump_close_locked(bump, gate.decided_by, gate.reason)


def _on_go_decided(gate: Gate, bump: DependencyBump) -> None:
    bump = _gate_bump(gate, bump)
    if gate.decision == "no_go":
        _hold(bump, gate)
        return
    categories = bump_categories(bump)
    if categories & set(NEEDS_MIGRATION_NOTE) and not bump.migration_note.strip():
        raise DomainError(f"A go on {bump} needs its migration note first (what changes and how to adapt).")
    if Category.DATABASE_MAJOR in categories:
        problem = backup_problem(clock.now())
        if problem:
            raise DomainError(problem)
    audit_record(action="bump.go", target=bump, actor=gate.decided_by, message=gate.reason)
    gate_request(target=bump, gate_type=MAJOR_STAGING_GATE, subject=bump.subject)
    bump_waiting(bump, f"{get_gate_type(MAJOR_STAGING_GATE).label} gate")


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
