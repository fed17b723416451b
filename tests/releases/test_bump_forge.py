"""Bumps merge through the forge (the stand-in, GitHub- and Forgejo-shaped), their gates bind the forge
as a commit status, and a merge done on the forge against the rules is flagged."""

import pytest

from formation_hub.errors import DomainError
from formation_hub.gates.decisions import gate_decide, pending_gate
from formation_hub.models import AuditEntry, Notification
from releases.delivery.bump_services import REVIEW_GATE, bump_ci_report, bump_create, bump_merge
from releases.delivery.dependabot_webhook import bump_pull_request_closed
from releases.models import Change, DependencyBump


def security_bump(forge, **fields) -> tuple[DependencyBump, dict]:
    pull = forge.open_pull_request(title="Bump lodash from 4.17.20 to 4.17.21")
    bump = bump_create(package="lodash", ecosystem="npm", from_version="4.17.20", to_version="4.17.21",
                       severity="critical", advisories=["GHSA-35jh-r3h4-6jhm"], pull_request_url=pull["html_url"],
                       **fields).bump
    return bump, pull


def merge_calls(forge) -> list[dict]:
    return [call for call in forge.calls() if call["path"].endswith("/merge")]


def test_a_security_bump_merges_on_the_forge_once_ci_is_green(forge):
    bump, pull = security_bump(forge)
    assert not merge_calls(forge)
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert forge.pull(pull["number"])["merged"] is True
    assert [call["method"] for call in merge_calls(forge)] == ["POST" if forge.kind == "forgejo" else "PUT"]
    assert forge.statuses(pull["head"]["sha"])[-1]["state"] == "success"
    assert bump.state == "merged"
    assert Change.objects.get().text.startswith("Bump lodash from 4.17.20 to 4.17.21")


def test_a_merge_the_forge_refuses_is_not_claimed_in_the_changelog(forge):
    bump, pull = security_bump(forge)
    prefix = "/api/v1" if forge.kind == "forgejo" else ""
    forge.fault(status=405, path_prefix=f"{prefix}/repos/{forge.repository}/pulls/{pull['number']}/merge")
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert bump.state == "open" and "The forge refused the merge" in bump.waiting_for
    assert forge.pull(pull["number"])["merged"] is False
    assert not Change.objects.exists()
    assert AuditEntry.objects.filter(action="forge.merge_refused", result="failed").exists()


def test_the_console_merge_says_why_the_forge_refused(forge):
    forge.require("formation-hub/gates", "ci/tests")
    bump, pull = security_bump(forge, scope="development")
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert "The forge refused the merge" in bump.waiting_for
    with pytest.raises(DomainError) as refused:
        bump_merge(bump=bump, user=None)
    expected = "Not all required status checks" if forge.kind == "forgejo" else 'Required status check "ci/tests"'
    assert expected in refused.value.message
    assert forge.pull(pull["number"])["merged"] is False
    assert DependencyBump.objects.get().state == "open"


def test_an_approved_bump_merges_through_the_forge_and_its_gate_is_a_commit_status(forge, people,
                                                                                   run_tasks_inline):
    pull = forge.open_pull_request()
    sha = pull["head"]["sha"]
    bump = run_tasks_inline(bump_create, package="django", ecosystem="pip", from_version="5.2.1",
                            to_version="5.2.2", pull_request_url=pull["html_url"], user=people["author"]).bump
    assert [(s["state"], s["context"]) for s in forge.statuses(sha)] == [("pending", "formation-hub/gates")]
    assert "bump review" in forge.statuses(sha)[-1]["description"]
    run_tasks_inline(bump_ci_report, bump=bump, status="green")
    gate = pending_gate(target=bump, gate_type=REVIEW_GATE)
    run_tasks_inline(gate_decide, gate=gate, user=people["approver"], decision="merge", subject=gate.subject)
    bump.refresh_from_db()
    assert bump.state == "merged" and forge.pull(pull["number"])["merged"] is True
    assert forge.statuses(sha)[-1]["state"] == "success"


def test_a_held_bump_publishes_a_red_status(forge, people, run_tasks_inline):
    pull = forge.open_pull_request()
    bump = run_tasks_inline(bump_create, package="django", ecosystem="pip", from_version="5.2.1",
                            to_version="5.2.2", pull_request_url=pull["html_url"], user=people["author"]).bump
    gate = pending_gate(target=bump, gate_type=REVIEW_GATE)
    run_tasks_inline(gate_decide, gate=gate, user=people["approver"], decision="hold", subject=gate.subject,
                     reason="wait for 5.2.3")
    status = forge.statuses(pull["head"]["sha"])[-1]
    assert status["state"] == "failure" and "hold by ben" in status["description"]


def test_a_merge_on_the_forge_while_the_gate_is_open_is_flagged_and_alerted(forge, people, settings):
    settings.OPS_ADMIN_EMAILS = ["ops@example.org"]
    pull = forge.open_pull_request()
    bump = bump_create(package="django", ecosystem="pip", from_version="5.2.1", to_version="5.2.2",
                       pull_request_url=pull["html_url"], user=people["author"]).bump
    forge.force_merge(pull["number"])
    bump = bump_pull_request_closed(bump=bump, merged=True)
    assert bump.state == "merged"
    assert "Waits for its bump review gate" in bump.merged_outside_gates
    assert pending_gate(target=bump, gate_type=REVIEW_GATE) is None
    alert = Notification.objects.get(kind="bump.merged_outside_gates")
    assert alert.recipients == ["ops@example.org"] and pull["html_url"] in alert.body
    assert AuditEntry.objects.filter(action="bump.merged_outside_gates", result="refused").exists()
