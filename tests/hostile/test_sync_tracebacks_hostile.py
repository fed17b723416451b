"""A sync failure's traceback (server paths, code) is for the sync operator; a viewer or an on-call person
reads the one-line error on the event and item pages (issue 17, low)."""

import pytest
from django.urls import reverse

from sync.models import Event, EventItem
from tests.sync.factories import EventFactory, EventItemFactory

TRACEBACK = ('Traceback (most recent call last):\n  File "/srv/formation-hub/sync/processing/pipeline.py", '
             'line 240, in item_process\nConnectionError: docmost down')
ONE_LINE = "ConnectionError: docmost down"


@pytest.fixture
def failed_item(db):
    event = EventFactory(state=Event.State.FAILED, reason=ONE_LINE, last_error=ONE_LINE, last_traceback=TRACEBACK)
    return EventItemFactory(event=event, state=EventItem.State.FAILED, reason=ONE_LINE, last_error=TRACEBACK)


def _pages(client, person, item) -> list[str]:
    client.force_login(person)
    urls = [reverse("admin:sync_event_change", args=[item.event_id]),
            reverse("admin:sync_eventitem_change", args=[item.pk])]
    pages = [client.get(url) for url in urls]
    assert all(page.status_code == 200 for page in pages)
    return [page.content.decode() for page in pages]


@pytest.mark.parametrize("role", ["viewer", "oncall", "release-approver"])
def test_people_outside_sync_operations_read_the_one_line_error_only(client, make_user, failed_item, role):
    for page in _pages(client, make_user(f"member-{role}", role), failed_item):
        assert ONE_LINE in page
        assert "/srv/formation-hub" not in page and "Traceback" not in page


def test_the_sync_operator_reads_the_traceback(client, make_user, failed_item):
    event_page, item_page = _pages(client, make_user("olga", "admin"), failed_item)
    assert "/srv/formation-hub/sync/processing/pipeline.py" in event_page
    assert "/srv/formation-hub/sync/processing/pipeline.py" in item_page
