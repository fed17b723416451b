"""The business-hours calendar: a time zone, weekly opening hours and public holidays.

Every app that counts "hours ouvrées" uses it (the incidents' response clock first). Opening hours
are kept in local wall-clock time and turned into absolute intervals day by day with zoneinfo, so
09:00-18:00 stays 09:00-18:00 local on both sides of a daylight-saving change.

Configuration (environment, read when `business_calendar()` is called):

- BUSINESS_HOURS_TIME_ZONE: IANA zone, default ORGANISATION_TIME_ZONE's default, Europe/Paris.
- BUSINESS_HOURS_WEEKLY: opening hours, default "mon-fri 09:00-18:00"; several rules separated by
  ";" and several intervals by ",", e.g. "mon-thu 09:00-12:30,13:30-18:00; fri 09:00-16:00".
- BUSINESS_HOURS_HOLIDAYS_COUNTRY: country code for the `holidays` package, default FR; empty: none.
- BUSINESS_HOURS_HOLIDAYS_SUBDIV: optional subdivision (e.g. "57" for Moselle), default none.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import environ
import holidays as holidays_lib

env = environ.Env()

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEEKLY = "mon-fri 09:00-18:00"
# A calendar that never opens would make add_business_time loop forever: give up after this.
MAX_SEARCH_DAYS = 3 * 366


class CalendarConfigError(ValueError):
    """The opening hours cannot be read; the message says what to fix."""


def _parse_time(text: str) -> time:
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as error:
        raise CalendarConfigError(f"'{text}' is not a HH:MM time.") from error


def _parse_days(text: str) -> list[int]:
    text = text.strip().lower()
    days: list[int] = []
    for part in text.split("+"):
        if "-" in part:
            first, last = (piece.strip() for piece in part.split("-", 1))
            if first not in WEEKDAYS or last not in WEEKDAYS:
                raise CalendarConfigError(f"'{part}' is not a range of days such as mon-fri.")
            start, end = WEEKDAYS.index(first), WEEKDAYS.index(last)
            days.extend(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
        elif part in WEEKDAYS:
            days.append(WEEKDAYS.index(part))
        else:
            raise CalendarConfigError(f"'{part}' is not a day (mon, tue, ..., sun).")
    return days


def parse_weekly(spec: str) -> dict[int, tuple[tuple[time, time], ...]]:
    """'mon-fri 09:00-18:00; sat 10:00-12:00' -> {0: ((09:00, 18:00),), ..., 5: ((10:00, 12:00),)}."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for rule in filter(None, (rule.strip() for rule in spec.split(";"))):
        try:
            days_text, hours_text = rule.split(None, 1)
        except ValueError as error:
            raise CalendarConfigError(f"'{rule}' should read like 'mon-fri 09:00-18:00'.") from error
        for interval in hours_text.split(","):
            try:
                opens_text, closes_text = interval.split("-")
            except ValueError as error:
                raise CalendarConfigError(f"'{interval}' should read like '09:00-18:00'.") from error
            opens, closes = _parse_time(opens_text), _parse_time(closes_text)
            if opens >= closes:
                raise CalendarConfigError(f"'{interval}': opening must be before closing, on the same day.")
            for day in _parse_days(days_text):
                weekly.setdefault(day, []).append((opens, closes))
    return {day: tuple(sorted(intervals)) for day, intervals in weekly.items()}


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=lambda: parse_weekly(DEFAULT_WEEKLY))
    holidays_country: str = "FR"
    holidays_subdiv: str = ""

    def __hash__(self):
        return hash((str(self.zone), self.holidays_country, self.holidays_subdiv, tuple(sorted(self.weekly.items()))))

    @functools.cached_property
    def _holidays(self):
        if not self.holidays_country:
            return {}
        return holidays_lib.country_holidays(self.holidays_country, subdiv=self.holidays_subdiv or None)

    def is_holiday(self, day: date) -> bool:
        return day in self._holidays

    def holiday_name(self, day: date) -> str:
        return self._holidays.get(day, "") if self.holidays_country else ""

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening hours as absolute UTC intervals (none on a holiday or a closed day)."""
        if self.is_holiday(day):
            return []
        return [
            (
                datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC),
                datetime.combine(day, closes, tzinfo=self.zone).astimezone(UTC),
            )
            for opens, closes in self.weekly.get(day.weekday(), ())
        ]

    def is_open(self, instant: datetime) -> bool:
        instant = _aware(instant)
        return any(opens <= instant < closes for opens, closes in self.open_intervals(self._local_date(instant)))

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant at which `duration` of business time has elapsed since `start` (UTC).

        Outside opening hours the clock waits: 4 h from Friday 17:00 Paris is Monday 12:00.
        """
        start = _aware(start).astimezone(UTC)
        if duration <= timedelta(0):
            return start
        remaining = duration
        day = self._local_date(start)
        for _ in range(MAX_SEARCH_DAYS):
            for opens, closes in self.open_intervals(day):
                if closes <= start:
                    continue
                begin = max(start, opens)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise CalendarConfigError("The business calendar has no opening hours: check BUSINESS_HOURS_WEEKLY.")

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from a to b; negative when b is before a."""
        a, b = _aware(a).astimezone(UTC), _aware(b).astimezone(UTC)
        if b < a:
            return -self.business_time_between(b, a)
        total = timedelta(0)
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            for opens, closes in self.open_intervals(day):
                overlap = min(closes, b) - max(opens, a)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def next_opening(self, instant: datetime) -> datetime:
        """The instant itself when open, else the next opening."""
        instant = _aware(instant).astimezone(UTC)
        day = self._local_date(instant)
        for _ in range(MAX_SEARCH_DAYS):
            for opens, closes in self.open_intervals(day):
                if closes > instant:
                    return max(opens, instant)
            day += timedelta(days=1)
        raise CalendarConfigError("The business calendar has no opening hours: check BUSINESS_HOURS_WEEKLY.")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("Business-time arithmetic needs an aware datetime (stored times are UTC).")
    return value


@functools.lru_cache(maxsize=8)
def _calendar_for(zone: str, weekly: str, country: str, subdiv: str) -> BusinessCalendar:
    return BusinessCalendar(
        zone=ZoneInfo(zone), weekly=parse_weekly(weekly), holidays_country=country, holidays_subdiv=subdiv
    )


def business_calendar() -> BusinessCalendar:
    """The organisation's calendar, from the BUSINESS_HOURS_* environment variables."""
    return _calendar_for(
        env.str("BUSINESS_HOURS_TIME_ZONE", default=env.str("ORGANISATION_TIME_ZONE", default="Europe/Paris")),
        env.str("BUSINESS_HOURS_WEEKLY", default=DEFAULT_WEEKLY),
        env.str("BUSINESS_HOURS_HOLIDAYS_COUNTRY", default="FR"),
        env.str("BUSINESS_HOURS_HOLIDAYS_SUBDIV", default=""),
    )


def add_business_time(start: datetime, duration: timedelta, calendar: BusinessCalendar | None = None) -> datetime:
    return (calendar or business_calendar()).add_business_time(start, duration)


def business_time_between(a: datetime, b: datetime, calendar: BusinessCalendar | None = None) -> timedelta:
    return (calendar or business_calendar()).business_time_between(a, b)


def format_duration(value: timedelta) -> str:
    """'2 h 14 min', '45 min', '0 min' (seconds dropped; negative values shown positive)."""
    minutes = int(abs(value).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
