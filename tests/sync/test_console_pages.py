"""Small things on the sync console's pages (issue 16, point 18): the trace's heading and tab title, Replay
only where something is left to replay, the Docmost page as a link."""

import pytest
from django.urls import reverse

from sync import conf
from sync.models import Event, EventItem, PageLink
from tests.sync.factories import EventFactory, EventItemFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_rules")]


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("ada", "admin", is_superuser=True))
    return client


def test_the_trace_has_one_heading_and_the_console_tab_title(admin_client):
    event = EventFactory(state=Event.State.PROCESSED)
    body = admin_client.get(reverse("admin:sync_event_trace", args=[event.pk])).content.decode()
    assert body.count("<h1>") == 1 and body.count(f"Trace of {event}") == 2  # the heading and the tab title
    assert f"<title>Trace of {event} | formation-hub ops console</title>" in body
    assert "Django site admin" not in body


def test_replay_is_offered_only_while_an_item_did_not_succeed(admin_client):
    done = EventFactory(state=Event.State.PROCESSED)
    EventItemFactory(event=done, state=EventItem.State.PROCESSED)
    dead = EventFactory(state=Event.State.DEAD)
    EventItemFactory(event=dead, state=EventItem.State.PROCESSED)
    EventItemFactory(event=dead, state=EventItem.State.DEAD)
    processed_page = admin_client.get(reverse("admin:sync_event_change", args=[done.pk])).content.decode()
    assert "Replay what did not succeed" not in processed_page
    dead_page = admin_client.get(reverse("admin:sync_event_change", args=[dead.pk])).content.decode()
    assert "Replay what did not succeed" in dead_page


def test_the_docmost_page_of_a_row_is_a_link_into_docmost(admin_client, demo_mappings):
    PageLink.objects.create(baserow_table_id=601, row_id=7, logical_table="projet", page_id="019b-page-uuid",
                            page_slug_id="x7Yq2")
    PageLink.objects.create(baserow_table_id=602, row_id=8, logical_table="formation", page_id="019b-course-uuid",
                            page_slug_id="c0urse")
    port = conf.standin_docmost_port()
    body = admin_client.get(reverse("admin:sync_pagelink_changelist")).content.decode()
    link = f'<a href="http://127.0.0.1:{port}/s/agence/p/x7Yq2" rel="noopener" target="_blank">019b-page-uuid</a>'
    assert link in body
    assert f'href="http://127.0.0.1:{port}/s/formations/p/c0urse"' in body
