"""An admin finds a dead sync event from the landing page and replays it from the event's page."""

from django.utils import timezone

from formation_hub.access.roles import ensure_roles
from formation_hub.models import AuditEntry
from sync.models import Event, EventItem


def _dead_event() -> Event:
    now = timezone.now()
    event = Event.objects.create(
        event_id="0f5c2a1e-dead-4b1e-9c3a-000000000001", webhook_id=31, event_type="rows.updated", table_id=601,
        row_count=2, raw_body='{"items": [{"id": 1}, {"id": 2}]}', received_at=now, state=Event.State.DEAD,
        reason="Docmost answered 500 five times", attempts=5,
    )
    EventItem.objects.create(event=event, position=0, row_id=1, state=EventItem.State.PROCESSED, created_at=now)
    EventItem.objects.create(
        event=event, position=1, row_id=2, state=EventItem.State.DEAD, attempts=5, created_at=now,
        last_error="HTTP 500 from Docmost",
    )
    return event


def test_admin_replays_a_dead_event_from_the_console(page, login, make_user):
    ensure_roles()  # the live server's database is flushed between tests: give the groups their permissions
    event = _dead_event()
    login(make_user("ada", "admin")).wait_for_url(lambda url: "/login/" not in url)

    dead = page.locator("#panel-sync_health a[href$='state__exact=dead']")
    assert dead.inner_text() == "1"
    with page.expect_navigation():
        dead.click()
    with page.expect_navigation():
        page.locator("#result_list tbody tr", has_text="rows.updated").locator("th a, td a").first.click()
    with page.expect_navigation():
        page.click("button:has-text('Replay what did not succeed')")

    assert "1 item(s) queued again." in page.locator(".messagelist").inner_text()
    event.refresh_from_db()
    assert event.state == Event.State.RECEIVED
    states = list(event.items.order_by("position").values_list("state", flat=True))
    assert states == [EventItem.State.PROCESSED, EventItem.State.PENDING]
    assert AuditEntry.objects.filter(action="sync.event.replayed", object_id=str(event.pk)).exists()


def test_a_viewer_sees_the_dead_event_but_no_replay_button(page, login, make_user):
    ensure_roles()
    event = _dead_event()
    page = login(make_user("vera", "viewer"), next_path=f"/admin/sync/event/{event.pk}/change/")
    page.wait_for_url(lambda url: "/login/" not in url)
    assert "Docmost answered 500 five times" in page.locator("#content-main").inner_text()
    assert page.locator("button:has-text('Replay what did not succeed')").count() == 0
