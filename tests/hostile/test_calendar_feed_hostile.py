"""The iCal address: one secret per person, kept as a digest, reset by its owner; a viewer's feed shows
their own shifts only; a shift keeps its UID from one fetch to the next (issue 17, point 12)."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from formation_hub.models import AuditEntry
from incidents.models import CalendarFeed
from tests.incidents.factories import RotationFactory, RotationMemberFactory


@pytest.fixture
def now(monkeypatch):
    moment = {"now": datetime(2026, 11, 20, 13, 0, tzinfo=UTC)}
    monkeypatch.setattr(timezone, "now", lambda: moment["now"])
    return moment


@pytest.fixture
def people(make_user):
    """A rotation where alice (on call) and victor (viewer) take turns."""
    rotation = RotationFactory(name="primary")
    alice, victor = make_user("alice", "oncall"), make_user("victor", "viewer")
    for position, person in enumerate([alice, victor]):
        RotationMemberFactory(rotation=rotation, user=person, position=position)
    return {"alice": alice, "victor": victor}


def _address(client, person) -> str:
    client.force_login(person)
    home = client.get(reverse("incidents:home")).content.decode()
    return "/oncall/calendar/" + home.split("/oncall/calendar/")[1].split('"')[0]


def _events(address: str, query: str = "") -> list:
    response = Client().get(address + query)
    assert response.status_code == 200
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def test_a_viewers_feed_shows_only_their_shifts_even_when_asked_for_everyone(client, people, now):
    summaries = {str(event["summary"]) for event in _events(_address(client, people["victor"]), "?all=1")}
    assert summaries and all(summary.endswith(": victor") for summary in summaries)


def test_a_responder_may_ask_their_feed_for_the_whole_rotation(client, people, now):
    address = _address(client, people["alice"])
    assert {str(event["summary"]).rsplit(": ", 1)[1] for event in _events(address, "?all=1")} == {"alice", "victor"}
    assert {str(event["summary"]).rsplit(": ", 1)[1] for event in _events(address)} == {"alice"}


def test_the_address_is_the_same_on_every_visit_and_only_its_digest_is_stored(client, people, now):
    first, second = _address(client, people["victor"]), _address(client, people["victor"])
    assert first == second
    secret = first.removeprefix("/oncall/calendar/").removesuffix(".ics")
    feed = CalendarFeed.objects.get()
    assert feed.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(CalendarFeed.objects.values().get())


def test_resetting_the_link_ends_the_old_address_at_once_and_is_audited(client, people, now):
    old = _address(client, people["victor"])
    assert client.get(reverse("incidents:calendar_reset")).status_code == 405
    response = client.post(reverse("incidents:calendar_reset"), follow=True)
    assert "the old address no longer works" in response.content.decode()
    new = _address(client, people["victor"])
    assert new != old and Client().get(old).status_code == 404 and _events(new)
    assert AuditEntry.objects.filter(action="oncall.calendar_link_reset", actor=people["victor"]).exists()


def test_the_address_of_a_deactivated_person_answers_nothing(client, people, now):
    address = _address(client, people["victor"])
    people["victor"].is_active = False
    people["victor"].save()
    assert Client().get(address).status_code == 404


def test_each_shift_keeps_its_uid_from_one_fetch_to_the_next(client, people, now):
    address = _address(client, people["alice"])
    first = {str(event["uid"]): event["dtstart"].dt for event in _events(address, "?all=1")}
    now["now"] += timedelta(hours=3, minutes=7, seconds=11)
    second = {str(event["uid"]): event["dtstart"].dt for event in _events(address, "?all=1")}
    assert first and first == second


def test_the_first_visit_makes_only_the_visitors_own_link_and_later_visits_write_nothing(client, people, now):
    """The on-call home page (a GET) makes its visitor's calendar link once, for them alone: the matrix
    makes every demo person's link before its GETs, which must then change nothing."""
    entries = AuditEntry.objects.count()
    _address(client, people["victor"])
    assert list(CalendarFeed.objects.values_list("user__username", flat=True)) == ["victor"]
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)[entries:]) == [
        "oncall.calendar_link_created"]
    entries = AuditEntry.objects.count()
    _address(client, people["victor"])
    assert AuditEntry.objects.count() == entries and CalendarFeed.objects.count() == 1
