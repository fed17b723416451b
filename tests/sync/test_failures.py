"""Failure handling end to end: a service down, a lost answer, a 4xx, a row gone, bursts and loops."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from formation_hub.models import Notification
from sync.models import Event, EventItem, HttpCall, LoopAlert, PageLink, ServiceCircuit, TableMapping
from sync.processing.pipeline import event_replay
from sync.tasks import sweep_events
from tests.sync.conftest import process_all
from tests.sync.factories import EventFactory, EventItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

ACME = 1


def probe_now():
    ServiceCircuit.objects.update(next_probe_at=timezone.now() - timedelta(seconds=1))


def test_docmost_stopped_for_a_while_then_restarted_loses_nothing_and_keeps_the_order(bridge):
    bridge.docmost.server.stop()
    first = bridge.create_row(601, {"nom": "Orage", "client": [ACME]})
    second = bridge.create_row(601, {"nom": "Grêle", "client": [ACME]})
    bridge.update_row(601, first["id"], {"nom": "Orage 2"})
    bridge.sync()
    circuit = ServiceCircuit.objects.get(service="docmost")
    assert circuit.state == "open"
    created = EventItem.objects.filter(event__table_id=601, event__event_type="rows.created")
    items = {item.row_id: item for item in created}
    assert {item.state for item in items.values()} == {"waiting"}
    assert all(item.reason.startswith("waiting for Docmost") and item.attempts == 0 for item in items.values())
    # After the circuit opened, the second row made no Docmost call at all.
    assert not HttpCall.objects.filter(item=items[second["id"]], service="docmost").exists()
    update = EventItem.objects.get(event__table_id=601, event__event_type="rows.updated")
    assert update.state == "waiting"

    probe_now()
    sweep_events()  # the probe fails: still down, nothing lost, nothing dead
    assert ServiceCircuit.objects.get(service="docmost").state == "open"
    assert not EventItem.objects.filter(state="dead").exists()

    bridge.docmost.server.start()
    probe_now()
    sweep_events()
    assert ServiceCircuit.objects.get(service="docmost").state == "closed"
    bridge.sync()
    assert sorted(p["title"] for p in bridge.pages("Projet ")) == [
        "Projet Grêle - Acme Formation", "Projet Orage 2 - Acme Formation",
    ]
    assert set(EventItem.objects.values_list("state", flat=True)) <= {"processed", "ignored"}
    assert bridge.row(601, first["id"])["docmost_page_id"] and bridge.row(601, second["id"])["docmost_page_id"]


def test_a_timeout_on_page_creation_does_not_create_a_second_page(bridge, monkeypatch):
    monkeypatch.setenv("SYNC_HTTP_TIMEOUT_SECONDS", "0.5")
    bridge.docmost.fault(delay=1.2, path_prefix="/api/pages/create")  # answers after the client gave up
    row = bridge.create_row(601, {"nom": "Lent", "client": [ACME]})
    bridge.sync()
    assert [p["title"] for p in bridge.pages("Projet Lent")] == ["Projet Lent - Acme Formation"]
    assert len(bridge.docmost.calls("/api/pages/create")) == 1
    item = EventItem.objects.get(row_id=row["id"])
    assert item.state == "processed" and "found by its marker" in item.reason
    timeout = HttpCall.objects.get(item=item, path="/api/pages/create")
    assert timeout.outcome == "ServiceTimeout" and timeout.status is None


def test_a_4xx_from_docmost_makes_the_item_dead_at_once_and_replay_fixes_it(bridge, make_user):
    bridge.docmost.fault(status=400, path_prefix="/api/pages/create")
    bridge.create_row(601, {"nom": "Refusé", "client": [ACME]})
    bridge.sync()
    item = EventItem.objects.get(event__table_id=601)
    assert item.state == "dead" and item.attempts == 1 and "400" in item.reason
    assert len(bridge.docmost.calls("/api/pages/create")) == 1  # no retry
    assert item.event.__class__.objects.get(pk=item.event_id).state == Event.State.DEAD
    assert not ServiceCircuit.objects.filter(state="open").exists()
    event_replay(event=item.event, user=make_user("admin", "admin"))
    bridge.sync()
    assert [p["title"] for p in bridge.pages("Projet Refusé")] == ["Projet Refusé - Acme Formation"]


def test_a_5xx_is_retried_quickly_inside_the_call(bridge):
    bridge.docmost.fault(status=503, count=2, path_prefix="/api/pages/info")
    bridge.create_row(601, {"nom": "Tenace", "client": [ACME]})
    bridge.sync()
    item = EventItem.objects.get(event__table_id=601)
    assert item.state == "processed"
    assert list(HttpCall.objects.filter(item=item, path="/api/pages/info").values_list("status", flat=True)[:3]) == [
        503, 503, 200,
    ]


def test_a_row_deleted_right_after_its_webhook_leaves_no_live_page(bridge):
    """The page is made from the delivered row (no read); the write-back finds the row gone: page archived."""
    row = bridge.create_row(601, {"nom": "Fantôme"})
    bridge.baserow.wait_for_deliveries()
    bridge.baserow.api("DELETE", f"/api/database/rows/table/601/{row['id']}/?send_webhook_events=false")
    bridge.sync()
    item = EventItem.objects.get(event__table_id=601)
    assert item.state == "ignored" and item.reason.startswith("skipped: row missing (deleted after its webhook)")
    assert not bridge.pages("Projet Fantôme")
    assert PageLink.objects.get(row_id=row["id"]).archived_at is not None


def test_a_row_missing_when_read_again_is_read_twice_more_then_skipped(bridge):
    row = bridge.create_row(601, {"nom": "Fantôme", "client": [ACME]})
    bridge.sync()
    bridge.baserow.api("DELETE", f"/api/database/rows/table/601/{row['id']}/?send_webhook_events=false")
    bridge.baserow.control("DELETE", "calls")
    mapping = TableMapping.objects.get(baserow_table_id=601)
    updated = EventFactory(event_type="rows.updated", table_id=601, mapping=mapping)
    EventItemFactory(event=updated, position=0, row_id=row["id"], entity_key=f"baserow:601:{row['id']}",
                     data={"id": row["id"], "nom": "Fantôme 2"})
    started = time.monotonic()
    process_all()
    item = updated.items.get()
    assert item.state == "ignored" and item.reason == "skipped: row missing"
    reads = [c for c in bridge.baserow.calls(f"/api/database/rows/table/601/{row['id']}/") if c["method"] == "GET"]
    assert len(reads) == 3 and time.monotonic() - started >= 0.4


def test_a_burst_of_updates_on_one_row_is_coalesced_into_one_sync_of_its_latest_state(bridge):
    row = bridge.create_row(601, {"nom": "Rafale", "client": [ACME]})
    bridge.sync()
    bridge.docmost.control("DELETE", "calls")
    for name in ("Rafale 1", "Rafale 2", "Rafale 3"):
        bridge.update_row(601, row["id"], {"nom": name})
    bridge.sync()
    updates = list(EventItem.objects.filter(event__table_id=601, event__event_type="rows.updated").order_by("pk"))
    assert [item.state for item in updates] == ["processed", "ignored", "ignored"]
    assert all(item.reason == f"coalesced into item #{updates[0].pk} (synced the row's latest state)"
               for item in updates[1:])
    assert len(bridge.docmost.calls("/api/pages/update")) == 1
    assert [p["title"] for p in bridge.pages("Projet Rafale")] == ["Projet Rafale 3 - Acme Formation"]
    assert Event.objects.filter(table_id=601, event_type="rows.updated", state="ignored").count() == 2


def test_more_than_ten_events_on_one_row_in_a_minute_raise_one_loop_alert(bridge):
    row = bridge.create_row(601, {"nom": "Toupie"})
    for index in range(11):
        bridge.update_row(601, row["id"], {"nom": f"Toupie {index}"})
    bridge.sync()
    alert = LoopAlert.objects.get()
    assert alert.entity_key == f"baserow:601:{row['id']}" and alert.event_count >= 11
    for index in range(3):
        bridge.update_row(601, row["id"], {"nom": f"Toupie encore {index}"})
    bridge.sync()
    assert LoopAlert.objects.count() == 1
    assert Notification.objects.filter(kind="sync.loop").count() == 1


def test_a_throttled_docmost_login_opens_the_circuit_for_its_wait_instead_of_a_login_storm(bridge):
    bridge.docmost.configure(login_limit=1)
    bridge.docmost.api("/api/auth/login", {"email": "nobody@docmost.test", "password": "wrong-password"})
    rows = [bridge.create_row(601, {"nom": f"Limité {number}", "client": [ACME]}) for number in range(3)]
    bridge.sync()

    items = EventItem.objects.filter(event__table_id=601, row_id__in=[row["id"] for row in rows])
    assert {item.state for item in items} == {"waiting"}
    circuit = ServiceCircuit.objects.get(service="docmost")
    assert circuit.state == "open"
    assert (circuit.next_probe_at - timezone.now()).total_seconds() > 30  # Retry-After-Auth, not the probe delay
    assert [call["status"] for call in bridge.docmost.calls("/api/auth/login")] == [401, 429]  # one refusal, no retry
