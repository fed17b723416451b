"""The business-hours calendar: explicit vectors, then a property test against a minute-by-minute walk."""

import bisect
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from formation_hub.business_hours import (
    BusinessCalendar,
    CalendarConfigError,
    add_business_time,
    business_calendar,
    business_time_between,
    format_duration,
    parse_weekly,
)

PARIS = ZoneInfo("Europe/Paris")
CALENDAR = BusinessCalendar()


def paris(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


H = timedelta(hours=1)

# (what it checks, start in Paris, business time to add, expected end in Paris)
ADD_VECTORS = [
    ("Friday-evening SEV2 waits for Monday", paris(2026, 11, 27, 17), 4 * H, paris(2026, 11, 30, 12)),
    ("detection at 03:00 starts at 09:00", paris(2026, 11, 24, 3), 4 * H, paris(2026, 11, 24, 13)),
    ("detection on Saturday starts on Monday", paris(2026, 11, 28, 14), 4 * H, paris(2026, 11, 30, 13)),
    ("detection at closing time starts next morning", paris(2026, 11, 24, 18), 4 * H, paris(2026, 11, 25, 13)),
    ("detection inside hours", paris(2026, 11, 24, 10, 30), 4 * H, paris(2026, 11, 24, 14, 30)),
    ("ends exactly at closing", paris(2026, 11, 24, 14), 4 * H, paris(2026, 11, 24, 18)),
    ("SEV3: 24 business hours are 2 days 6 h", paris(2026, 11, 23, 9), 24 * H, paris(2026, 11, 25, 15)),
    ("SEV3 over a weekend", paris(2026, 11, 26, 12), 24 * H, paris(2026, 11, 30, 18)),
    ("DST March: Friday CET to Monday CEST", paris(2026, 3, 27, 16), 4 * H, paris(2026, 3, 30, 11)),
    ("DST March: Sunday-night detection", paris(2026, 3, 29, 2, 30), 4 * H, paris(2026, 3, 30, 13)),
    ("DST October: Friday CEST to Monday CET", paris(2026, 10, 23, 17), 4 * H, paris(2026, 10, 26, 12)),
    ("DST October: the repeated hour", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 4 * H, paris(2026, 10, 26, 13)),
    ("25 December is a holiday", paris(2026, 12, 24, 16), 4 * H, paris(2026, 12, 28, 11)),
    ("detection on 25 December", paris(2026, 12, 25, 10), 4 * H, paris(2026, 12, 28, 13)),
    ("1 May is a holiday", paris(2026, 4, 30, 17), 4 * H, paris(2026, 5, 4, 12)),
    ("8 May then a weekend", paris(2026, 5, 7, 15), 4 * H, paris(2026, 5, 11, 10)),
    ("Ascension Thursday", paris(2026, 5, 13, 17), 4 * H, paris(2026, 5, 15, 12)),
    ("Easter Monday", paris(2026, 4, 3, 17), 4 * H, paris(2026, 4, 7, 12)),
    ("New Year", paris(2026, 12, 31, 17), 4 * H, paris(2027, 1, 4, 12)),
    ("zero duration is the start itself", paris(2026, 11, 28, 3), timedelta(0), paris(2026, 11, 28, 3)),
    ("seconds are kept", paris(2026, 11, 24, 9, 0) + timedelta(seconds=17), 4 * H,
     paris(2026, 11, 24, 13, 0) + timedelta(seconds=17)),
]


@pytest.mark.parametrize(("label", "start", "duration", "expected"), ADD_VECTORS, ids=[v[0] for v in ADD_VECTORS])
def test_add_business_time_vectors(label, start, duration, expected):
    result = CALENDAR.add_business_time(start, duration)
    assert result == expected
    assert result.tzinfo == UTC


# (what it checks, a, b, expected business time)
BETWEEN_VECTORS = [
    ("an ordinary week is 45 h", paris(2026, 11, 16), paris(2026, 11, 23), 45 * H),
    ("the week of 11 November is 36 h", paris(2026, 11, 9), paris(2026, 11, 16), 36 * H),
    ("the week of the March DST change is 45 h", paris(2026, 3, 23), paris(2026, 3, 30), 45 * H),
    ("the week after the March DST change is 45 h", paris(2026, 3, 30), paris(2026, 4, 6), 45 * H),
    ("the week of the October DST change is 45 h", paris(2026, 10, 19), paris(2026, 10, 26), 45 * H),
    ("Christmas week is 36 h", paris(2026, 12, 21), paris(2026, 12, 28), 36 * H),
    ("a weekend is nothing", paris(2026, 11, 28), paris(2026, 11, 30), timedelta(0)),
    ("Friday 17:00 to Monday 12:00 is 4 h", paris(2026, 11, 27, 17), paris(2026, 11, 30, 12), 4 * H),
    ("night hours do not count", paris(2026, 11, 24, 20), paris(2026, 11, 25, 8), timedelta(0)),
    ("backwards is negative", paris(2026, 11, 30, 12), paris(2026, 11, 27, 17), -4 * H),
]


@pytest.mark.parametrize(("label", "a", "b", "expected"), BETWEEN_VECTORS, ids=[v[0] for v in BETWEEN_VECTORS])
def test_business_time_between_vectors(label, a, b, expected):
    assert CALENDAR.business_time_between(a, b) == expected


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        CALENDAR.add_business_time(datetime(2026, 11, 24, 10), H)


def test_is_open_and_next_opening():
    assert CALENDAR.is_open(paris(2026, 11, 24, 9))
    assert not CALENDAR.is_open(paris(2026, 11, 24, 18))
    assert not CALENDAR.is_open(paris(2026, 12, 25, 10))
    assert CALENDAR.next_opening(paris(2026, 12, 24, 19)) == paris(2026, 12, 28, 9)
    assert CALENDAR.next_opening(paris(2026, 11, 24, 10)) == paris(2026, 11, 24, 10)
    assert CALENDAR.holiday_name(paris(2026, 12, 25).date()) == "Christmas Day"


def test_weekly_hours_are_configurable_from_the_environment(monkeypatch):
    monkeypatch.setenv("BUSINESS_HOURS_WEEKLY", "mon-thu 09:00-12:30,13:30-18:00; fri 09:00-16:00")
    monkeypatch.setenv("BUSINESS_HOURS_HOLIDAYS_COUNTRY", "")
    monkeypatch.setenv("BUSINESS_HOURS_TIME_ZONE", "America/New_York")
    calendar = business_calendar()
    assert str(calendar.zone) == "America/New_York"
    new_york = ZoneInfo("America/New_York")
    # Thursday 12:00 + 1 h: 30 min before lunch, 30 min after.
    start = datetime(2026, 11, 26, 12, tzinfo=new_york)  # Thanksgiving, but no holidays configured
    assert add_business_time(start, H) == datetime(2026, 11, 26, 14, tzinfo=new_york)
    assert business_time_between(start, datetime(2026, 11, 27, 17, tzinfo=new_york)) == timedelta(hours=12)


def test_default_calendar_is_paris_weekdays_with_french_holidays(monkeypatch):
    for name in ("BUSINESS_HOURS_WEEKLY", "BUSINESS_HOURS_HOLIDAYS_COUNTRY", "BUSINESS_HOURS_TIME_ZONE"):
        monkeypatch.delenv(name, raising=False)
    calendar = business_calendar()
    assert str(calendar.zone) == "Europe/Paris"
    assert calendar.is_holiday(paris(2026, 7, 14).date())
    assert add_business_time(paris(2026, 11, 27, 17), 4 * H) == paris(2026, 11, 30, 12)


@pytest.mark.parametrize(
    "spec",
    ["mon-fri", "mon-fri 9-18", "mon-fri 18:00-09:00", "lundi 09:00-18:00", "mon-fri 09:00_18:00"],
)
def test_unreadable_weekly_hours_are_refused_with_a_message(spec):
    with pytest.raises(CalendarConfigError):
        parse_weekly(spec)


def test_weekly_parser_accepts_wrapping_ranges_and_lists():
    weekly = parse_weekly("sat-mon 10:00-12:00; wed+fri 08:00-09:00")
    assert sorted(weekly) == [0, 2, 4, 5, 6]


def test_a_calendar_without_opening_hours_says_so():
    calendar = BusinessCalendar(weekly={})
    with pytest.raises(CalendarConfigError, match="no opening hours"):
        calendar.add_business_time(paris(2026, 1, 5), H)


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "0 min"), (45, "45 min"), (60, "1 h"), (134, "2 h 14 min"), (-90, "1 h 30 min")]
)
def test_format_duration(minutes, text):
    assert format_duration(timedelta(minutes=minutes)) == text


# --- property test: the calendar against a brute-force minute-by-minute walk over 2026 --------------

YEAR_START = paris(2026, 1, 1).astimezone(UTC)
YEAR_MINUTES = int((paris(2027, 1, 1) - paris(2026, 1, 1)).total_seconds() // 60)
FRENCH_HOLIDAYS = holidays.country_holidays("FR", years=[2026, 2027])


def _brute_force_prefix() -> list[int]:
    """prefix[i] = business minutes in [YEAR_START, YEAR_START + i min), by asking every minute."""
    prefix = [0]
    count = 0
    for minute in range(YEAR_MINUTES):
        local = (YEAR_START + timedelta(minutes=minute)).astimezone(PARIS)
        if local.weekday() < 5 and local.date() not in FRENCH_HOLIDAYS and 9 <= local.hour < 18:
            count += 1
        prefix.append(count)
    return prefix


PREFIX = _brute_force_prefix()
MARCH_DST = int((datetime(2026, 3, 29, 1, tzinfo=UTC) - YEAR_START).total_seconds() // 60)
OCTOBER_DST = int((datetime(2026, 10, 25, 1, tzinfo=UTC) - YEAR_START).total_seconds() // 60)
minute_of_year = st.one_of(
    st.integers(0, YEAR_MINUTES),
    st.integers(MARCH_DST - 4 * 24 * 60, MARCH_DST + 4 * 24 * 60),
    st.integers(OCTOBER_DST - 4 * 24 * 60, OCTOBER_DST + 4 * 24 * 60),
)


def test_the_brute_force_model_sees_both_dst_days_and_the_year():
    # 2026 has 261 weekdays, 9 of them French public holidays: 252 days of 9 h.
    assert PREFIX[-1] == 252 * 9 * 60
    assert YEAR_MINUTES == 365 * 24 * 60


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=minute_of_year, b=minute_of_year)
def test_business_time_between_matches_the_minute_walk(a, b):
    result = CALENDAR.business_time_between(YEAR_START + timedelta(minutes=a), YEAR_START + timedelta(minutes=b))
    assert result == timedelta(minutes=PREFIX[b] - PREFIX[a])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=minute_of_year, duration=st.one_of(st.integers(1, 24 * 60), st.sampled_from([240, 1440, 15])))
def test_add_business_time_matches_the_minute_walk(start, duration):
    target = PREFIX[start] + duration
    assume(target <= PREFIX[-1])
    expected_minute = bisect.bisect_left(PREFIX, target, lo=start)
    result = CALENDAR.add_business_time(YEAR_START + timedelta(minutes=start), timedelta(minutes=duration))
    assert result == YEAR_START + timedelta(minutes=expected_minute)
