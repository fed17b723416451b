"""projet and formation rules end to end: the stand-in Baserow sends real webhooks to a live server of
the app, the rules call the stand-in Docmost and write back into Baserow."""

import time

import pytest

from sync.clients.docmost import DocmostClient
from sync.clients.errors import ServiceTimeout
from sync.models import BaserowConnection, DocmostConnection, Event, EventItem, PageCreation, PageLink, TableMapping
from sync.processing.pages import PageSpec, page_ensure
from sync.rules.formation import create_formation_pages
from sync.rules.projet import archive_project_page, create_project_page, update_project_page_title
from tests.sync.factories import EventFactory

pytestmark = pytest.mark.django_db(transaction=True)

ACME = 1  # the first client row of the Baserow demo


def test_projet_created_makes_the_page_from_the_template_and_writes_its_id_back(bridge):
    row = bridge.create_row(601, {"nom": "Apollo", "client": [ACME], "statut": 60102})
    bridge.sync()
    [page] = bridge.pages("Projet Apollo")
    assert page["title"] == "Projet Apollo - Acme Formation" and page["icon"] == "🟢"
    assert "## Objectifs" in page["content"] and "# Projet Apollo - Acme Formation" in page["content"]
    link = PageLink.objects.get(baserow_table_id=601, row_id=row["id"])
    assert link.page_id == page["id"]
    assert bridge.row(601, row["id"])["docmost_page_id"] == page["id"]
    item = EventItem.objects.get(event__event_type="rows.created", row_id=row["id"])
    assert item.state == "processed" and "page created" in item.reason and "written back" in item.reason


def test_a_projet_without_client_is_titled_without_a_dangling_dash(bridge):
    bridge.create_row(601, {"nom": "Sans client", "client": []})
    bridge.sync()
    [page] = bridge.pages("Projet Sans client")
    assert page["title"] == "Projet Sans client"


def test_the_full_loop_ignores_baserows_echo_as_own_write_and_still_takes_a_real_change(bridge):
    BaserowConnection.objects.update(send_webhook_events_on_write=True)
    row = bridge.create_row(601, {"nom": "Boucle", "client": [ACME]})
    bridge.sync()  # created -> page -> page id written back, which Baserow echoes as rows.updated
    bridge.sync()
    echo = EventItem.objects.get(event__event_type="rows.updated", row_id=row["id"])
    assert echo.state == "ignored" and echo.reason == "own write: only bridge-owned field(s) changed (docmost_page_id)"
    assert echo.old_data["docmost_page_id"] in (None, "") and echo.data["docmost_page_id"]
    bridge.update_row(601, row["id"], {"nom": "Boucle 2"})
    bridge.sync()
    real = EventItem.objects.filter(event__event_type="rows.updated", row_id=row["id"]).order_by("pk").last()
    assert real.state == "processed"
    assert [page["title"] for page in bridge.pages("Projet Boucle")] == ["Projet Boucle 2 - Acme Formation"]


def test_write_backs_fire_no_webhook_by_default(bridge):
    row = bridge.create_row(601, {"nom": "Silence"})
    bridge.sync()
    assert bridge.row(601, row["id"])["docmost_page_id"]
    assert not bridge.baserow.deliveries(table_id=601, event_type="rows.updated")


def test_projet_title_and_status_update_the_page_title_and_icon(bridge):
    row = bridge.create_row(601, {"nom": "Hermès", "client": [ACME], "statut": 60101})
    bridge.sync()
    bridge.update_row(601, row["id"], {"nom": "Hermès 2", "statut": 60103})
    bridge.sync()
    [page] = bridge.pages("Projet Hermès")
    assert (page["title"], page["icon"]) == ("Projet Hermès 2 - Acme Formation", "✅")


def test_an_update_that_changes_nothing_the_page_shows_is_ignored(bridge):
    row = bridge.create_row(601, {"nom": "Calme", "client": [ACME]})
    bridge.sync()
    bridge.update_row(601, row["id"], {"client": [ACME, 2]})
    bridge.update_row(601, row["id"], {"client": [ACME]})
    bridge.sync()
    updates = EventItem.objects.filter(event__event_type="rows.updated", row_id=row["id"]).order_by("pk")
    assert updates[0].state == "ignored" and updates[0].reason == "title and icon already as last synced"


def test_a_linked_table_update_without_old_items_is_compared_with_the_last_synced_state(bridge):
    row = bridge.create_row(601, {"nom": "Lien", "client": [ACME]})
    bridge.sync()
    bridge.update_row(601, row["id"], {"nom": "Lien renommé"}, webhooks=False)
    bridge.create_row(605, {"nom": "Attribution", "projet": [row["id"]]})  # projet gets a linked rows.updated
    bridge.sync()
    linked = EventItem.objects.get(event__event_type="rows.updated", event__table_id=601, row_id=row["id"])
    assert linked.old_data is None and linked.state == "processed"
    assert [page["title"] for page in bridge.pages("Projet Lien")] == ["Projet Lien renommé - Acme Formation"]
    bridge.create_row(605, {"nom": "Autre", "projet": [row["id"]]})
    bridge.sync()
    again = EventItem.objects.filter(event__table_id=601, event__event_type="rows.updated").order_by("pk").last()
    assert again.state == "ignored" and again.reason == "title and icon already as last synced"


def test_a_deleted_row_archives_its_page_and_a_restored_row_brings_it_back_without_a_duplicate(bridge):
    row = bridge.create_row(601, {"nom": "Phénix", "client": [ACME]})
    bridge.sync()
    bridge.delete_row(601, row["id"])
    bridge.sync()
    deleted = EventItem.objects.get(event__event_type="rows.deleted")
    assert deleted.row_id == row["id"] and deleted.data is None and deleted.state == "processed"
    [page] = bridge.pages("[Archivé] Projet Phénix")
    assert page["icon"] == "🗄️" and page["deletedAt"] is None  # visible, never deleted
    bridge.baserow.restore_row(601, row["id"])
    bridge.sync()
    pages = [p for p in bridge.docmost.pages() if "Phénix" in str(p["title"])]
    assert [(p["id"], p["title"]) for p in pages] == [(page["id"], "Projet Phénix - Acme Formation")]
    assert PageLink.objects.get(row_id=row["id"], baserow_table_id=601).archived_at is None


def test_formation_created_makes_a_course_page_with_one_sub_page_per_block(bridge):
    blocks = bridge.baserow.add_rows(603, [{"nom": "Bloc 1 - Bases"}, {"nom": "Bloc 2 - Pratique"}])
    row = bridge.create_row(602, {"nom": "Python", "statut": 60201, "blocs": [b["id"] for b in blocks]})
    bridge.sync()
    [course] = bridge.pages("Formation Python")
    assert course["icon"] == "📝" and "Objectifs pédagogiques" in course["content"]
    children = sorted(p["title"] for p in bridge.docmost.pages() if p["parentPageId"] == course["id"])
    assert children == ["Bloc 1 - Bases", "Bloc 2 - Pratique"]
    assert bridge.row(602, row["id"])["docmost_page_id"] == course["id"]
    bridge.update_row(602, row["id"], {"nom": "Python avancé", "statut": 60202})
    bridge.sync()
    assert [(p["title"], p["icon"]) for p in bridge.pages("Formation Python")] == [("Formation Python avancé", "📗")]
    bridge.delete_row(602, row["id"])
    bridge.sync()
    assert [p["title"] for p in bridge.pages("[Archivé] Formation")] == ["[Archivé] Formation Python avancé"]


def test_every_page_rule_run_twice_on_the_same_item_changes_nothing_more(bridge):
    row = bridge.create_row(601, {"nom": "Idem", "client": [ACME]})
    blocks = bridge.baserow.add_rows(603, [{"nom": "Bloc unique"}])
    course = bridge.create_row(602, {"nom": "Idem", "blocs": [blocks[0]["id"]]})
    bridge.sync()
    projet = TableMapping.objects.get(logical_table="projet")
    formation = TableMapping.objects.get(logical_table="formation")
    created = EventItem.objects.get(event__table_id=601, event__event_type="rows.created")
    course_item = EventItem.objects.get(event__table_id=602, event__event_type="rows.created")
    bridge.docmost.control("DELETE", "calls")
    bridge.baserow.control("DELETE", "calls")
    assert "page already exists" in create_project_page(created, projet)
    assert "page already exists" in create_formation_pages(course_item, formation)
    with pytest.raises(Exception, match="no page was ever created|already archived|title and icon"):
        update_project_page_title(created, projet)
    writes = [c for c in bridge.docmost.calls() if c["path"] in ("/api/pages/create", "/api/pages/update")]
    assert writes == []
    assert [c for c in bridge.baserow.calls() if c["method"] != "GET"] == []
    assert len(bridge.pages("Projet Idem")) == 1 and len(bridge.pages("Bloc unique")) == 1
    bridge.delete_row(601, row["id"])
    bridge.sync()
    deleted = EventItem.objects.get(event__event_type="rows.deleted")
    with pytest.raises(Exception, match="page already archived"):
        archive_project_page(deleted, projet)
    assert course and Event.objects.filter(state="dead").count() == 0


def test_a_page_create_whose_answer_was_lost_is_found_on_retry_behind_more_than_200_newer_pages(bridge):
    mapping = TableMapping.objects.get(baserow_table_id=601)
    event = EventFactory()
    space_id = bridge.docmost.demo_ids["space_agence_id"]
    client = DocmostClient.from_connection(DocmostConnection.objects.get(), timeout=(1.0, 0.2))
    client.transport.sleep = lambda seconds: None
    spec = PageSpec(title="Projet Perdu - Acme Formation", icon="", space_id=space_id)
    bridge.docmost.fault(delay=0.6, count=1, path_prefix="/api/pages/create")

    with pytest.raises(ServiceTimeout):
        page_ensure(docmost=client, event=event, mapping=mapping, row_id=9001, spec=spec)
    assert PageCreation.objects.filter(baserow_table_id=601, row_id=9001).exists()
    deadline = time.monotonic() + 3
    while not bridge.pages("Projet Perdu") and time.monotonic() < deadline:
        time.sleep(0.05)
    for number in range(210):
        bridge.docmost.create_page(space_id, f"Page plus récente {number}")
    link, what = page_ensure(docmost=client, event=event, mapping=mapping, row_id=9001, spec=spec)

    assert "found by its marker" in what
    assert [page["id"] for page in bridge.pages("Projet Perdu")] == [link.page_id]
    assert len(bridge.docmost.calls("/api/pages/create")) == 1
    assert not PageCreation.objects.exists()
