"""The release prerequisites, evaluated by one pure function of the facts and an instant.

`evaluate(facts, at=..., rules=...)` reads no database and no clock: the console's "what if I
release at ..." preview, the pipeline and the deploy step all call it, with facts loaded by
`releases.selectors.release_facts`.

A release started at `at` occupies [at, at + deploy + watch): the deploy and the 30-minute watch
must both end before a freeze window or the Friday cut-off starts.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from formation_hub.console.timefmt import format_local

CI, E2E, BACKUP, FREEZE, CALENDAR = "ci", "e2e", "backup", "freeze", "calendar"
LABELS = {
    CI: "CI green on main for the SHA",
    E2E: "End-to-end tests green on staging",
    BACKUP: "Verified backup younger than 24 hours",
    FREEZE: "No freeze window during deploy and watch",
    CALENDAR: "Not Friday from the cut-off, not the weekend",
}
ORDER = (CI, E2E, BACKUP, FREEZE, CALENDAR)
# Only a hotfix may pass a freeze or the weekend, and still with a reason and a second approver.
TIME_PREREQUISITES = (FREEZE, CALENDAR)
PASS, FAIL, OVERRIDDEN = "pass", "fail", "overridden"
SEARCH_HORIZON = timedelta(days=120)


@dataclass(frozen=True)
class ReportFact:
    id: int
    kind: str
    outcome: str
    sha: str
    observed_at: datetime
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class WindowFact:
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str


@dataclass(frozen=True)
class OverrideFact:
    id: int
    prerequisite: str
    sha: str
    reason: str
    requested_by: str
    decided_by: str


@dataclass(frozen=True)
class ReleaseFacts:
    sha: str
    hotfix: bool
    reports: tuple[ReportFact, ...] = ()
    windows: tuple[WindowFact, ...] = ()
    overrides: tuple[OverrideFact, ...] = ()  # approved ones only


@dataclass(frozen=True)
class Rules:
    time_zone: str
    friday_cutoff: time
    deploy: timedelta
    watch: timedelta
    backup_max_age: timedelta

    @property
    def occupied(self) -> timedelta:
        return self.deploy + self.watch


@dataclass(frozen=True)
class Result:
    name: str
    status: str
    evidence: str
    url: str = ""
    overridable: bool = True

    @property
    def label(self) -> str:
        return LABELS[self.name]

    @property
    def passing(self) -> bool:
        return self.status in (PASS, OVERRIDDEN)


@dataclass(frozen=True)
class Evaluation:
    at: datetime
    ends_at: datetime
    results: tuple[Result, ...]
    next_allowed_at: datetime | None

    @property
    def allowed(self) -> bool:
        return all(result.passing for result in self.results)

    @property
    def failing(self) -> list[Result]:
        return [result for result in self.results if not result.passing]

    def result(self, name: str) -> Result:
        return next(result for result in self.results if result.name == name)

    def summary(self) -> dict:
        """What an approver saw, kept with the approval."""
        return {
            "at": self.at.isoformat(),
            "results": {result.name: {"status": result.status, "evidence": result.evidence} for result in self.results},
        }


@dataclass(frozen=True)
class _Block:
    starts_at: datetime
    ends_at: datetime
    what: str


def _same_commit(left: str, right: str) -> bool:
    return bool(left and right) and (left.startswith(right) or right.startswith(left))


def _overlaps(block: _Block, start: datetime, end: datetime) -> bool:
    return block.starts_at < end and start < block.ends_at


def _latest(reports, kind: str, at: datetime, sha: str | None = None) -> ReportFact | None:
    seen = [
        report for report in reports
        if report.kind == kind and report.observed_at <= at and (sha is None or _same_commit(report.sha, sha))
    ]
    return max(seen, key=lambda report: (report.observed_at, report.id), default=None)


def _check_run(facts: ReleaseFacts, kind: str, at: datetime, what: str) -> Result:
    if not facts.sha:
        return Result(kind, FAIL, "The release has no commit SHA yet: set it first.")
    report = _latest(facts.reports, kind, at, facts.sha)
    short = facts.sha[:10]
    if report is None:
        return Result(kind, FAIL, f"No {what} result reported for {short}.")
    when = format_local(report.observed_at)
    detail = f" ({report.detail})" if report.detail else ""
    if report.outcome == "success":
        return Result(kind, PASS, f"{what} green for {short} at {when}{detail}.", report.url)
    return Result(kind, FAIL, f"Last {what} result for {short} is {report.outcome}, at {when}{detail}.", report.url)


def _check_backup(facts: ReleaseFacts, at: datetime, rules: Rules) -> Result:
    verified = [report for report in facts.reports if report.outcome == "success"]
    report = _latest(verified, BACKUP, at)
    if report is None:
        return Result(BACKUP, FAIL, "No verified backup reported.")
    age = at - report.observed_at
    hours = age.total_seconds() / 3600
    lapses = format_local(report.observed_at + rules.backup_max_age)
    when = format_local(report.observed_at)
    if age < rules.backup_max_age:
        return Result(BACKUP, PASS, f"Backup verified at {when} ({hours:.1f} h old, lapses {lapses}).", report.url)
    return Result(
        BACKUP, FAIL, f"Last verified backup is {hours:.1f} h old ({when}); run and verify a new one.", report.url
    )


def _freeze_blocks(facts: ReleaseFacts) -> list[_Block]:
    return [
        _Block(
            window.starts_at.astimezone(UTC), window.ends_at.astimezone(UTC),
            f"freeze '{window.name}' {window.starts_at:%a %d %b %H:%M} - {window.ends_at:%a %d %b %H:%M} "
            f"({window.time_zone})",
        )
        for window in facts.windows
    ]


def _calendar_blocks(start: datetime, end: datetime, rules: Rules) -> list[_Block]:
    """From each Friday's cut-off to Monday 00:00, in the organisation's zone (DST-aware)."""
    zone = ZoneInfo(rules.time_zone)
    day: date = start.astimezone(zone).date() - timedelta(days=7)
    day += timedelta(days=(4 - day.weekday()) % 7)
    blocks = []
    while datetime.combine(day, time(0), tzinfo=zone) <= end:
        blocks.append(
            _Block(
                datetime.combine(day, rules.friday_cutoff, tzinfo=zone).astimezone(UTC),
                datetime.combine(day + timedelta(days=3), time(0), tzinfo=zone).astimezone(UTC),
                f"Friday {rules.friday_cutoff:%H:%M} to Monday 00:00 ({rules.time_zone})",
            )
        )
        day += timedelta(days=7)
    return blocks


def _check_blocks(name: str, blocks: list[_Block], at: datetime, ends_at: datetime, clear: str) -> Result:
    hits = [block for block in blocks if _overlaps(block, at, ends_at)]
    if not hits:
        return Result(name, PASS, clear, overridable=False)
    window = f"deploy and watch from {format_local(at)} to {format_local(ends_at)}"
    return Result(name, FAIL, f"The {window} would cross: " + "; ".join(block.what for block in hits) + ".")


def _next_allowed(blocks: list[_Block], at: datetime, rules: Rules) -> datetime | None:
    candidate = at
    while candidate - at <= SEARCH_HORIZON:
        hits = [block for block in blocks if _overlaps(block, candidate, candidate + rules.occupied)]
        if not hits:
            return candidate
        candidate = max(block.ends_at for block in hits)
    return None


def _with_override(result: Result, facts: ReleaseFacts) -> Result:
    if result.status == PASS:
        return result
    if result.name in TIME_PREREQUISITES and not facts.hotfix:
        return Result(result.name, FAIL, result.evidence + " Only a hotfix may pass it, with an override.",
                      result.url, overridable=False)
    for override in facts.overrides:
        if override.prerequisite == result.name and _same_commit(override.sha, facts.sha):
            return Result(
                result.name, OVERRIDDEN,
                f"{result.evidence} Overridden: '{override.reason}' (asked by {override.requested_by}, "
                f"approved by {override.decided_by}).",
                result.url,
            )
    return result


def evaluate(facts: ReleaseFacts, *, at: datetime, rules: Rules) -> Evaluation:
    """Every prerequisite with its status and evidence if the release started at `at`, and the next
    instant the calendar and freeze windows allow a start (the deploy and watch included)."""
    at = at.astimezone(UTC)
    ends_at = at + rules.occupied
    freeze = _freeze_blocks(facts)
    calendar = _calendar_blocks(at, at + SEARCH_HORIZON + rules.occupied, rules)
    results = [
        _check_run(facts, CI, at, "CI on main"),
        _check_run(facts, E2E, at, "E2E on staging"),
        _check_backup(facts, at, rules),
        _check_blocks(FREEZE, freeze, at, ends_at, "No freeze window before the watch ends."),
        _check_blocks(
            CALENDAR, calendar, at, ends_at,
            f"Deploy and watch end at {format_local(ends_at)}, before the Friday {rules.friday_cutoff:%H:%M} "
            "cut-off and outside the weekend.",
        ),
    ]
    results = [_with_override(result, facts) for result in results]
    by_name = {result.name: result for result in results}
    blocks = [
        *(freeze if by_name[FREEZE].status != OVERRIDDEN else []),
        *(calendar if by_name[CALENDAR].status != OVERRIDDEN else []),
    ]
    return Evaluation(at=at, ends_at=ends_at, results=tuple(results), next_allowed_at=_next_allowed(blocks, at, rules))
