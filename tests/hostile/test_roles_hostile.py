"""Each demo role against the mutating console actions and services it should not reach (issue 17)."""

import pytest
from django.urls import reverse

from formation_hub.errors import NotAllowed
from formation_hub.gates.decisions import gate_decide, gate_request, pending_gate
from incidents.models import Runbook
from releases.delivery import bump_services, stories
from releases.models import DependencyBump, Story


@pytest.fixture
def demo(make_user):
    """The demo users with their demo roles."""
    return {
        "admin": make_user("admin", "admin", is_superuser=True),
        "alice": make_user("alice", "oncall"),
        "bruno": make_user("bruno", "oncall", "release-approver"),
        "chloe": make_user("chloe", "release-approver"),
        "victor": make_user("victor", "viewer"),
    }


@pytest.fixture
def story(demo):
    return stories.story_create(title="Checkout", author=demo["chloe"], user=demo["chloe"])


@pytest.fixture
def held_bump(demo):
    bump = bump_services.bump_create(package="vitest", ecosystem="npm", from_version="1.2.0", to_version="1.3.0",
                                     scope="development", user=demo["chloe"]).bump
    gate = pending_gate(target=bump, gate_type=bump_services.REVIEW_GATE)
    gate_decide(gate=gate, user=demo["bruno"], decision="hold", subject=gate.subject, reason="wait")
    bump.refresh_from_db()
    assert bump.state == DependencyBump.State.HELD
    return bump


def _run_action(client, model: str, action: str, pks):
    return client.post(reverse(f"admin:releases_{model}_changelist"),
                       {"action": action, "_selected_action": [str(pk) for pk in pks]})


@pytest.mark.parametrize("name", ["victor", "alice"])
def test_no_role_without_change_moves_a_story_through_the_bulk_action(client, demo, story, name):
    client.force_login(demo[name])
    listing = client.get(reverse("admin:releases_story_changelist")).content.decode()
    assert "advance_stories" not in listing
    _run_action(client, "story", "advance_stories", [story.pk])
    story.refresh_from_db()
    assert story.step == Story.Step.PREFLIGHT


@pytest.mark.parametrize("name", ["victor", "alice"])
def test_no_role_without_change_merges_or_reopens_bumps_through_the_bulk_actions(client, demo, held_bump, name):
    client.force_login(demo[name])
    listing = client.get(reverse("admin:releases_dependencybump_changelist")).content.decode()
    assert "merge_bumps" not in listing and "ask_again" not in listing
    _run_action(client, "dependencybump", "ask_again", [held_bump.pk])
    _run_action(client, "dependencybump", "merge_bumps", [held_bump.pk])
    held_bump.refresh_from_db()
    assert held_bump.state == DependencyBump.State.HELD


@pytest.mark.parametrize("name", ["victor", "alice"])
def test_the_delivery_services_check_who_acts(demo, story, held_bump, name):
    person = demo[name]
    with pytest.raises(NotAllowed):
        stories.story_advance(story=story, user=person)
    with pytest.raises(NotAllowed):
        bump_services.bump_ask_again(bump=held_bump, user=person)
    with pytest.raises(NotAllowed):
        bump_services.bump_merge(bump=held_bump, user=person)
    with pytest.raises(NotAllowed):
        bump_services.bump_close(bump=held_bump, user=person, reason="no")
    with pytest.raises(NotAllowed):
        bump_services.bump_set_severity(bump=held_bump, user=person, severity="critical", advisories="CVE-2026-1")


def test_the_runbook_action_refuses_a_non_responder_without_a_500(client, demo):
    runbook = Runbook.objects.create(title="Hostile test", slug="hostile-test")
    client.force_login(demo["victor"])
    response = client.post(reverse("admin:incidents_runbook_changelist"),
                           {"action": "mark_runbooks_reviewed", "_selected_action": [str(runbook.pk)]})
    assert response.status_code in (200, 302)
    runbook.refresh_from_db()
    assert runbook.last_reviewed_at is None


def test_a_superuser_outside_the_approvers_decides_no_gate(demo, story):
    stories.story_advance(story=story, user=demo["chloe"])
    gate = gate_request(target=story, gate_type=stories.REVIEW_GATE, subject=stories.story_subject(story),
                        requested_by=demo["bruno"])
    with pytest.raises(NotAllowed, match="held by: release-approver"):
        gate_decide(gate=gate, user=demo["admin"], decision="APPROVED", subject=gate.subject)
