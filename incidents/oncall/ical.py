"""The iCal feed of on-call shifts, so people see them in their calendar."""

from datetime import datetime

from django.utils import timezone
from icalendar import Calendar, Event

from incidents.oncall.rotation import shifts


def shifts_calendar(*, start: datetime, end: datetime, user=None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//formation-hub//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "On call" if user is None else f"On call: {user}")
    stamp = timezone.now()
    for begin, finish, role, person in shifts(start, end, user=user):
        event = Event()
        event.add("uid", f"oncall-{role}-{person.pk}-{begin:%Y%m%dT%H%M%SZ}@formation-hub")
        event.add("summary", f"On call ({role}): {person}")
        event.add("dtstart", begin)
        event.add("dtend", finish)
        event.add("dtstamp", stamp)
        calendar.add_component(event)
    return calendar.to_ical()
