"""Who is on call: a weekly rotation kept in local wall-clock time, and overrides that win over it.

`on_call_at(t)` is the one answer to "who is primary and backup at instant t"; pages, the console,
the API, the recap and the iCal feed all use it. Handoffs are computed with zoneinfo from the
rotation's local weekday and time, so a Monday 10:00 handoff stays at 10:00 local on both sides
of a daylight-saving change (the shift around the change is 167 or 169 hours long).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser

from formation_hub.console.timefmt import format_local
from incidents.models import Override, Rotation

PREVIEW_WEEKS = 8


@dataclass(frozen=True)
class OnCall:
    at: datetime
    rotation: Rotation | None
    primary: AbstractBaseUser | None
    backup: AbstractBaseUser | None
    primary_override: Override | None = None
    backup_override: Override | None = None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.rotation is None:
            return ["No active on-call rotation."]
        if self.primary is None:
            found.append("nobody is primary")
        if self.backup is None:
            found.append("nobody is backup")
        if self.primary is not None and self.primary == self.backup:
            found.append(f"{self.primary} is both primary and backup")
        return found


@dataclass
class Schedule:
    """A rotation with its members and the overrides of a window, loaded once, then computed in memory."""

    rotation: Rotation
    members: list = field(default_factory=list)
    overrides: list = field(default_factory=list)

    @classmethod
    def load(cls, rotation: Rotation, start: datetime, end: datetime, extra_override: Override | None = None):
        members = [member.user for member in rotation.members.select_related("user").order_by("position", "id")]
        overrides = list(
            rotation.overrides.select_related("user").filter(starts_at__lt=end, ends_at__gt=start).order_by("id")
        )
        if extra_override is not None:
            overrides = [override for override in overrides if override.pk != extra_override.pk]
            overrides.append(extra_override)
        return cls(rotation=rotation, members=members, overrides=overrides)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.rotation.time_zone)

    def first_handoff_date(self) -> date:
        start = self.rotation.start_date
        return start + timedelta(days=(self.rotation.handoff_weekday - start.weekday()) % 7)

    def handoff(self, index: int) -> datetime:
        """The index-th handoff (0 = the first) as a UTC instant, from local wall-clock time."""
        day = self.first_handoff_date() + timedelta(weeks=index)
        return datetime.combine(day, self.rotation.handoff_time, tzinfo=self.zone).astimezone(UTC)

    def shift_index(self, instant: datetime) -> int:
        """The index of the last handoff at or before instant; -1 before the first handoff."""
        local_day = instant.astimezone(self.zone).date()
        index = (local_day - self.first_handoff_date()).days // 7
        if self.handoff(index) > instant:
            index -= 1
        return max(index, -1)

    def next_handoff(self, instant: datetime) -> datetime:
        return self.handoff(self.shift_index(instant) + 1)

    def at(self, instant: datetime) -> OnCall:
        instant = instant.astimezone(UTC)
        primary = backup = None
        index = self.shift_index(instant)
        if index >= 0 and self.members:
            primary = self.members[index % len(self.members)]
            if len(self.members) > 1:
                backup = self.members[(index + 1) % len(self.members)]
        primary_override = backup_override = None
        for override in self.overrides:  # by id: the latest override wins
            if override.starts_at <= instant < override.ends_at:
                if override.role == Override.Role.PRIMARY:
                    primary_override = override
                else:
                    backup_override = override
        if primary_override is not None:
            primary = primary_override.user
        if backup_override is not None:
            backup = backup_override.user
        return OnCall(instant, self.rotation, primary, backup, primary_override, backup_override)

    def change_points(self, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in [start, end) where the on-call people may change."""
        points = {start}
        index = self.shift_index(start) + 1
        while (handoff := self.handoff(index)) < end:
            points.add(handoff)
            index += 1
        for override in self.overrides:
            points.update(point for point in (override.starts_at, override.ends_at) if start < point < end)
        return sorted(points)

    def segments(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, OnCall]]:
        points = self.change_points(start, end)
        return [(begin, finish, self.at(begin)) for begin, finish in zip(points, [*points[1:], end], strict=True)]


def active_rotation() -> Rotation | None:
    return Rotation.objects.filter(active=True).order_by("priority", "id").first()


def on_call_at(instant: datetime, rotation: Rotation | None = None) -> OnCall:
    """Who is primary and backup at this instant (overrides win over the rotation)."""
    rotation = rotation or active_rotation()
    if rotation is None:
        return OnCall(instant, None, None, None)
    return Schedule.load(rotation, instant, instant + timedelta(microseconds=1)).at(instant)


def next_handoff(instant: datetime, rotation: Rotation | None = None) -> datetime | None:
    rotation = rotation or active_rotation()
    if rotation is None:
        return None
    return Schedule(rotation=rotation).next_handoff(instant)


@dataclass(frozen=True)
class PreviewWeek:
    start: datetime
    end: datetime
    segments: list
    dst_change: str
    warnings: list


def preview(rotation: Rotation, start: datetime, weeks: int = PREVIEW_WEEKS, extra_override=None) -> list[PreviewWeek]:
    """The next weeks shift by shift, with the override segments, DST changes and gaps marked."""
    schedule = Schedule.load(rotation, start, start + timedelta(weeks=weeks + 1), extra_override)
    zone = schedule.zone
    index = max(schedule.shift_index(start), 0)
    weeks_out = []
    for offset in range(weeks):
        week_start, week_end = schedule.handoff(index + offset), schedule.handoff(index + offset + 1)
        segments = schedule.segments(week_start, week_end)
        before, after = week_start.astimezone(zone).utcoffset(), week_end.astimezone(zone).utcoffset()
        dst_change = ""
        if before != after:
            dst_change = f"clocks change this week ({_offset(before)} -> {_offset(after)})"
        warnings = []
        for begin, _finish, who in segments:
            warnings.extend(f"{format_local(begin)}: {problem}" for problem in who.problems)
        weeks_out.append(PreviewWeek(week_start, week_end, segments, dst_change, warnings))
    return weeks_out


def _offset(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    return f"UTC{hours:+g}"


def override_problems(override: Override) -> tuple[list[str], list[str]]:
    """(errors, warnings) of saving this override: primary == backup is refused, a gap is warned about."""
    rotation = override.rotation
    schedule = Schedule.load(rotation, override.starts_at, override.ends_at, extra_override=override)
    errors, warnings = [], []
    for begin, _finish, who in schedule.segments(override.starts_at, override.ends_at):
        if who.primary is not None and who.primary == who.backup:
            errors.append(
                f"{who.primary} would be both primary and backup from {format_local(begin)}: "
                f"add an override for the other role too, or pick someone else."
            )
        elif who.primary is None or who.backup is None:
            role = "primary" if who.primary is None else "backup"
            warnings.append(f"Nobody is {role} from {format_local(begin)}.")
    if override.user is not None and not override.user.is_active:
        warnings.append(f"{override.user} is not an active account: pages will reach nobody.")
    return errors, warnings


def shifts(start: datetime, end: datetime, user=None) -> list[tuple[datetime, datetime, str, object]]:
    """(start, end, role, person) of every shift in the window, or only this user's (the iCal feed)."""
    rotation = active_rotation()
    if rotation is None:
        return []
    schedule = Schedule.load(rotation, start, end)
    return [
        (begin, finish, role, person)
        for begin, finish, who in schedule.segments(start, end)
        for role, person in (("primary", who.primary), ("backup", who.backup))
        if person is not None and (user is None or person == user)
    ]
