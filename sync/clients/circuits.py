"""Circuit breaker per service (Docmost, Baserow), and the backlog drain once a probe succeeds.

A call failing for a retryable reason after the client's quick retries opens the service's circuit:
items needing that service then wait ("waiting for Docmost") without a call and without burning an
attempt. The sweeper probes an open circuit when its probe is due; a probe that gets an answer closes
it and makes the waiting items due; the same sweep enqueues them, oldest first (the playbook's "queue
for batch retry").
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.models import AuditEntry
from formation_hub.observability.health import OK
from sync import conf
from sync.clients import health
from sync.models import EventItem, ServiceCircuit

PROBE = "sync.replay_event"
SERVICE_NAMES = {"docmost": "Docmost", "baserow": "Baserow"}
ACTOR = "sync-circuit"


def waiting_reason(service: str) -> str:
    return f"waiting for {SERVICE_NAMES.get(service, service)}"


def circuit_open_for(services) -> ServiceCircuit | None:
    """The first open circuit among `services` (None when all of them are closed)."""
    return ServiceCircuit.objects.filter(service__in=list(services), state=ServiceCircuit.State.OPEN).first()


def circuit_trip(*, service: str, error: str, retry_after: float | None = None) -> ServiceCircuit:
    """Open the circuit (or push its next probe back when it already is)."""
    now = timezone.now()
    delay = max(conf.circuit_probe_seconds(), retry_after or 0)
    circuit, _ = ServiceCircuit.objects.get_or_create(service=service)
    was_open = circuit.state == ServiceCircuit.State.OPEN
    circuit.state = ServiceCircuit.State.OPEN
    circuit.opened_at = circuit.opened_at if was_open else now
    circuit.next_probe_at = now + timedelta(seconds=delay)
    circuit.last_error = error[:500]
    circuit.save()
    if not was_open:
        audit_record(
            action="sync.circuit.opened", target=circuit, actor_label=ACTOR, result=AuditEntry.Result.FAILED,
            message=f"{SERVICE_NAMES.get(service, service)} unreachable after quick retries: {error}",
        )
    return circuit


def _probe(service: str) -> tuple[bool, str]:
    check = health.check_docmost if service == "docmost" else health.check_baserow
    result = check()
    return result.status == OK, result.detail


def circuits_probe_due() -> list[str]:
    """Probe every open circuit whose probe is due; returns the services found back (circuit closed)."""
    closed = []
    now = timezone.now()
    for circuit in ServiceCircuit.objects.filter(state=ServiceCircuit.State.OPEN, next_probe_at__lte=now):
        ok, detail = _probe(circuit.service)
        if ok:
            circuit_close(service=circuit.service, detail=detail)
            closed.append(circuit.service)
        else:
            next_probe = now + timedelta(seconds=conf.circuit_probe_seconds())
            ServiceCircuit.objects.filter(pk=circuit.pk).update(
                probes=circuit.probes + 1, last_error=detail[:500], next_probe_at=next_probe,
            )
            # The waiting items are not due before the next probe: the sweeper leaves them alone.
            EventItem.objects.filter(
                state=EventItem.State.WAITING, reason__startswith=waiting_reason(circuit.service)
            ).update(next_attempt_at=next_probe)
    return closed


def circuits_probe_now(*, circuits, user) -> list[str]:
    """Someone asks for a probe of the open circuits among `circuits` without waiting for their turn;
    returns the services found back."""
    require(user, PROBE, doing="probe a service now")
    asked = list(ServiceCircuit.objects.filter(pk__in=[circuit.pk for circuit in circuits],
                                               state=ServiceCircuit.State.OPEN))
    ServiceCircuit.objects.filter(pk__in=[circuit.pk for circuit in asked]).update(next_probe_at=timezone.now())
    for circuit in asked:
        audit_record(action="sync.circuit.probe_asked", target=circuit, actor=user,
                     message=f"probe of {SERVICE_NAMES.get(circuit.service, circuit.service)} asked now")
    return circuits_probe_due()


@transaction.atomic
def circuit_close(*, service: str, detail: str = "") -> int:
    """Close the circuit and make the items waiting for the service due now; returns how many."""
    circuit = ServiceCircuit.objects.select_for_update().filter(service=service).first()
    if circuit is None or circuit.state == ServiceCircuit.State.CLOSED:
        return 0
    down_for = timezone.now() - circuit.opened_at if circuit.opened_at else None
    circuit.state, circuit.next_probe_at, circuit.probes, circuit.last_error = ServiceCircuit.State.CLOSED, None, 0, ""
    circuit.save()
    released = EventItem.objects.filter(state=EventItem.State.WAITING, reason__startswith=waiting_reason(service))
    count = released.update(next_attempt_at=timezone.now())
    audit_record(
        action="sync.circuit.closed", target=circuit, actor_label=ACTOR,
        changes={"released_items": count, "down_for_seconds": int(down_for.total_seconds()) if down_for else None},
        message=f"{SERVICE_NAMES.get(service, service)} answers again ({detail}); {count} waiting item(s) due",
    )
    return count
