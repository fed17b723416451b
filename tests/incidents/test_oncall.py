"""On-call rotation and overrides: vectors across daylight-saving changes, preview, iCal, problems."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents.models import Override
from incidents.oncall.rotation import Schedule, next_handoff, on_call_at, override_problems, preview, shifts
from tests.incidents.factories import OverrideFactory, RotationFactory, RotationMemberFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


# Rotation: Monday 10:00 Paris, first handoff Monday 5 January 2026, alice -> bruno -> carla.
# (what it checks, instant, expected primary, expected backup)
ROTATION_VECTORS = [
    ("before the first handoff nobody is on call", paris(2026, 1, 5, 9, 59), None, None),
    ("first handoff", paris(2026, 1, 5, 10, 0), "alice", "bruno"),
    ("one minute before the second handoff", paris(2026, 1, 12, 9, 59), "alice", "bruno"),
    ("second handoff", paris(2026, 1, 12, 10, 0), "bruno", "carla"),
    ("third week wraps the backup", paris(2026, 1, 19, 10, 0), "carla", "alice"),
    ("the order cycles", paris(2026, 1, 26, 10, 0), "alice", "bruno"),
    ("Sunday night before the March change", paris(2026, 3, 29, 1, 30), "carla", "alice"),
    ("the March DST night itself", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "carla", "alice"),
    ("Monday after March DST, 09:59 CEST (07:59 UTC)", datetime(2026, 3, 30, 7, 59, tzinfo=UTC), "carla", "alice"),
    ("Monday after March DST, 10:00 CEST is 08:00 UTC", datetime(2026, 3, 30, 8, 0, tzinfo=UTC), "alice", "bruno"),
    ("Monday before March DST, 10:00 CET was 09:00 UTC", datetime(2026, 3, 23, 9, 0, tzinfo=UTC), "carla", "alice"),
    ("Monday before March DST, 08:59 UTC still the old shift", datetime(2026, 3, 23, 8, 59, tzinfo=UTC),
     "bruno", "carla"),
    ("October repeated hour, first pass", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "carla", "alice"),
    ("October repeated hour, second pass", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "carla", "alice"),
    ("Monday after October DST, 09:30 CET (08:30 UTC)", datetime(2026, 10, 26, 8, 30, tzinfo=UTC), "carla", "alice"),
    ("Monday after October DST, 10:00 CET is 09:00 UTC", datetime(2026, 10, 26, 9, 0, tzinfo=UTC), "alice", "bruno"),
    ("Monday before October DST, 10:00 CEST was 08:00 UTC", datetime(2026, 10, 19, 8, 0, tzinfo=UTC),
     "carla", "alice"),
]


@pytest.mark.parametrize(
    ("label", "instant", "primary", "backup"), ROTATION_VECTORS, ids=[v[0] for v in ROTATION_VECTORS]
)
def test_rotation_vectors(rotation, label, instant, primary, backup):
    who = on_call_at(instant)
    assert (str(who.primary) if who.primary else None, str(who.backup) if who.backup else None) == (primary, backup)


@pytest.mark.parametrize(
    ("week_start", "hours"),
    [(paris(2026, 3, 23, 10), 167), (paris(2026, 10, 19, 10), 169), (paris(2026, 6, 1, 10), 168)],
)
def test_shifts_keep_local_handoff_time_so_dst_weeks_are_shorter_or_longer(rotation, week_start, hours):
    assert next_handoff(week_start + timedelta(minutes=1)) - week_start == timedelta(hours=hours)
    assert next_handoff(week_start + timedelta(minutes=1)).astimezone(PARIS).time() == time(10, 0)


# Overrides on the rotation above (carla primary / alice backup the week of 23 March 2026).
# (what it checks, overrides [(user, role, start, end)], instant, expected primary, expected backup)
OVERRIDE_VECTORS = [
    ("override wins over the rotation", [("dora", "primary", paris(2026, 3, 28, 20), paris(2026, 3, 29, 12))],
     paris(2026, 3, 29, 8), "dora", "alice"),
    ("override window is half-open: end is outside", [("dora", "primary", paris(2026, 3, 28, 20),
     paris(2026, 3, 29, 12))], paris(2026, 3, 29, 12), "carla", "alice"),
    ("override start is inside", [("dora", "primary", paris(2026, 3, 28, 20), paris(2026, 3, 29, 12))],
     paris(2026, 3, 28, 20), "dora", "alice"),
    ("override across the DST night", [("dora", "primary", paris(2026, 3, 28, 22), paris(2026, 3, 29, 4))],
     datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "dora", "alice"),
    ("backup override", [("dora", "backup", paris(2026, 3, 24, 0), paris(2026, 3, 25, 0))],
     paris(2026, 3, 24, 12), "carla", "dora"),
    ("override spanning the handoff keeps the person", [("dora", "primary", paris(2026, 3, 30, 9),
     paris(2026, 3, 30, 12))], paris(2026, 3, 30, 11), "dora", "bruno"),
    ("the latest override wins", [("dora", "primary", paris(2026, 3, 24, 0), paris(2026, 3, 26, 0)),
     ("erik", "primary", paris(2026, 3, 25, 0), paris(2026, 3, 25, 12))], paris(2026, 3, 25, 6), "erik", "alice"),
    ("October override in the repeated hour", [("dora", "primary", datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
     datetime(2026, 10, 25, 2, 0, tzinfo=UTC))], datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "dora", "alice"),
    ("October override: first pass of 02:30 is outside", [("dora", "primary",
     datetime(2026, 10, 25, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, 0, tzinfo=UTC))],
     datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "carla", "alice"),
]


@pytest.mark.parametrize(
    ("label", "overrides", "instant", "primary", "backup"), OVERRIDE_VECTORS, ids=[v[0] for v in OVERRIDE_VECTORS]
)
def test_override_vectors(rotation, make_user, label, overrides, instant, primary, backup):
    for username, role, start, end in overrides:
        OverrideFactory(rotation=rotation, user=make_user(username, "oncall"), role=role, starts_at=start, ends_at=end)
    who = on_call_at(instant)
    assert (str(who.primary), str(who.backup)) == (primary, backup)


def test_handoff_in_the_spring_gap_happens_at_the_first_valid_instant(make_user):
    rotation = RotationFactory(handoff_weekday=6, handoff_time=time(2, 30), start_date=date(2026, 3, 1))
    RotationMemberFactory(rotation=rotation, user=make_user("alice"))
    schedule = Schedule(rotation=rotation)
    # 02:30 does not exist on 29 March 2026 in Paris: zoneinfo reads it with the winter offset.
    assert schedule.handoff(4) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 happens twice on 25 October 2026: the first one (summer time) is the handoff.
    assert schedule.next_handoff(datetime(2026, 10, 24, tzinfo=UTC)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_rotation_in_another_zone_follows_its_own_dst(make_user):
    rotation = RotationFactory(time_zone="America/New_York", handoff_time=time(9, 0), start_date=date(2026, 1, 5))
    for position, name in enumerate(["alice", "bruno"]):
        RotationMemberFactory(rotation=rotation, user=make_user(name), position=position)
    # New York changes on 8 March 2026: 09:00 EST = 14:00 UTC, 09:00 EDT = 13:00 UTC.
    assert str(on_call_at(datetime(2026, 3, 2, 13, 59, tzinfo=UTC), rotation).primary) == "bruno"
    assert str(on_call_at(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), rotation).primary) == "alice"
    assert str(on_call_at(datetime(2026, 3, 9, 12, 59, tzinfo=UTC), rotation).primary) == "alice"
    assert str(on_call_at(datetime(2026, 3, 9, 13, 0, tzinfo=UTC), rotation).primary) == "bruno"


def test_no_active_rotation_means_nobody(db):
    who = on_call_at(datetime(2026, 3, 9, tzinfo=UTC))
    assert who.primary is None and who.problems == ["No active on-call rotation."]


def test_preview_marks_dst_weeks_and_override_segments(rotation, make_user):
    OverrideFactory(
        rotation=rotation, user=make_user("dora", "oncall"), starts_at=paris(2026, 3, 25, 0),
        ends_at=paris(2026, 3, 26, 0),
    )
    weeks = preview(rotation, paris(2026, 3, 20, 12))
    assert len(weeks) == 8
    assert weeks[0].start == paris(2026, 3, 16, 10)
    assert [bool(week.dst_change) for week in weeks] == [False, True] + [False] * 6
    assert weeks[1].dst_change == "clocks change this week (UTC+1 -> UTC+2)"
    assert [str(segment[2].primary) for segment in weeks[1].segments] == ["carla", "dora", "carla"]
    assert all(not week.warnings for week in weeks)


def test_preview_warns_about_gaps(make_user):
    rotation = RotationFactory()
    RotationMemberFactory(rotation=rotation, user=make_user("alice"))
    weeks = preview(rotation, paris(2026, 3, 20, 12), weeks=1)
    assert weeks[0].warnings == ["Mon 16 Mar 2026 10:00 (Europe/Paris): nobody is backup"]


def test_override_making_primary_and_backup_the_same_person_is_refused(rotation):
    alice = rotation.members.get(position=0).user
    override = Override(rotation=rotation, user=alice, role="primary", starts_at=paris(2026, 3, 24),
                        ends_at=paris(2026, 3, 25))
    errors, _ = override_problems(override)
    assert errors
    assert errors[0].startswith("alice would be both primary and backup from Tue 24 Mar 2026 00:00 (Europe/Paris)")


def test_override_by_an_inactive_account_is_warned_about(rotation, make_user):
    override = Override(rotation=rotation, user=make_user("gone", is_active=False), role="backup",
                        starts_at=paris(2026, 3, 24), ends_at=paris(2026, 3, 25))
    errors, warnings = override_problems(override)
    assert not errors
    assert warnings == ["gone is not an active account: pages will reach nobody."]


def test_shifts_of_one_person(rotation):
    alice = rotation.members.get(position=0).user
    found = shifts(paris(2026, 1, 5, 10), paris(2026, 1, 26, 10), user=alice)
    days = [(start.astimezone(PARIS).day, role) for start, _end, role, _person in found]
    assert days == [(5, "primary"), (19, "backup")]
