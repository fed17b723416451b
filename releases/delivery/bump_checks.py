"""The merge conditions a bump reads from the release side: the production calendar and, for a database
major, a verified backup."""

from dataclasses import replace
from datetime import datetime, timedelta

from formation_hub.console.timefmt import format_local
from releases import conf
from releases.models import DependencyBump, PrerequisiteReport
from releases.rules.prerequisites import BACKUP, CALENDAR, ReleaseFacts, ReportFact, evaluate
from releases.selectors import current_rules

BACKUP_REPORTS = 20


def backup_facts() -> ReleaseFacts:
    reports = PrerequisiteReport.objects.filter(
        kind=PrerequisiteReport.Kind.BACKUP, outcome=PrerequisiteReport.Outcome.SUCCESS
    )[:BACKUP_REPORTS]
    return ReleaseFacts(sha="", hotfix=False, reports=tuple(
        ReportFact(id=report.pk, kind=report.kind, outcome=report.outcome, sha=report.sha,
                   observed_at=report.observed_at, url=report.url, detail=report.detail)
        for report in reports
    ))


def production_calendar_problem(at: datetime) -> str:
    """'' when a production bump may merge at `at`; else why not and when it may. The release calendar,
    evaluated by prerequisites.evaluate from the bump cut-off (default the whole Friday) to Monday."""
    rules = replace(current_rules(), friday_cutoff=conf.bump_friday_cutoff(), deploy=timedelta(0),
                    watch=timedelta(minutes=1))
    evaluation = evaluate(ReleaseFacts(sha="", hotfix=False), at=at, rules=rules)
    if evaluation.result(CALENDAR).passing:
        return ""
    after = f" It may merge from {format_local(evaluation.next_allowed_at)}." if evaluation.next_allowed_at else ""
    return f"No production bump on Friday (nor the weekend that follows).{after}"


def backup_problem(at: datetime) -> str:
    """'' when a verified backup younger than the release rule's limit exists; else what to do."""
    result = evaluate(backup_facts(), at=at, rules=current_rules()).result(BACKUP)
    return "" if result.passing else f"A database major needs a verified backup first: {result.evidence}"


def bump_categories(bump: DependencyBump) -> set[str]:
    """The categories a decision on this bump covers: its own, and its group's."""
    return {bump.category, *DependencyBump.objects.filter(group_lead=bump).values_list("category", flat=True)}
