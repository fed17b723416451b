"""Stories through the build playbook: every gate path, the CI rules, completion and its changelog entry."""

import pytest

from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import gate_decide, pending_gate
from formation_hub.models import Gate
from releases.delivery.stories import (
    MERGE_GATE,
    REVIEW_GATE,
    VALIDATION_GATE,
    branch_for,
    story_advance,
    story_ci_report,
    story_create,
    story_return_to_sprint,
)
from releases.models import Change, Story

SHA = "0123456789abcdef0123456789abcdef01234567"
GHERKIN = "Scenario: export\n  Given a trainer\n  When I export\n  Then I get a CSV"


@pytest.fixture
def dev(people):
    return people["coder"]


@pytest.fixture
def lead(people):
    return people["approver"]


@pytest.fixture
def story(dev):
    return story_create(title="Timesheet export (CSV)", user_story="As a trainer I want ...",
                        acceptance_criteria=GHERKIN, sprint="sprint-3", author=dev, user=dev)


def decide(story, gate_type, user, decision, reason=""):
    gate = pending_gate(target=story, gate_type=gate_type)
    assert gate is not None, f"no pending {gate_type}"
    gate_decide(gate=gate, user=user, decision=decision, subject=gate.subject, reason=reason)
    story.refresh_from_db()
    return story


def to_review(story, dev, coverage=85):
    story_advance(story=story, user=dev)
    story_advance(story=story, user=dev, head_sha=SHA)
    story_advance(story=story, user=dev, coverage=coverage)
    story.refresh_from_db()
    return story


def to_merge(story, dev, lead):
    to_review(story, dev)
    decide(story, REVIEW_GATE, lead, "APPROVED")
    story_advance(story=story, user=dev, pull_request_url="https://forgejo.example/org/app/pulls/12")
    story_ci_report(story=story, status="green", head_sha=SHA)
    story.refresh_from_db()
    return story


def to_validation(story, dev, lead):
    to_merge(story, dev, lead)
    decide(story, MERGE_GATE, lead, "APPROVED")
    story_advance(story=story, user=dev)
    story.refresh_from_db()
    return story


def test_ids_are_generated_in_order_and_the_branch_comes_from_the_title(dev):
    first = story_create(title="Setup Baserow tables", user=dev)
    second = story_create(title="Été: export des heures!", user=dev)
    assert (first.key, second.key) == ("S-01", "S-02")
    assert (first.branch, second.branch) == ("feat/setup-baserow-tables", "feat/ete-export-des-heures")
    assert first.step == Story.Step.PREFLIGHT


def test_a_second_story_with_the_same_title_gets_its_own_branch(dev):
    story_create(title="Export", user=dev)
    assert story_create(title="Export", user=dev).branch == "feat/export-s02"
    assert branch_for("   ") == "feat/story"


def test_a_story_needs_a_title(dev):
    with pytest.raises(DomainError, match="title"):
        story_create(title="  ", user=dev)


def test_the_happy_path_completes_the_story_and_adds_its_changelog_entry(story, dev, lead):
    to_validation(story, dev, lead)
    assert story.step == Story.Step.VALIDATION
    decide(story, VALIDATION_GATE, lead, "APPROVED")
    assert (story.step, story.state, story.completed_by) == (Story.Step.ARTEFACTS, Story.State.COMPLETED, lead)
    change = Change.objects.get()
    assert (change.type, change.text, change.reference, change.source, change.release) == (
        "feature", "Timesheet export (CSV)", "S-01", Change.Source.STORY, None)
    assert change.author == dev
    assert [event.kind for event in story.events.all()][-2:] == ["business_validated", "completed"]


def test_tests_step_needs_a_coverage_figure(story, dev):
    story_advance(story=story, user=dev)
    story_advance(story=story, user=dev)
    with pytest.raises(DomainError, match="coverage"):
        story_advance(story=story, user=dev)
    with pytest.raises(DomainError, match="between 0 and 100"):
        story_advance(story=story, user=dev, coverage="140")
    with pytest.raises(DomainError, match="not a number"):
        story_advance(story=story, user=dev, coverage="lots")


def test_a_coverage_far_under_target_leaves_an_alert_in_the_history(story, dev):
    to_review(story, dev, coverage=60)
    assert story.events.filter(kind="coverage_alert").exists()


def test_review_opens_with_the_gate_asked_by_the_developer(story, dev, lead):
    to_review(story, dev)
    gate = pending_gate(target=story, gate_type=REVIEW_GATE)
    assert story.step == Story.Step.REVIEW
    assert gate.requested_by == dev and gate.subject == f"S-01 r1@{SHA[:12]}"
    with pytest.raises(DomainError, match="waits for its review gate"):
        story_advance(story=story, user=dev)


def test_the_author_may_not_decide_a_gate_of_their_story(story, dev, lead, make_user):
    to_review(story, dev)
    gate = pending_gate(target=story, gate_type=REVIEW_GATE)
    with pytest.raises(NotAllowed):
        gate_decide(gate=gate, user=dev, decision="APPROVED", subject=gate.subject)
    story.author = make_user("dora", "release-approver")
    story.save()
    with pytest.raises(NotAllowed, match="author"):
        gate_decide(gate=gate, user=story.author, decision="APPROVED", subject=gate.subject)


def test_review_needs_rework_sends_it_back_to_code_with_the_feedback(story, dev, lead):
    to_review(story, dev)
    decide(story, REVIEW_GATE, lead, "NEEDS_REWORK", "Handle the empty month")
    assert (story.step, story.revision, story.state) == (Story.Step.CODE, 2, Story.State.ACTIVE)
    event = story.events.get(kind="needs_rework")
    assert (event.note, event.from_step, event.to_step, event.actor) == (
        "Handle the empty month", Story.Step.REVIEW, Story.Step.CODE, lead)


def test_needs_rework_requires_the_feedback(story, dev, lead):
    to_review(story, dev)
    with pytest.raises(DomainError, match="written reason"):
        decide(story, REVIEW_GATE, lead, "NEEDS_REWORK")


def test_review_blocked_takes_it_out_of_the_sprint(story, dev, lead):
    to_review(story, dev)
    decide(story, REVIEW_GATE, lead, "BLOCKED", "Waiting for the Baserow schema")
    assert (story.state, story.sprint, story.step) == (Story.State.BLOCKED, "", Story.Step.REVIEW)
    with pytest.raises(DomainError, match="blocked"):
        story_advance(story=story, user=dev)
    story_return_to_sprint(story=story, sprint="sprint-4", user=lead)
    story.refresh_from_db()
    assert (story.state, story.sprint, story.step, story.revision) == (
        Story.State.ACTIVE, "sprint-4", Story.Step.CODE, 2)


def test_red_ci_sends_it_back_to_code_and_green_opens_the_merge_gate(story, dev, lead):
    to_review(story, dev)
    decide(story, REVIEW_GATE, lead, "APPROVED")
    story_advance(story=story, user=dev)
    story.refresh_from_db()
    assert (story.step, story.ci_status) == (Story.Step.CI, "pending")
    with pytest.raises(DomainError, match="waits for CI"):
        story_advance(story=story, user=dev)
    story_ci_report(story=story, status="red", detail="lint failed")
    story.refresh_from_db()
    assert story.step == Story.Step.CODE
    assert story.events.get(kind="ci_red").note == "lint failed"


def test_merge_is_refused_while_ci_is_not_green(story, dev, lead):
    to_merge(story, dev, lead)
    story_ci_report(story=story, status="red")
    with pytest.raises(DomainError, match="needs CI green"):
        decide(story, MERGE_GATE, lead, "APPROVED")
    story.refresh_from_db()
    assert story.step == Story.Step.MERGE
    assert pending_gate(target=story, gate_type=MERGE_GATE) is not None


def test_merge_approved_moves_to_staging(story, dev, lead):
    to_merge(story, dev, lead)
    assert pending_gate(target=story, gate_type=MERGE_GATE).requested_by == dev
    decide(story, MERGE_GATE, lead, "APPROVED")
    assert story.step == Story.Step.STAGING


def test_merge_wait_fix_ci_goes_back_to_ci_then_green_asks_again(story, dev, lead):
    to_merge(story, dev, lead)
    decide(story, MERGE_GATE, lead, "WAIT_FIX_CI", "Flaky e2e, rerun after the fix")
    assert (story.step, story.ci_status) == (Story.Step.CI, "pending")
    new_sha = "89abcdef0123456789abcdef0123456789abcdef"
    story_ci_report(story=story, status="green", head_sha=new_sha)
    story.refresh_from_db()
    gate = pending_gate(target=story, gate_type=MERGE_GATE)
    assert story.step == Story.Step.MERGE and gate.subject == f"S-01 r1@{new_sha[:12]}"
    decide(story, MERGE_GATE, lead, "APPROVED")
    assert story.step == Story.Step.STAGING


def test_merge_blocked_takes_it_out_of_the_sprint(story, dev, lead):
    to_merge(story, dev, lead)
    decide(story, MERGE_GATE, lead, "BLOCKED", "Out of scope for this sprint")
    assert (story.state, story.sprint) == (Story.State.BLOCKED, "")


def test_a_new_commit_voids_the_merge_gate_asked_on_the_old_one(story, dev, lead):
    to_merge(story, dev, lead)
    gate = pending_gate(target=story, gate_type=MERGE_GATE)
    story_ci_report(story=story, status="green", head_sha="fedcba9876543210fedcba9876543210fedcba98")
    with pytest.raises(DomainError, match="moved on"):
        gate_decide(gate=gate, user=lead, decision="APPROVED", subject=gate.subject)
    gate.refresh_from_db()
    assert gate.state == Gate.State.VOID


def test_validation_needs_rework_goes_back_to_code_and_adds_no_changelog_entry(story, dev, lead):
    to_validation(story, dev, lead)
    decide(story, VALIDATION_GATE, lead, "NEEDS_REWORK", "Trainers need the totals per week")
    assert (story.step, story.revision) == (Story.Step.CODE, 2)
    assert not Change.objects.exists()


def test_after_rework_the_merge_needs_a_review_of_the_new_revision(story, dev, lead):
    to_validation(story, dev, lead)
    decide(story, VALIDATION_GATE, lead, "NEEDS_REWORK", "Totals per week")
    story_advance(story=story, user=dev)
    story_advance(story=story, user=dev)
    decide(story, REVIEW_GATE, lead, "APPROVED")
    story_advance(story=story, user=dev)
    story_ci_report(story=story, status="green")
    decide(story, MERGE_GATE, lead, "APPROVED")
    story_advance(story=story, user=dev)
    decide(story, VALIDATION_GATE, lead, "APPROVED")
    assert story.state == Story.State.COMPLETED
    assert Change.objects.count() == 1
    assert sorted(gate.subject.split("@")[0] for gate in Gate.objects.filter(gate_type=REVIEW_GATE)) == [
        "S-01 r1", "S-01 r2"]


def test_a_completed_story_cannot_move_or_complete_twice(story, dev, lead):
    to_validation(story, dev, lead)
    decide(story, VALIDATION_GATE, lead, "APPROVED")
    with pytest.raises(DomainError, match="completed"):
        story_advance(story=story, user=dev)
    assert Change.objects.count() == 1


def test_a_viewer_may_not_decide(story, dev, people):
    to_review(story, dev)
    gate = pending_gate(target=story, gate_type=REVIEW_GATE)
    with pytest.raises(NotAllowed, match="release-approver"):
        gate_decide(gate=gate, user=people["viewer"], decision="APPROVED", subject=gate.subject)
