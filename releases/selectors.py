"""Reads shared by the services, the console, the API and the landing panel."""

from datetime import datetime, timedelta

from django.db.models import CharField, OuterRef, Q, Subquery
from django.db.models.functions import Cast

from formation_hub.models import Gate
from releases import clock, conf
from releases.models import (
    Change,
    DependencyBump,
    FreezeWindow,
    PrerequisiteOverride,
    PrerequisiteReport,
    Release,
    Story,
)
from releases.rules.prerequisites import (
    Evaluation,
    OverrideFact,
    ReleaseFacts,
    ReportFact,
    Rules,
    WindowFact,
    evaluate,
)
from releases.rules.semver import current_version, is_rollback, parse_version

REPORTS_PER_KIND = 20


def current_rules() -> Rules:
    return Rules(
        time_zone=conf.organisation_time_zone(),
        friday_cutoff=conf.friday_cutoff(),
        deploy=conf.deploy_duration(),
        watch=conf.watch_duration(),
        backup_max_age=conf.backup_max_age(),
    )


def _reports(release: Release) -> list[PrerequisiteReport]:
    reports = []
    if release.sha:
        reports += list(
            PrerequisiteReport.objects.filter(
                kind__in=[PrerequisiteReport.Kind.CI, PrerequisiteReport.Kind.E2E], sha=release.sha
            )[: REPORTS_PER_KIND * 2]
        )
    reports += list(
        PrerequisiteReport.objects.filter(
            kind=PrerequisiteReport.Kind.BACKUP, outcome=PrerequisiteReport.Outcome.SUCCESS
        )[:REPORTS_PER_KIND]
    )
    return reports


def release_facts(release: Release, *, at: datetime) -> ReleaseFacts:
    """Everything `prerequisites.evaluate` needs about release, loaded in a handful of queries."""
    since = (at - timedelta(days=2)).date()
    windows = FreezeWindow.objects.filter(end_date__gte=since)
    overrides = PrerequisiteOverride.objects.filter(
        release=release, state=PrerequisiteOverride.State.APPROVED
    ).select_related("requested_by", "decided_by")
    return ReleaseFacts(
        sha=release.sha,
        hotfix=release.kind == Release.Kind.HOTFIX,
        reports=tuple(
            ReportFact(
                id=report.pk, kind=report.kind, outcome=report.outcome, sha=report.sha,
                observed_at=report.observed_at, url=report.url, detail=report.detail,
            )
            for report in _reports(release)
        ),
        windows=tuple(
            WindowFact(
                id=window.pk, name=window.name, starts_at=window.starts_at, ends_at=window.ends_at,
                time_zone=window.time_zone,
            )
            for window in windows
        ),
        overrides=tuple(
            OverrideFact(
                id=override.pk, prerequisite=override.prerequisite, sha=override.sha, reason=override.reason,
                requested_by=override.requested_by.get_username(),
                decided_by=override.decided_by.get_username() if override.decided_by else "",
            )
            for override in overrides
        ),
    )


def release_evaluation(release: Release, *, at: datetime | None = None) -> Evaluation:
    at = at or clock.now()
    return evaluate(release_facts(release, at=at), at=at, rules=current_rules())


def stable_releases():
    """Releases that reached production and stayed there, newest first by creation."""
    return Release.objects.filter(status=Release.Status.RELEASED)


def existing_versions():
    """Every version taken: all but those aborted before their tag (the same rule as the database constraint)."""
    versions = Release.objects.exclude(status=Release.Status.ABORTED, released_on__isnull=True)
    return [parse_version(version) for version in versions.values_list("version", flat=True)]


def last_release_version():
    """The current version: the highest one ever tagged, even if it was rolled back since (its tag exists, so
    the next release follows it). Rollback tags never count."""
    return current_version(Release.objects.filter(released_on__isnull=False).values_list("version", flat=True))


def last_stable_release(*, below: Release | None = None) -> Release | None:
    """The highest released version (below `below`, for a rollback), pre-releases excluded."""
    candidates = []
    for release in stable_releases().exclude(pk=getattr(below, "pk", None)):
        version = release.semver
        stable = version.prerelease is None and not is_rollback(version)
        if stable and (below is None or version < below.semver):
            candidates.append((version, release))
    return max(candidates, key=lambda pair: pair[0], default=(None, None))[1]


def unreleased_changes():
    return Change.objects.filter(Q(release__isnull=True)).select_related("author")


def release_in_flight() -> Release | None:
    return (
        Release.objects.exclude(status__in=Release.FINAL).filter(imported=False)
        .select_related("author").order_by("-created_at").first()
    )


def next_step(release: Release) -> str:
    """What the release waits for, in a sentence (the landing panel and the release page)."""
    status = Release.Status
    if release.rollback_proposed_at is not None and release.status in (status.DEPLOYING, status.WATCHING):
        return f"Rollback proposed: {release.rollback_proposal}"
    steps = {
        status.DRAFT: "Check the prerequisites (CI, E2E, backup, freeze windows, calendar).",
        status.PREREQUISITES_MET: "Staging validation: a release approver tries the critical flows on staging.",
        status.STAGING_VALIDATED: "Tag decision: release or abort.",
        status.TAGGED: "Production approval by a release approver who is neither the author nor a change author.",
        status.APPROVED: "Deploy to production (the approval is checked again at that moment).",
        status.DEPLOYING: "Smoke tests against production.",
        status.SMOKE_PASSED: "Watch period starting.",
        status.WATCHING: "Watch period: health checks every minute, then decide all OK or roll back.",
        status.RELEASED: "Released.",
        status.ABORTED: "Aborted.",
        status.ROLLED_BACK: "Rolled back.",
    }
    return steps[release.status]


# --- delivery: stories and dependency bumps (issue 8) ------------------------------------------------------

CATEGORY_URGENCY = ("security", "database_major", "upstream_image", "runtime_lts", "major", "minor", "patch")


def with_pending_gate(queryset, gate_types):
    """Annotate each row with the id and type of its pending gate (one subquery, not one query per row)."""
    pending = Gate.objects.filter(
        object_id=Cast(OuterRef("pk"), CharField()), gate_type__in=gate_types, state=Gate.State.PENDING
    ).order_by("requested_at")
    return queryset.annotate(pending_gate_id=Subquery(pending.values("pk")[:1]),
                             pending_gate_type=Subquery(pending.values("gate_type")[:1]))


def story_board(gate_types) -> list[tuple[int, str, list[Story]]]:
    """Stories in a sprint or completed, by step (blocked ones are listed apart by the caller)."""
    stories = with_pending_gate(Story.objects.exclude(state=Story.State.BLOCKED).select_related("author"),
                                gate_types)
    by_step: dict[int, list[Story]] = {step: [] for step in Story.Step.values}
    for story in stories:
        by_step[story.step].append(story)
    return [(step, Story.Step(step).label, by_step[step]) for step in Story.Step.values]


def blocked_stories():
    return Story.objects.filter(state=Story.State.BLOCKED).select_related("author")


def bump_review_queue(gate_types) -> dict[str, list[DependencyBump]]:
    """Bumps not merged nor closed, production first then development, most urgent category first."""
    bumps = with_pending_gate(
        DependencyBump.objects.exclude(state__in=DependencyBump.FINAL_STATES).select_related("created_by"),
        gate_types,
    )
    queue: dict[str, list[DependencyBump]] = {DependencyBump.Scope.PRODUCTION: [], DependencyBump.Scope.DEVELOPMENT: []}
    for bump in sorted(bumps, key=lambda bump: (CATEGORY_URGENCY.index(bump.category), bump.created_at)):
        queue[bump.scope].append(bump)
    return queue
