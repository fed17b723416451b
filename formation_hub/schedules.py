"""Recurring django-q2 jobs, declared in code and written to django-q2's Schedule table after migrate.

Apps call `register_schedule` from their AppConfig.ready; `ensure_schedules` creates or updates
each one by name, so redeploying never duplicates a schedule.
"""

from dataclasses import dataclass

from django_q.models import Schedule

_schedules: dict[str, "ScheduleSpec"] = {}


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    minutes: int = 1


def register_schedule(name: str, func: str, *, minutes: int = 1) -> None:
    _schedules[name] = ScheduleSpec(name=name, func=func, minutes=minutes)


def ensure_schedules(**kwargs) -> int:
    for spec in _schedules.values():
        Schedule.objects.update_or_create(
            name=spec.name,
            defaults={"func": spec.func, "schedule_type": Schedule.MINUTES, "minutes": spec.minutes, "repeats": -1},
        )
    return len(_schedules)
