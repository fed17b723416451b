"""A gate's state published on the forge: one commit status (the connection's context, by default
`formation-hub/gates`) on the pull request's head SHA.

Make that context a required check of the protected branch and the forge itself refuses a merge while a
gate is open or was decided against (playbooks: "a gate that binds"). The status summarises every gate
of the object whose type names a pull request: any pending gate is `pending`; otherwise the latest one
decides (`success` for a passing decision, `failure` for another, `pending` for a void gate waiting to
be asked again); no gate at all (a security bump's path) is `success`.
"""

from django.contrib.contenttypes.models import ContentType

from formation_hub.audit import audit_record
from formation_hub.forge import ForgeError, forge_client, forge_connection, pull_request_ref
from formation_hub.gates.decisions import gate_types
from formation_hub.models import AuditEntry, Gate


def _forge_gates(target) -> list[Gate]:
    kinds = {name for name, kind in gate_types().items() if kind.pull_request is not None}
    content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    return list(Gate.objects.filter(content_type=content_type, object_id=str(target.pk), gate_type__in=kinds)
                .select_related("decided_by").order_by("requested_at", "id"))


def gate_status(target) -> tuple[str, str]:
    """(commit status state, description) of the object's gates."""
    gates = _forge_gates(target)
    labels = gate_types()
    pending = [gate for gate in gates if gate.state == Gate.State.PENDING]
    if pending:
        return "pending", f"waiting for the {labels[pending[0].gate_type].label} gate"
    if not gates:
        return "success", "no human gate on this path"
    last = gates[-1]
    kind = labels[last.gate_type]
    if last.state == Gate.State.VOID:
        return "pending", f"{kind.label} gate void ({last.void_reason}): waiting for a new decision"
    text = f"{kind.label}: {last.decision} by {last.decided_by}"
    return ("success" if last.decision in kind.passing else "failure"), text


def publish_gate_status(target, *, pull_request_url: str = "", head_sha: str = "") -> str:
    """Publish the object's gate status on its pull request; returns the state published ('' when there is
    no forge connection or no pull request). Raises ForgeError, after auditing it, when the forge refuses."""
    if not pull_request_url:
        kinds = gate_types()
        gate = next(iter(_forge_gates(target)), None)
        pull_request_url = kinds[gate.gate_type].pull_request(target) if gate else ""
    ref = pull_request_ref(pull_request_url)
    if ref is None or forge_connection() is None:
        return ""
    state, description = gate_status(target)
    try:
        client = forge_client()
        sha = head_sha or client.pull_request(ref).head_sha
        client.set_commit_status(sha, state=state, description=description, repository=ref.repository)
    except ForgeError as error:
        audit_record(action="forge.status_failed", target=target, actor_label="forge", result=AuditEntry.Result.FAILED,
                     changes={"pull_request": pull_request_url, "state": state}, message=error.message)
        raise
    audit_record(action="forge.status_published", target=target, actor_label="forge",
                 changes={"pull_request": pull_request_url, "sha": sha, "state": state,
                          "context": client.connection.status_context}, message=description)
    return state


def publish_gate_status_of(*, content_type_id: int, object_id: str) -> str:
    target = ContentType.objects.get_for_id(content_type_id).get_object_for_this_type(pk=object_id)
    return publish_gate_status(target)
