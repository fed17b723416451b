"""The context of each release, story and bump gate on its decision page (registered in ReleasesConfig.ready)."""

from formation_hub.gates.context import Evidence, GateContext, admin_change_url, register_gate_context
from formation_hub.models import Gate
from releases.delivery import bump_services, stories
from releases.models import DependencyBump, PrerequisiteOverride, Release, Story
from releases.pipeline import state
from releases.rules.prerequisites import LABELS
from releases.selectors import release_evaluation

RELEASE_GATE_WORDS = {
    state.STAGING_GATE: "staging validation",
    state.TAG_GATE: "tag",
    state.APPROVAL_GATE: "production approval",
    state.WATCH_GATE: "end of the watch",
}


def _person(user) -> str:
    return user.get_username() if user is not None else "the pipeline"


def _prerequisite_rows(release: Release) -> tuple[Evidence, ...]:
    if release.status in Release.FINAL:
        return ()
    evaluation = release_evaluation(release)
    return tuple(
        Evidence(result.label, f"{result.status}: {result.evidence}", result.url, failing=not result.passing)
        for result in evaluation.results
    )


def _release_rows(release: Release) -> tuple[Evidence, ...]:
    authors = sorted({change.author.get_username() for change in release.changes.select_related("author")
                      if change.author is not None})
    return (
        Evidence("Commit SHA", release.sha or "not set yet"),
        Evidence("Status", release.get_status_display()),
        Evidence("Release author", _person(release.author) if release.author_id else "none"),
        Evidence("Authors of its changes", ", ".join(authors) or "none recorded"),
    )


def release_gate_context(gate: Gate, release: Release) -> GateContext:
    words = RELEASE_GATE_WORDS.get(gate.gate_type, gate.gate_type)
    title = f" ({release.title})" if release.title else ""
    return GateContext(
        what=f"{words} of v{release.version}{title}",
        subject_label=f"v{release.version}", subject_url=admin_change_url(release),
        reason=release.version_reason, reason_by=_person(release.author) if release.version_reason else "",
        evidence=_release_rows(release) + _prerequisite_rows(release),
    )


def override_gate_context(gate: Gate, override: PrerequisiteOverride) -> GateContext:
    release = override.release
    label = LABELS.get(override.prerequisite, override.prerequisite)
    rows = [Evidence("Prerequisite to pass", label), Evidence("For commit SHA", override.sha)]
    if release.sha != override.sha:
        rows.append(Evidence("Release SHA now", release.sha or "not set", failing=True))
    rows.extend(_prerequisite_rows(release))
    return GateContext(
        what=f"passing '{label}' for v{release.version}",
        subject_label=f"v{release.version}", subject_url=admin_change_url(release),
        reason=override.reason, reason_by=_person(override.requested_by), evidence=tuple(rows),
    )


def story_gate_context(gate: Gate, story: Story) -> GateContext:
    last_note = story.events.exclude(note="").order_by("-at", "-id").select_related("actor").first()
    rows = (
        Evidence("Step", story.get_step_display()),
        Evidence("Branch", story.branch),
        Evidence("Head commit", story.head_sha or "not reported"),
        Evidence("Pull request", story.pull_request_url or "none yet", story.pull_request_url),
        Evidence("CI", story.get_ci_status_display(), failing=story.ci_status == Story.CiStatus.RED),
        Evidence("Coverage", f"{story.coverage}%" if story.coverage is not None else "not recorded"),
        Evidence("Author", _person(story.author) if story.author_id else "none"),
        Evidence("User story", story.user_story or "-"),
        Evidence("Acceptance criteria", story.acceptance_criteria or "-"),
    )
    words = {stories.REVIEW_GATE: "review", stories.MERGE_GATE: "merge",
             stories.VALIDATION_GATE: "business validation"}.get(gate.gate_type, gate.gate_type)
    return GateContext(
        what=f"{words} of {story.key} {story.title}", subject_label=story.key, subject_url=admin_change_url(story),
        reason=last_note.note if last_note else "", reason_by=_person(last_note.actor) if last_note else "",
        evidence=rows,
    )


def bump_gate_context(gate: Gate, bump: DependencyBump) -> GateContext:
    rows = (
        Evidence("Category", f"{bump.get_category_display()}: {bump.explanation}"),
        Evidence("Scope", bump.get_scope_display()),
        Evidence("Pull request", bump.pull_request_url or "none", bump.pull_request_url),
        Evidence("CI", bump.get_ci_status_display(), failing=bump.ci_status == DependencyBump.CiStatus.RED),
        Evidence("Advisories", ", ".join(bump.advisories) or "none"),
        Evidence("Migration note", bump.migration_note or "-"),
        Evidence("Waiting for", bump.waiting_for or "-"),
        Evidence("Opened by", f"{_person(bump.created_by)} ({bump.get_source_display()})"),
    )
    words = {bump_services.REVIEW_GATE: "review", bump_services.GO_GATE: "go/no-go",
             bump_services.STAGING_GATE: "staging test"}.get(gate.gate_type, gate.gate_type)
    return GateContext(
        what=f"{words} of {bump.subject}", subject_label=bump.subject, subject_url=admin_change_url(bump),
        evidence=rows,
    )


def register() -> None:
    for gate_type in RELEASE_GATE_WORDS:
        register_gate_context(gate_type, release_gate_context)
    register_gate_context(state.OVERRIDE_GATE, override_gate_context)
    for gate_type in stories.STORY_GATES:
        register_gate_context(gate_type, story_gate_context)
    for gate_type in (bump_services.REVIEW_GATE, bump_services.GO_GATE, bump_services.STAGING_GATE):
        register_gate_context(gate_type, bump_gate_context)
