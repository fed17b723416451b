"""The iCal feed of on-call shifts, so people see them in their calendar, and each person's private
address for it (issue 17, point 12).

A calendar app cannot sign in: the address carries a per-person secret (`CalendarFeed`), shown on
the person's on-call page and reset from there, which ends the old address. The feed shows the
person's own shifts; someone who responds to incidents may ask for the whole rotation (`?all=1`).
Each shift keeps its UID from one fetch to the next (the window starts and ends at handoffs), so a
calendar updates a shift instead of adding it twice.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from icalendar import Calendar, Event

from formation_hub.audit import audit_record
from incidents.models import CalendarFeed
from incidents.oncall.rotation import Schedule, active_rotation, shifts
from incidents.permissions import can_respond

FEED_PAST, FEED_AHEAD = timedelta(weeks=1), timedelta(weeks=8)


def _secret(user, nonce: str) -> str:
    return salted_hmac("incidents.oncall-calendar", f"{user.pk}:{nonce}", algorithm="sha256").hexdigest()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def calendar_secret(user) -> str:
    """The secret of the person's calendar address, made the first time they need it."""
    nonce = secrets.token_hex(16)
    feed, created = CalendarFeed.objects.get_or_create(
        user=user, defaults={"nonce": nonce, "secret_digest": _digest(_secret(user, nonce))})
    if created:
        audit_record(action="oncall.calendar_link_created", target=user, actor=user)
    return _secret(user, feed.nonce)


@transaction.atomic
def calendar_link_reset(*, user) -> str:
    """A new calendar address for the person (only they reset theirs): the old one stops working."""
    calendar_secret(user)
    feed = CalendarFeed.objects.select_for_update().get(user=user)
    feed.nonce, feed.reset_at = secrets.token_hex(16), timezone.now()
    secret = _secret(user, feed.nonce)
    feed.secret_digest = _digest(secret)
    feed.save(update_fields=["nonce", "secret_digest", "reset_at"])
    audit_record(action="oncall.calendar_link_reset", target=user, actor=user)
    return secret


def calendar_owner(secret: str):
    """The active person whose calendar address carries this secret, or None."""
    feed = CalendarFeed.objects.select_related("user").filter(secret_digest=_digest(secret)).first()
    return feed.user if feed is not None and feed.user.is_active else None


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """From the handoff a week back to the handoff after eight weeks ahead: the same shifts all week."""
    rotation = active_rotation()
    if rotation is None:
        return now - FEED_PAST, now + FEED_AHEAD
    schedule = Schedule(rotation=rotation)
    return (schedule.handoff(schedule.shift_index(now - FEED_PAST)),
            schedule.handoff(schedule.shift_index(now + FEED_AHEAD) + 1))


def _joined(found) -> list:
    """Back-to-back segments of one person in one role (split only by the other role's override) as one shift."""
    joined, last_of = [], {}
    for begin, finish, role, person in found:
        index = last_of.get((role, person.pk))
        if index is not None and joined[index][1] == begin:
            joined[index] = (joined[index][0], finish, role, person)
        else:
            last_of[(role, person.pk)] = len(joined)
            joined.append((begin, finish, role, person))
    return joined


def shifts_calendar(*, now: datetime, user, whole_rotation: bool = False) -> bytes:
    """The person's shifts; the whole rotation if asked by someone who responds to incidents."""
    everyone = whole_rotation and can_respond(user)
    calendar = Calendar()
    calendar.add("prodid", "-//formation-hub//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "On call" if everyone else f"On call: {user}")
    start, end = feed_window(now)
    for begin, finish, role, person in _joined(shifts(start, end, user=None if everyone else user)):
        event = Event()
        event.add("uid", f"oncall-{role}-{person.pk}-{begin:%Y%m%dT%H%M%SZ}@formation-hub")
        event.add("summary", f"On call ({role}): {person}")
        event.add("dtstart", begin)
        event.add("dtend", finish)
        event.add("dtstamp", now)
        calendar.add_component(event)
    return calendar.to_ical()
