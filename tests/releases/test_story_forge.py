"""A story's review decision is written into its pull request and its gates are a commit status (the forge
stand-in, GitHub- and Forgejo-shaped)."""

from formation_hub.gates.decisions import gate_decide, pending_gate
from releases.delivery.stories import MERGE_GATE, REVIEW_GATE, story_advance, story_ci_report, story_create


def test_the_review_decision_is_written_into_the_pull_request_and_the_merge_gate_binds_it(
    forge, people, run_tasks_inline
):
    dev, lead = people["coder"], people["approver"]
    pull = forge.open_pull_request(user="carl", head_ref="feat/timesheet-export")
    sha = pull["head"]["sha"]
    story = story_create(title="Timesheet export", sprint="sprint-3", author=dev, user=dev)
    story_advance(story=story, user=dev)
    story_advance(story=story, user=dev, head_sha=sha)
    run_tasks_inline(story_advance, story=story, user=dev, coverage=90)
    gate = pending_gate(target=story, gate_type=REVIEW_GATE)
    run_tasks_inline(gate_decide, gate=gate, user=lead, decision="APPROVED", subject=gate.subject,
                     reason="Clear tests.")
    assert forge.state()["reviews"] == []  # no pull request yet
    run_tasks_inline(story_advance, story=story, user=dev, pull_request_url=pull["html_url"])
    review = forge.state()["reviews"][0]
    assert review["state"] == "APPROVED" and "APPROVED by ben" in review["body"] and "Clear tests." in review["body"]
    assert review["commit_id"] == sha
    run_tasks_inline(story_ci_report, story=story, status="green", head_sha=sha)
    assert forge.statuses(sha)[-1]["state"] == "pending"
    gate = pending_gate(target=story, gate_type=MERGE_GATE)
    run_tasks_inline(gate_decide, gate=gate, user=lead, decision="APPROVED", subject=gate.subject)
    assert forge.statuses(sha)[-1]["state"] == "success"
