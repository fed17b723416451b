"""Console pages for what issue 4 adds: page links, service circuits, loop alerts, reconciliations, the
trace; bounded queries per changelist; the probe and resolve actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from formation_hub.audit import audit_entries_for
from formation_hub.errors import NotAllowed
from sync.clients.circuits import circuits_probe_due, circuits_probe_now
from sync.models import DocmostConnection, HttpCall, LoopAlert, PageLink, Reconciliation, ServiceCircuit
from sync.processing.enqueue import events_due_for_sweep
from sync.upkeep.loop_alerts import loop_alerts_resolve
from tests.sync.factories import EventFactory, EventItemFactory

pytestmark = pytest.mark.django_db


def make_rows():
    for row_id in range(5):
        PageLink.objects.create(baserow_table_id=601, row_id=row_id, logical_table="projet", page_id=f"p{row_id}")
        LoopAlert.objects.create(entity_key=f"baserow:601:{row_id}", event_count=12, first_event_at=timezone.now(),
                                 detected_at=timezone.now())
        Reconciliation.objects.create(started_at=timezone.now(), dry_run=True, trigger="console", actor_label="x",
                                      rows_found=[{"row_id": row_id}])
    ServiceCircuit.objects.create(service="docmost", state="open", opened_at=timezone.now())


@pytest.mark.parametrize("model", ["pagelink", "loopalert", "reconciliation", "servicecircuit"])
def test_each_new_changelist_renders_with_a_bounded_number_of_queries(admin_client, django_assert_max_num_queries,
                                                                       model):
    make_rows()
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse(f"admin:sync_{model}_changelist"))
    assert response.status_code == 200


def test_nobody_edits_a_page_link_or_an_alert_in_the_console(admin_client):
    make_rows()
    link = PageLink.objects.first()
    response = admin_client.post(reverse("admin:sync_pagelink_change", args=[link.pk]), {"page_id": "x"})
    assert response.status_code == 403 or PageLink.objects.get(pk=link.pk).page_id != "x"
    assert admin_client.get(reverse("admin:sync_loopalert_add")).status_code == 403


def test_resolving_a_loop_alert_is_audited_and_a_new_alert_can_follow(admin_client):
    make_rows()
    alert = LoopAlert.objects.get(entity_key="baserow:601:0")
    admin_client.post(reverse("admin:sync_loopalert_changelist"),
                      {"action": "resolve_loop_alerts", "_selected_action": [alert.pk]})
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert [entry.action for entry in audit_entries_for(alert)] == ["sync.loop.resolved"]
    LoopAlert.objects.create(entity_key=alert.entity_key, event_count=11, first_event_at=timezone.now(),
                             detected_at=timezone.now())


def test_probing_a_service_that_is_still_down_keeps_its_circuit_open(admin_client, demo_mappings, monkeypatch):
    monkeypatch.setenv("SYNC_HEALTH_TIMEOUT_SECONDS", "0.5")
    DocmostConnection.objects.update(url="http://127.0.0.1:9")  # nothing listens there
    circuit = ServiceCircuit.objects.create(service="docmost", state="open", opened_at=timezone.now(),
                                            next_probe_at=timezone.now() + timedelta(minutes=5))
    response = admin_client.post(reverse("admin:sync_servicecircuit_changelist"),
                                 {"action": "probe_now", "_selected_action": [circuit.pk]}, follow=True)
    assert "Still down" in response.content.decode()
    circuit.refresh_from_db()
    assert circuit.state == "open" and circuit.probes == 1 and circuit.next_probe_at > timezone.now()


def test_a_viewer_may_not_resolve_a_loop_alert(make_user):
    make_rows()
    with pytest.raises(NotAllowed):
        loop_alerts_resolve(alerts=LoopAlert.objects.all(), user=make_user("vic", "viewer"))
    assert not LoopAlert.objects.filter(resolved_at__isnull=False).exists()
    assert not audit_entries_for(LoopAlert.objects.first())


def test_asking_for_a_probe_is_audited_with_who_asked(admin_client, demo_mappings, monkeypatch):
    monkeypatch.setenv("SYNC_HEALTH_TIMEOUT_SECONDS", "0.5")
    DocmostConnection.objects.update(url="http://127.0.0.1:9")  # nothing listens there
    circuit = ServiceCircuit.objects.create(service="docmost", state="open", opened_at=timezone.now(),
                                            next_probe_at=timezone.now() + timedelta(minutes=5))
    admin_client.post(reverse("admin:sync_servicecircuit_changelist"),
                      {"action": "probe_now", "_selected_action": [circuit.pk]})
    asked = [entry for entry in audit_entries_for(circuit) if entry.action == "sync.circuit.probe_asked"]
    assert [entry.actor.username for entry in asked] == ["admin"]


def test_a_viewer_may_not_ask_for_a_probe(make_user):
    later = timezone.now() + timedelta(minutes=5)
    circuit = ServiceCircuit.objects.create(service="docmost", state="open", opened_at=timezone.now(),
                                            next_probe_at=later)
    with pytest.raises(NotAllowed):
        circuits_probe_now(circuits=ServiceCircuit.objects.all(), user=make_user("vic", "viewer"))
    circuit.refresh_from_db()
    assert circuit.next_probe_at == later and circuit.probes == 0


def test_the_event_page_links_to_its_trace_and_the_trace_lists_the_calls(admin_client):
    item = EventItemFactory()
    HttpCall.objects.create(event=item.event, item=item, at=timezone.now(), service="docmost", method="POST",
                            path="/api/pages/create", status=201, duration_ms=12, attempt=1, outcome="ok")
    trace_url = reverse("admin:sync_event_trace", args=[item.event.pk])
    assert trace_url in admin_client.get(reverse("admin:sync_event_change", args=[item.event.pk])).content.decode()
    html = admin_client.get(trace_url).content.decode()
    assert "POST /api/pages/create</code></td><td>201" in html and "12 ms, attempt 1, ok" in html


def test_the_trace_needs_a_console_login(client):
    item = EventItemFactory()
    response = client.get(reverse("admin:sync_event_trace", args=[item.event.pk]))
    assert response.status_code == 302


def test_the_sweeper_enqueues_due_waiting_items_oldest_first():
    now = timezone.now()
    newer = EventFactory(state="failed")
    older = EventFactory(state="failed")
    EventItemFactory(event=newer, state="waiting", next_attempt_at=now - timedelta(seconds=1), created_at=now)
    EventItemFactory(event=older, state="waiting", next_attempt_at=now - timedelta(seconds=1),
                     created_at=now - timedelta(minutes=5))
    EventItemFactory(state="waiting", next_attempt_at=now + timedelta(minutes=1), event__state="failed")
    assert list(events_due_for_sweep()) == [older.pk, newer.pk]


def test_a_failed_probe_moves_the_waiting_items_to_the_next_probe(demo_mappings, monkeypatch):
    monkeypatch.setenv("SYNC_HEALTH_TIMEOUT_SECONDS", "0.5")
    DocmostConnection.objects.update(url="http://127.0.0.1:9")
    ServiceCircuit.objects.create(service="docmost", state="open", opened_at=timezone.now(),
                                  next_probe_at=timezone.now() - timedelta(seconds=1))
    item = EventItemFactory(state="waiting", reason="waiting for Docmost: refused", event__state="failed",
                            next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert circuits_probe_due() == []
    item.refresh_from_db()
    assert item.next_attempt_at == ServiceCircuit.objects.get().next_probe_at > timezone.now()
    assert list(events_due_for_sweep()) == []
