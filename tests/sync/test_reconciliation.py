"""Reconciliation (console action and resync_unmapped), the Baserow watchdog, and the trace of an event."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from formation_hub.models import Notification
from sync.demo import DEMO_RECONCILIATION
from sync.models import BaserowConnection, Event, EventItem, HttpCall, PageLink, Reconciliation
from sync.upkeep.watchdog import baserow_webhooks_watch

pytestmark = pytest.mark.django_db(transaction=True)


def import_projects(bridge, *names):
    """Rows written like an import: no webhook fires (contracts 1.3)."""
    return bridge.baserow.add_rows(601, [{"nom": name, "client": [1]} for name in names])


def test_resync_unmapped_dry_run_lists_the_rows_without_a_page_and_changes_nothing(bridge):
    rows = import_projects(bridge, "Import A", "Import B")
    out = StringIO()
    call_command("resync_unmapped", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "would sync" in text
    for row in rows:
        assert f"projet row {row['id']}: {row['nom']}" in text
    assert not bridge.pages("Projet Import")
    assert not Event.objects.exists()
    assert Reconciliation.objects.get().dry_run is True


def test_resync_unmapped_syncs_the_rows_without_a_page_and_a_second_run_finds_none(bridge):
    import_projects(bridge, "Import C", "Import D")
    call_command("resync_unmapped", stdout=StringIO())
    event = Event.objects.get(source="reconcile", table_id=601)
    assert event.event_type == "rows.created" and event.row_count == 4  # the 2 demo projects and the 2 imports
    bridge.sync()
    assert sorted(p["title"] for p in bridge.pages("Projet Import")) == [
        "Projet Import C - Acme Formation", "Projet Import D - Acme Formation",
    ]
    assert all(row["docmost_page_id"] for row in bridge.baserow.rows(601) if row["nom"].startswith("Import"))
    out = StringIO()
    call_command("resync_unmapped", "--dry-run", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if "Import" in line]
    assert lines == []


def test_the_console_reconciliation_actions_dry_run_then_run(bridge, admin_client):
    import_projects(bridge, "Console E")
    url = reverse("admin:sync_tablemapping_changelist")
    response = admin_client.post(url, {"action": "reconcile_dry_run", "_selected_action": ["1"]}, follow=True)
    assert "Dry run: " in response.content.decode() and "Console E" in response.content.decode()
    assert not Event.objects.exists()
    response = admin_client.post(url, {"action": "reconcile_for_real", "_selected_action": ["1"]}, follow=True)
    assert "queued for sync" in response.content.decode()
    bridge.sync()
    assert [p["title"] for p in bridge.pages("Projet Console")] == ["Projet Console E - Acme Formation"]


def test_the_watchdog_re_enables_a_switched_off_webhook_notifies_and_reconciles(bridge):
    bridge.baserow.update_webhook(1, active=False)  # projet's webhook, switched off by Baserow
    bridge.create_row(601, {"nom": "Perdu", "client": [1]})  # never delivered
    bridge.baserow.wait_for_deliveries()
    assert not Event.objects.filter(table_id=601).exists()
    assert "re-enabled projet (webhook 1)" in baserow_webhooks_watch()
    assert bridge.baserow.webhook(1)["active"] is True
    assert Notification.objects.filter(kind="sync.webhook_reenabled").count() == 1
    bridge.sync()
    assert [p["title"] for p in bridge.pages("Projet Perdu")] == ["Projet Perdu - Acme Formation"]
    assert baserow_webhooks_watch() == "every webhook active"


def test_the_watchdog_without_admin_credentials_leaves_it_to_the_silent_table_flag(bridge):
    BaserowConnection.objects.update(admin_email="")
    assert "no Baserow admin credentials" in baserow_webhooks_watch()


def test_the_trace_shows_every_attempt_call_and_audit_entry_in_order_without_secrets(bridge, admin_client):
    bridge.docmost.fault(status=503, count=1, path_prefix="/api/pages/info")
    row = bridge.create_row(601, {"nom": "Traçable", "client": [1]})
    bridge.sync()
    event = Event.objects.get(table_id=601, event_type="rows.created")
    calls = list(HttpCall.objects.filter(event=event).values_list("method", "path", "status"))
    assert ("POST", "/api/pages/info", 503) in calls and ("POST", "/api/pages/create", 200) in calls
    assert any(method == "PATCH" and path.startswith(f"/api/database/rows/table/601/{row['id']}/")
               for method, path, _ in calls)
    response = admin_client.get(reverse("admin:sync_event_trace", args=[event.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    order = [html.index(marker) for marker in (
        "POST /api/pages/info</code></td><td>503", "POST /api/pages/info</code></td><td>200",
        "POST /api/pages/create</code></td><td>200",
        "sync.page.created", "sync.row.written_back", "sync.item.processed",
    )]
    assert order == sorted(order)
    for secret in (bridge.baserow.token, "demo-docmost-password", "demo-baserow-admin", "Bearer ", "Token demo"):
        assert secret not in html
    out = StringIO()
    call_command("trace_event", event.event_id, stdout=out)
    assert "call     docmost POST /api/pages/info [503]" in out.getvalue()
    assert PageLink.objects.filter(row_id=row["id"]).exists()


def test_reconciliation_skips_rows_that_still_have_an_unfinished_item(bridge):
    rows = import_projects(bridge, "Import Busy", "Import Free")
    busy = rows[0]
    event = Event.objects.create(source="reconcile", event_id="busy", event_type="rows.created", table_id=601,
                                 row_count=1, received_at=timezone.now(), state=Event.State.PROCESSING,
                                 claimed_at=timezone.now())
    EventItem.objects.create(event=event, position=0, row_id=busy["id"], entity_key=f"baserow:601:{busy['id']}",
                             data=busy, created_at=timezone.now())
    out = StringIO()
    call_command("resync_unmapped", "--dry-run", stdout=out)
    assert "Import Free" in out.getvalue()
    assert "Import Busy" not in out.getvalue()


def test_reconciliation_recovers_updates_and_deletes_made_while_the_webhook_was_off(bridge):
    kept = bridge.create_row(601, {"nom": "Kept", "client": [1]})
    gone = bridge.create_row(601, {"nom": "Gone", "client": [1]})
    bridge.sync()
    assert len(bridge.pages("Projet Kept")) == len(bridge.pages("Projet Gone")) == 1
    for webhook in bridge.baserow.webhooks():
        bridge.baserow.update_webhook(webhook["id"], active=False)
    bridge.update_row(601, kept["id"], {"nom": "Kept Renamed"})
    bridge.delete_row(601, gone["id"])
    bridge.sync()
    assert bridge.pages("Projet Kept Renamed") == []  # nothing arrived
    out = StringIO()
    call_command("resync_unmapped", "--dry-run", stdout=out)
    assert "updated: 'Projet Kept - Acme Formation' -> 'Projet Kept Renamed - Acme Formation'" in out.getvalue()
    assert "deleted: 'Projet Gone - Acme Formation' to archive" in out.getvalue()
    call_command("resync_unmapped", stdout=StringIO())
    assert set(Event.objects.filter(source="reconcile").values_list("event_type", flat=True)) >= {
        "rows.updated", "rows.deleted"}
    bridge.sync()
    assert [p["title"] for p in bridge.pages("Projet Kept")] == ["Projet Kept Renamed - Acme Formation"]
    assert [p["title"] for p in bridge.pages("[Archivé] Projet Gone")] == ["[Archivé] Projet Gone - Acme Formation"]
    out = StringIO()
    call_command("resync_unmapped", "--dry-run", stdout=out)
    assert "updated:" not in out.getvalue() and "deleted:" not in out.getvalue()


def test_the_demo_gives_the_seeded_rows_their_pages_once_the_worker_runs(bridge):
    """The stand-in's seeded projet rows predate every webhook: the demo queues one reconciliation for them."""
    schedule = Schedule.objects.get(name=DEMO_RECONCILIATION)
    assert schedule.schedule_type == Schedule.ONCE and schedule.next_run > timezone.now()
    assert "queued" in import_string(schedule.func)()
    bridge.sync()
    seeded = bridge.baserow.rows(601)
    assert seeded and all(row["docmost_page_id"] for row in seeded), seeded
