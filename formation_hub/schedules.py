"""Recurring django-q2 jobs, declared in code and written to django-q2's Schedule table after migrate.

Apps call `register_schedule` from their AppConfig.ready; `ensure_schedules` creates or updates
each one by name, so redeploying never duplicates a schedule. Calendar rituals (monthly, quarterly) use
django-q2's own schedule types with a first run date; an existing schedule keeps its next run.
"""

from dataclasses import dataclass
from datetime import datetime, time

from django.utils import timezone
from django_q.models import Schedule

from formation_hub.console.timefmt import organisation_zone

_schedules: dict[str, "ScheduleSpec"] = {}


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    minutes: int = 1
    schedule_type: str = Schedule.MINUTES
    first_run: datetime | None = None


def register_schedule(name: str, func: str, *, minutes: int = 1) -> None:
    _schedules[name] = ScheduleSpec(name=name, func=func, minutes=minutes)


def register_calendar_schedule(name: str, func: str, *, schedule_type: str, first_run: datetime) -> None:
    """A ritual: Schedule.MONTHLY or Schedule.QUARTERLY, first at `first_run` (for example the 1st at 08:00)."""
    _schedules[name] = ScheduleSpec(name=name, func=func, schedule_type=schedule_type, first_run=first_run)


def ensure_schedules(**kwargs) -> int:
    for spec in _schedules.values():
        if spec.schedule_type == Schedule.MINUTES:
            Schedule.objects.update_or_create(
                name=spec.name,
                defaults={"func": spec.func, "schedule_type": Schedule.MINUTES, "minutes": spec.minutes,
                          "repeats": -1},
            )
            continue
        schedule, created = Schedule.objects.get_or_create(
            name=spec.name, defaults={"func": spec.func, "schedule_type": spec.schedule_type, "repeats": -1,
                                      "next_run": spec.first_run},
        )
        if not created and (schedule.func, schedule.schedule_type) != (spec.func, spec.schedule_type):
            schedule.func, schedule.schedule_type = spec.func, spec.schedule_type
            schedule.save(update_fields=["func", "schedule_type"])
    return len(_schedules)


def first_of_next_month(*, months: tuple[int, ...] = tuple(range(1, 13)), at: datetime | None = None) -> datetime:
    """The next 1st of one of `months` at 08:00 in the organisation's zone (the first run of a ritual)."""
    local = (at or timezone.now()).astimezone(organisation_zone())
    year, month = local.year, local.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if month in months:
            return datetime.combine(datetime(year, month, 1).date(), time(8, 0), tzinfo=organisation_zone())
