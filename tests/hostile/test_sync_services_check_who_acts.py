"""The sync's console services (replay, loop alerts, reconciliation, probe now) refuse whoever lacks
"replay sync events", whatever path calls them (issue 17: every service checks who acts, not only the
console action in front of it)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from formation_hub.errors import NotAllowed
from formation_hub.models import AuditEntry
from sync.clients.circuits import circuits_probe_now
from sync.models import Event, EventItem, LoopAlert, ServiceCircuit
from sync.processing.pipeline import event_replay
from sync.upkeep.loop_alerts import loop_alerts_resolve
from sync.upkeep.reconciliation import reconciliation_run


@pytest.fixture
def dead_event(db):
    now = timezone.now()
    event = Event.objects.create(event_id="hostile-dead", event_type="rows.updated", raw_body="{}", received_at=now,
                                 state=Event.State.DEAD)
    EventItem.objects.create(event=event, position=0, entity_key="baserow:601:1", state=EventItem.State.DEAD,
                             created_at=now)
    return event


@pytest.fixture
def loop_alert(db):
    now = timezone.now()
    return LoopAlert.objects.create(entity_key="baserow:601:1", event_count=40, first_event_at=now, detected_at=now)


@pytest.mark.parametrize("groups", [("viewer",), ("oncall", "release-approver")])
def test_a_person_without_the_permission_replays_resolves_and_reconciles_nothing(make_user, dead_event, loop_alert,
                                                                                 groups):
    person = make_user("mallory", *groups)
    with pytest.raises(NotAllowed):
        event_replay(event=dead_event, user=person)
    with pytest.raises(NotAllowed):
        loop_alerts_resolve(alerts=[loop_alert], user=person)
    with pytest.raises(NotAllowed):
        reconciliation_run(dry_run=False, trigger="console", actor=person)
    later = timezone.now() + timedelta(hours=1)
    circuit = ServiceCircuit.objects.create(service="docmost", state=ServiceCircuit.State.OPEN, next_probe_at=later)
    with pytest.raises(NotAllowed):
        circuits_probe_now(circuits=[circuit], user=person)
    circuit.refresh_from_db()
    assert circuit.next_probe_at == later
    dead_event.refresh_from_db()
    loop_alert.refresh_from_db()
    assert dead_event.state == Event.State.DEAD and loop_alert.resolved_at is None


def test_the_admin_resolves_a_loop_alert_with_an_audit_entry(make_user, loop_alert):
    admin = make_user("ada", "admin")
    assert loop_alerts_resolve(alerts=[loop_alert], user=admin) == 1
    loop_alert.refresh_from_db()
    assert loop_alert.resolved_at is not None
    assert AuditEntry.objects.get(action="sync.loop.resolved").actor == admin
