"""The Docmost poll: compte-rendu pages and public shares found since the last cursor are stored as
events of source "docmost" (a second poll stores nothing), then flow through the same pipeline."""

import pytest
from django_q.models import Schedule

from formation_hub.audit import audit_entries_for
from formation_hub.models import Notification
from formation_hub.schedules import ensure_schedules
from sync.ingest.docmost_poll import docmost_poll
from sync.models import Event, EventItem, PageLink, PollCursor
from sync.rules.docmost_changes import alert_public_share, record_compte_rendu
from sync.tasks import poll_docmost, watch_baserow_webhooks
from tests.sync.conftest import process_all

pytestmark = pytest.mark.django_db(transaction=True)


def synced_rows(bridge) -> list[dict]:
    """comptes_rendus rows linked to a page (the demo has one without)."""
    return [row for row in bridge.baserow.rows(608) if row["docmost_page_id"]]


def write_compte_rendu(bridge, title="Compte rendu - Comité de pilotage", **options):
    parent = bridge.docmost.demo_ids["compte_rendu_parent_page_id"]
    options.setdefault("parentPageId", parent)
    return bridge.docmost.create_page("agence", title, "# Compte rendu\n\n## Décisions\n", **options)


def test_a_compte_rendu_page_becomes_a_comptes_rendus_row_once(bridge):
    page = write_compte_rendu(bridge)
    result = docmost_poll()
    assert result.stored == 1
    event = Event.objects.get(source="docmost")
    assert (event.event_type, event.event_id) == ("page.created", f"page:{page['id']}")
    process_all()
    [row] = synced_rows(bridge)
    assert row["titre"] == "Comité de pilotage" and row["docmost_page_id"] == page["id"]
    assert row["date"] == page["createdAt"][:10]
    assert EventItem.objects.get(event=event).state == "processed"
    assert docmost_poll().stored == 0
    bridge.docmost.update_page(page["id"], title="Compte rendu - Comité de pilotage (v2)")
    assert docmost_poll().stored == 0  # the same page changed again: a duplicate, nothing new
    assert PollCursor.objects.get(name="docmost.pages").position["id"] == page["id"]


def test_a_page_recognised_by_its_title_prefix_alone_counts_as_a_compte_rendu(bridge):
    write_compte_rendu(bridge, title="Compte rendu - Atelier", parentPageId=None)
    bridge.docmost.create_page("agence", "Notes diverses", "rien")
    docmost_poll()
    process_all()
    assert [row["titre"] for row in synced_rows(bridge)] == ["Atelier"]
    assert Event.objects.filter(source="docmost").count() == 1


def test_the_compte_rendu_rule_run_twice_creates_one_row(bridge):
    write_compte_rendu(bridge)
    docmost_poll()
    process_all()
    item = EventItem.objects.get(event__source="docmost")
    PageLink.objects.filter(logical_table="comptes_rendus").delete()  # even without the link, the row is found
    assert "row found" in record_compte_rendu(item, None)
    with pytest.raises(Exception, match="already exists"):
        record_compte_rendu(item, None)
    assert len(synced_rows(bridge)) == 1


def test_a_public_share_is_audited_and_alerts_admins_once(bridge):
    page = bridge.docmost.create_page("agence", "Tarifs clients", "confidentiel")
    share = bridge.docmost.create_share(page["id"])
    docmost_poll()
    process_all()
    event = Event.objects.get(event_type="share.created")
    assert event.event_id == f"share:{share['id']}"
    [entry] = [e for e in audit_entries_for(event) if e.action == "sync.docmost.public_share"]
    assert "Tarifs clients" in entry.message and entry.changes["key"] == share["key"]
    [alert] = Notification.objects.filter(kind="sync.public_share")
    assert "Tarifs clients" in alert.subject
    alert_public_share(EventItem.objects.get(event=event), None)
    assert docmost_poll().stored == 0
    assert Notification.objects.filter(kind="sync.public_share").count() == 1


def test_the_poll_waits_when_docmost_is_down_and_catches_up_after(bridge):
    write_compte_rendu(bridge)
    bridge.docmost.server.stop()
    with pytest.raises(Exception, match="unreachable"):
        docmost_poll()
    assert not Event.objects.filter(source="docmost").exists()
    bridge.docmost.server.start()
    assert docmost_poll().stored == 1


def test_the_poll_and_the_watchdog_are_schedules_whose_tasks_report_what_they_did(bridge):
    ensure_schedules()
    names = set(Schedule.objects.values_list("func", flat=True))
    assert {"sync.tasks.poll_docmost", "sync.tasks.watch_baserow_webhooks", "sync.tasks.sweep_events"} <= names
    write_compte_rendu(bridge)
    assert poll_docmost().endswith("1 event(s) stored")
    assert watch_baserow_webhooks() == "every webhook active"


def test_a_share_with_sub_pages_alerts_once_naming_each_sub_page_and_its_public_parent(bridge):
    course = bridge.docmost.create_page("agence", "Formation Python", "cours")
    block = bridge.docmost.create_page("agence", "Bloc 1 - Bases", "bloc", parentPageId=course["id"])
    parent_link = PageLink.objects.create(baserow_table_id=602, row_id=1, logical_table="formation",
                                          page_id=course["id"], synced_state={"title": "Formation Python"})
    PageLink.objects.create(baserow_table_id=603, row_id=1, logical_table="intervention", page_id=block["id"],
                            parent=parent_link, synced_state={"title": "Bloc 1 - Bases"})
    share = bridge.docmost.create_share(course["id"], includeSubPages=True)
    docmost_poll()
    process_all()
    docmost_poll()
    process_all()

    [alert] = Notification.objects.filter(kind="sync.public_share")
    assert "'Bloc 1 - Bases' (public through its parent 'Formation Python')" in alert.body
    [entry] = [e for e in audit_entries_for(Event.objects.get(event_id=f"share:{share['id']}"))
               if e.action == "sync.docmost.public_share"]
    assert entry.changes["public_sub_pages"] == [block["id"]]


def test_the_poll_reads_only_the_configured_spaces(bridge):
    bridge.docmost.create_space("Direction", "direction")
    bridge.docmost.control("POST", "pages", {"spaceId": "direction", "title": "Compte rendu - Conseil secret",
                                             "content": "x", "userEmail": bridge.docmost.bot_email})
    write_compte_rendu(bridge, title="Compte rendu - Visible")

    docmost_poll()

    assert [item.data["title"] for item in EventItem.objects.filter(event__source="docmost")] == [
        "Compte rendu - Visible"]
    recent = bridge.docmost.calls("/api/pages/recent")
    assert recent and all(call.get("body", {}).get("spaceId") for call in recent)
