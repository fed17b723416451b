"""Human gates: one mechanism for every decision a person must take on an object.

An app declares its gate types once (from its AppConfig.ready) with the decisions allowed, the
permission a decider must hold (granted to them or their group: a superuser holds none by default),
how to read the object's current subject (so a decision on a stale SHA is refused) and what to do
once decided. Admin actions, forms and the API all call
`gate_request` and `gate_decide`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from formation_hub.access.permissions import holder_groups, holds, permission_label
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.models import AuditEntry, Gate


class GateError(DomainError):
    pass


class StaleGate(GateError):
    def __init__(self, message: str, *, void_reason: str):
        super().__init__(message)
        self.void_reason = void_reason


@dataclass(frozen=True)
class GateType:
    name: str
    label: str
    decisions: tuple[str, ...]
    # `app_label.codename` the decider holds, e.g. "releases.decide_release_gate".
    permission: str
    current_subject: Callable[[object], str] | None = None
    # Raises NotAllowed when this user may not decide on this object beyond the general rules
    # (for example the author of a change included in a release).
    check_decider: Callable[[Gate, object, object], None] | None = None
    on_decided: Callable[[Gate, object], None] | None = None
    reason_required_for: tuple[str, ...] = field(default=())
    # The object's pull request URL: its gates are then published as a commit status on the pull
    # request's head (formation_hub.gates.forge_status), so the forge refuses the merge while one is open.
    pull_request: Callable[[object], str] | None = None
    # Decisions that let the pull request merge (a green commit status); any other is a red one.
    passing: tuple[str, ...] = field(default=())


_gate_types: dict[str, GateType] = {}


def register_gate_type(gate_type: GateType) -> None:
    _gate_types[gate_type.name] = gate_type


def get_gate_type(name: str) -> GateType:
    try:
        return _gate_types[name]
    except KeyError:
        raise GateError(f"Unknown gate type '{name}'.") from None


def gate_types() -> dict[str, GateType]:
    return dict(_gate_types)


def _content_type(target) -> ContentType:
    return ContentType.objects.get_for_model(target, for_concrete_model=False)


def _publish_status_later(gate: Gate) -> None:
    """After commit, a worker publishes the object's gates on its pull request (a forge call never
    holds a transaction open)."""
    if get_gate_type(gate.gate_type).pull_request is None:
        return
    content_type_id, object_id = gate.content_type_id, gate.object_id
    transaction.on_commit(lambda: async_task(
        "formation_hub.tasks.publish_gate_status", content_type_id, object_id, group="forge"
    ))


def pending_gate(*, target, gate_type: str) -> Gate | None:
    return Gate.objects.filter(
        content_type=_content_type(target), object_id=str(target.pk), gate_type=gate_type,
        state=Gate.State.PENDING,
    ).first()


@transaction.atomic
def gate_request(*, target, gate_type: str, subject: str, requested_by=None) -> Gate:
    """Open a gate on target for subject. A pending gate on an older subject is voided first."""
    kind = get_gate_type(gate_type)
    if not subject:
        raise GateError(f"A '{kind.label}' gate needs a subject to decide on (a SHA or a version).")
    existing = pending_gate(target=target, gate_type=gate_type)
    if existing is not None:
        if existing.subject == subject:
            return existing
        gate_void(gate=existing, reason=f"superseded by a request on {subject}")
    gate = Gate(
        content_type=_content_type(target), object_id=str(target.pk), object_repr=str(target)[:200],
        gate_type=gate_type, subject=subject, requested_by=requested_by, requested_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            gate.save()
    except IntegrityError:
        return pending_gate(target=target, gate_type=gate_type)
    audit_record(
        action="gate.requested", target=target, actor=requested_by,
        changes={"gate": gate_type, "subject": subject, "gate_id": gate.pk},
    )
    _publish_status_later(gate)
    return gate


def gate_void(*, gate: Gate, reason: str) -> Gate:
    """Void a pending gate (its subject changed, or a prerequisite lapsed)."""
    updated = Gate.objects.filter(pk=gate.pk, state=Gate.State.PENDING).update(
        state=Gate.State.VOID, void_reason=reason[:200]
    )
    if updated:
        gate.state, gate.void_reason = Gate.State.VOID, reason[:200]
        audit_record(
            action="gate.voided", target=gate, changes={"gate": gate.gate_type, "subject": gate.subject},
            message=reason,
        )
        _publish_status_later(gate)
    return gate


def can_decide(*, gate: Gate, user) -> bool:
    """Whether user may decide this gate now (used to list 'gates waiting for me')."""
    try:
        _check_decider(gate, get_gate_type(gate.gate_type), user)
    except DomainError:
        return False
    return gate.state == Gate.State.PENDING


def _check_decider(gate: Gate, kind: GateType, user) -> None:
    """The gate type's own rule (e.g. 'not the author') is checked before 'not the requester', so a
    refusal names the most specific reason."""
    if user is None or not user.is_authenticated:
        raise NotAllowed("You must be signed in to decide a gate.")
    if not holds(user, kind.permission):
        groups = ", ".join(holder_groups(kind.permission)) or "nobody yet"
        raise NotAllowed(
            f"Deciding a '{kind.label}' gate needs the '{permission_label(kind.permission)}' permission "
            f"(held by: {groups})."
        )
    if kind.check_decider is not None:
        kind.check_decider(gate, gate.target, user)
    if gate.requested_by_id is not None and gate.requested_by_id == user.pk:
        raise NotAllowed(
            f"This '{kind.label}' gate was requested by you or for your work (you are its requester), so someone "
            "else must decide it (no self-approval)."
        )


def gate_decide(*, gate: Gate, user, decision: str, subject: str, reason: str = "") -> Gate:
    """Record user's decision on gate, bound to the subject they reviewed.

    Refuses: an unknown decision, a decider who requested the gate or is not in the gate's group,
    a gate already decided or void, a subject that is not the gate's, or a gate whose object has
    moved on to another subject since it was requested.
    """
    kind = get_gate_type(gate.gate_type)
    try:
        return _gate_decide(gate=gate, kind=kind, user=user, decision=decision, subject=subject, reason=reason)
    except DomainError as error:
        if isinstance(error, StaleGate):
            gate_void(gate=gate, reason=error.void_reason)
        audit_record(
            action="gate.decision_refused", target=gate, actor=user, result=AuditEntry.Result.REFUSED,
            changes={"gate": gate.gate_type, "decision": decision, "subject": subject}, message=error.message,
        )
        raise


@transaction.atomic
def _gate_decide(*, gate: Gate, kind: GateType, user, decision: str, subject: str, reason: str) -> Gate:
    gate = Gate.objects.select_for_update().get(pk=gate.pk)
    if decision not in kind.decisions:
        allowed = ", ".join(kind.decisions)
        raise GateError(f"'{decision}' is not a decision of a '{kind.label}' gate (allowed: {allowed}).")
    if gate.state == Gate.State.DECIDED:
        raise GateError(
            f"This '{kind.label}' gate was already decided ({gate.decision}) by "
            f"{gate.decided_by} at {gate.decided_at:%Y-%m-%d %H:%M} UTC."
        )
    if gate.state == Gate.State.VOID:
        raise GateError(f"This '{kind.label}' gate is void ({gate.void_reason}); request a new one.")
    _check_decider(gate, kind, user)
    if subject != gate.subject:
        raise GateError(
            f"You reviewed '{subject}' but this gate is on '{gate.subject}': reload and review again."
        )
    if kind.current_subject is not None:
        current = kind.current_subject(gate.target)
        if current != gate.subject:
            raise StaleGate(
                f"The object moved on since this gate was requested (now '{current}', gate on "
                f"'{gate.subject}'): the gate is void, request a new one.",
                void_reason=f"the subject moved from {gate.subject} to {current}",
            )
    if decision in kind.reason_required_for and not reason.strip():
        raise GateError(f"A '{decision}' decision needs a written reason.")
    gate.state = Gate.State.DECIDED
    gate.decision = decision
    gate.decided_by = user
    gate.decided_at = timezone.now()
    gate.reason = reason
    gate.save(update_fields=["state", "decision", "decided_by", "decided_at", "reason"])
    target = gate.target
    audit_record(
        action="gate.decided", target=target, actor=user,
        changes={"gate": gate.gate_type, "decision": decision, "subject": gate.subject, "gate_id": gate.pk},
        message=reason,
    )
    if kind.on_decided is not None:
        kind.on_decided(gate, target)
    _publish_status_later(gate)
    return gate


def gates_waiting_for(user):
    """Pending gates this user may decide, oldest first (the landing page's 'waiting for you')."""
    held = {permission for permission in {kind.permission for kind in _gate_types.values()} if holds(user, permission)}
    names = [name for name, kind in _gate_types.items() if kind.permission in held]
    pending = (
        Gate.objects.filter(state=Gate.State.PENDING, gate_type__in=names)
        .exclude(requested_by=user)
        .select_related("content_type", "requested_by")
        .order_by("requested_at")
    )
    return [gate for gate in pending if _passes_type_checks(gate, user)]


def _passes_type_checks(gate: Gate, user) -> bool:
    kind = _gate_types[gate.gate_type]
    if kind.check_decider is None:
        return True
    try:
        kind.check_decider(gate, gate.target, user)
    except DomainError:
        return False
    return True
