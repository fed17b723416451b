"""Incident metrics per severity and month: time to acknowledge, time to resolve, breaches, post-mortems on time.

One selector, `incident_metrics`, answers for the console page and the landing page, in two queries
whatever the number of incidents. Months are calendar months in the organisation's zone, by
detection time (post-mortems by due time). Durations are wall clock from detection. The median of an
even count is the mean of the two middle values; p90 is the nearest-rank 90th percentile (the
smallest value with at least 90 % of the values at or below it).
"""

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from formation_hub.timefmt import organisation_zone, to_local
from incidents.models import Incident, PostMortem, Severity


@dataclass(frozen=True)
class DurationStats:
    count: int
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None


def percentile_nearest_rank(values: list[timedelta], fraction: float) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def duration_stats(values: list[timedelta]) -> DurationStats:
    if not values:
        return DurationStats(0, None, None, None)
    seconds = [value.total_seconds() for value in values]
    return DurationStats(
        count=len(values),
        mean=timedelta(seconds=statistics.fmean(seconds)),
        median=timedelta(seconds=statistics.median(seconds)),
        p90=percentile_nearest_rank(values, 0.9),
    )


@dataclass(frozen=True)
class SeverityMonth:
    month: date  # first day of the local month
    severity: str
    incidents: int
    acknowledge: DurationStats
    resolve: DurationStats
    breaches: int


@dataclass(frozen=True)
class PostMortemMonth:
    month: date
    due: int
    on_time: int
    late: int
    overdue: int  # past due and not published
    pending: int  # not yet due, not published


@dataclass(frozen=True)
class Month:
    """All severities together, for the charts."""

    month: date
    incidents: int
    acknowledge: DurationStats
    resolve: DurationStats
    breaches: int


@dataclass(frozen=True)
class IncidentMetrics:
    months: list[date]
    rows: list[SeverityMonth]  # every month x severity, in order, zero rows included
    post_mortems: list[PostMortemMonth]
    totals: list[Month]

    def row(self, month: date, severity: str) -> SeverityMonth:
        return next(row for row in self.rows if row.month == month and row.severity == severity)


def month_of(value: datetime) -> date:
    return to_local(value).date().replace(day=1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=organisation_zone())


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def last_months(count: int, now: datetime | None = None) -> list[date]:
    current = month_of(now or timezone.now())
    return [add_months(current, offset) for offset in range(-(count - 1), 1)]


def incident_metrics(*, months: list[date], now: datetime | None = None) -> IncidentMetrics:
    """Figures for the given local months (consecutive, oldest first)."""
    now = now or timezone.now()
    if not months:
        return IncidentMetrics([], [], [], [])
    since, until = month_start(months[0]), month_start(add_months(months[-1], 1))
    wanted = set(months)
    acknowledge: dict[tuple[date, str], list[timedelta]] = {}
    resolve: dict[tuple[date, str], list[timedelta]] = {}
    counts: dict[tuple[date, str], int] = {}
    breaches: dict[tuple[date, str], int] = {}
    incidents = Incident.objects.filter(detected_at__gte=since, detected_at__lt=until).values_list(
        "severity", "detected_at", "acknowledged_at", "resolved_at", "breached"
    )
    for severity, detected_at, acknowledged_at, resolved_at, breached in incidents:
        key = (month_of(detected_at), severity)
        counts[key] = counts.get(key, 0) + 1
        breaches[key] = breaches.get(key, 0) + int(breached)
        if acknowledged_at is not None:
            acknowledge.setdefault(key, []).append(acknowledged_at - detected_at)
        if resolved_at is not None:
            resolve.setdefault(key, []).append(resolved_at - detected_at)
    rows = [
        SeverityMonth(
            month=month, severity=severity.value, incidents=counts.get((month, severity.value), 0),
            acknowledge=duration_stats(acknowledge.get((month, severity.value), [])),
            resolve=duration_stats(resolve.get((month, severity.value), [])),
            breaches=breaches.get((month, severity.value), 0),
        )
        for month in months
        for severity in Severity
    ]
    totals = [
        Month(
            month=month,
            incidents=sum(row.incidents for row in rows if row.month == month),
            acknowledge=duration_stats(
                [value for severity in Severity for value in acknowledge.get((month, severity.value), [])]
            ),
            resolve=duration_stats(
                [value for severity in Severity for value in resolve.get((month, severity.value), [])]
            ),
            breaches=sum(row.breaches for row in rows if row.month == month),
        )
        for month in months
    ]
    tallies = {month: {"due": 0, "on_time": 0, "late": 0, "overdue": 0, "pending": 0} for month in months}
    post_mortems = PostMortem.objects.filter(due_at__gte=since, due_at__lt=until).values_list(
        "due_at", "published_at", "state"
    )
    for due_at, published_at, state in post_mortems:
        month = month_of(due_at)
        if month not in wanted:
            continue
        tally = tallies[month]
        tally["due"] += 1
        if state == PostMortem.State.PUBLISHED:
            tally["on_time" if published_at <= due_at else "late"] += 1
        elif due_at < now:
            tally["overdue"] += 1
        else:
            tally["pending"] += 1
    return IncidentMetrics(
        months=list(months), rows=rows,
        post_mortems=[PostMortemMonth(month=month, **tallies[month]) for month in months], totals=totals,
    )
