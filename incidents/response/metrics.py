"""Incident metrics per severity and month: time to acknowledge, time to resolve, breaches, post-mortems on time.

One selector, `incident_metrics`, answers for the console page and the landing page in a fixed number
of queries whatever the number of incidents: on PostgreSQL the database computes the figures (grouped
ordered-set aggregates, three queries, no incident row read into Python); elsewhere (SQLite) two
queries read the durations and Python computes the same figures. Months are calendar months in the
organisation's zone, by detection time (post-mortems by due time). Durations are wall clock from
detection. The median of an even count is the mean of the two middle values; p90 is the nearest-rank
90th percentile (the smallest value with at least 90 % of the values at or below it).
"""

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from formation_hub.console.timefmt import organisation_zone, to_local
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


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont (interpolated: the median of an even count is the mean of the two middle
    values) or percentile_disc (nearest rank), over durations."""

    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, fraction: float, discrete: bool = False, **extra):
        super().__init__(
            expression, function="PERCENTILE_DISC" if discrete else "PERCENTILE_CONT", fraction=float(fraction),
            output_field=DurationField(), **extra,
        )


ACKNOWLEDGE = ExpressionWrapper(F("acknowledged_at") - F("detected_at"), output_field=DurationField())
RESOLVE = ExpressionWrapper(F("resolved_at") - F("detected_at"), output_field=DurationField())


def _stats_in_sql(prefix: str, duration) -> dict:
    return {
        f"{prefix}_count": Count(duration),
        f"{prefix}_mean": Avg(duration),
        f"{prefix}_median": Percentile(duration, fraction=0.5),
        f"{prefix}_p90": Percentile(duration, fraction=0.9, discrete=True),
    }


def _stats_of(row: dict, prefix: str) -> DurationStats:
    return DurationStats(row[f"{prefix}_count"], row[f"{prefix}_mean"], row[f"{prefix}_median"], row[f"{prefix}_p90"])


def _incident_figures_in_sql(since: datetime, until: datetime, months: list[date]):
    """(rows, totals) computed by PostgreSQL: one grouped query per month and severity, one per month."""
    incidents = (
        Incident.objects.filter(detected_at__gte=since, detected_at__lt=until)
        .annotate(month=TruncMonth("detected_at", tzinfo=organisation_zone()))
        .order_by()
    )
    figures = {
        "incidents": Count("id"), "breaches": Count("id", filter=Q(breached=True)),
        **_stats_in_sql("acknowledge", ACKNOWLEDGE), **_stats_in_sql("resolve", RESOLVE),
    }
    by_severity = {(month_of(row["month"]), row["severity"]): row
                   for row in incidents.values("month", "severity").annotate(**figures)}
    by_month = {month_of(row["month"]): row for row in incidents.values("month").annotate(**figures)}
    empty = DurationStats(0, None, None, None)

    def figures_of(row, cls, **key):
        if row is None:
            return cls(**key, incidents=0, acknowledge=empty, resolve=empty, breaches=0)
        return cls(**key, incidents=row["incidents"], acknowledge=_stats_of(row, "acknowledge"),
                   resolve=_stats_of(row, "resolve"), breaches=row["breaches"])

    rows = [
        figures_of(by_severity.get((month, severity.value)), SeverityMonth, month=month, severity=severity.value)
        for month in months
        for severity in Severity
    ]
    return rows, [figures_of(by_month.get(month), Month, month=month) for month in months]


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
    if connection.vendor == "postgresql":
        rows, totals = _incident_figures_in_sql(since, until, months)
        return IncidentMetrics(months=list(months), rows=rows,
                               post_mortems=_post_mortem_months(since, until, months, now), totals=totals)
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
    return IncidentMetrics(months=list(months), rows=rows,
                           post_mortems=_post_mortem_months(since, until, months, now), totals=totals)


def _post_mortem_months(since: datetime, until: datetime, months: list[date], now: datetime) -> list[PostMortemMonth]:
    wanted = set(months)
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
    return [PostMortemMonth(month=month, **tallies[month]) for month in months]
