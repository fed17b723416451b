"""The delivery console: story board and pages, bump review queue and pages, actions, JSON import/export."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from formation_hub.gates.decisions import pending_gate
from formation_hub.models import AuditEntry
from releases.delivery.bump_services import FRIDAY_GATE, bump_ci_report, bump_create
from releases.delivery.bump_services import REVIEW_GATE as BUMP_REVIEW_GATE
from releases.delivery.stories import REVIEW_GATE, story_advance, story_create
from releases.models import DependencyBump, Story
from releases.pipeline import clock

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def approver_client(client, people):
    client.force_login(people["approver"])
    return client


@pytest.fixture
def viewer_client(client, people):
    client.force_login(people["viewer"])
    return client


@pytest.fixture
def board(people):
    dev = people["coder"]
    created = [story_create(title=f"Story {index}", author=dev, user=dev, sprint="s1",
                            acceptance_criteria="Scenario: x\n  Given <script>alert(1)</script>")
               for index in range(6)]
    for story in created[1:]:
        story_advance(story=story, user=dev)
    for story in created[2:]:
        story_advance(story=story, user=dev)
    for story in created[3:]:
        story_advance(story=story, user=dev, coverage=90)
    return created


@pytest.fixture
def bumps(people):
    return [
        bump_create(package="lodash", ecosystem="npm", from_version="4.17.20", to_version="4.17.21",
                    severity="critical").bump,
        bump_create(package="vitest", ecosystem="npm", from_version="1.2.0", to_version="1.3.0",
                    scope="development").bump,
        bump_create(package="postgres", ecosystem="docker", from_version="15-alpine", to_version="16-alpine").bump,
        bump_create(package="docmost/docmost", ecosystem="docker", from_version="0.8.1", to_version="0.8.2").bump,
    ]


def test_the_story_list_shows_a_decide_link_without_a_query_per_row(approver_client, board,
                                                                     django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = approver_client.get(reverse("admin:releases_story_changelist"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "S-06" in text and text.count("decide: story review") == 3


def test_the_board_lists_stories_per_step(approver_client, board, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = approver_client.get(reverse("admin:releases_story_board"))
    assert response.status_code == 200
    assert [story.key for story in response.context["columns"][3][2]] == ["S-04", "S-05", "S-06"]
    assert [story.key for story in response.context["columns"][0][2]] == ["S-01"]


def test_the_story_page_shows_the_criteria_formatted_and_escaped(approver_client, board):
    story = board[3]
    response = approver_client.get(reverse("admin:releases_story_change", args=[story.pk]))
    text = response.content.decode()
    assert '<strong class="gherkin-keyword">Given</strong>' in text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    gate = pending_gate(target=story, gate_type=REVIEW_GATE)
    assert reverse("admin:formation_hub_gate_decide", args=[gate.pk]) in text


def test_adding_a_story_in_the_console_generates_its_id_and_branch(approver_client, people):
    response = approver_client.post(reverse("admin:releases_story_add"), {
        "title": "Capacity alerts", "user_story": "As ops ...", "acceptance_criteria": "Scenario: a",
        "sprint": "s2", "change_type": "feature", "author": "",
    })
    assert response.status_code == 302
    story = Story.objects.get()
    assert (story.key, story.branch, story.step) == ("S-01", "feat/capacity-alerts", 1)
    assert story.events.get().kind == "created"


def test_story_actions_are_posts_calling_the_services(approver_client, board):
    story = board[2]
    url = reverse("admin:releases_story_advance", args=[story.pk])
    response = approver_client.post(url, {"coverage": "abc"}, follow=True)
    assert "not a number" in response.content.decode()
    approver_client.post(url, {"coverage": "88.5", "note": "all green"})
    story.refresh_from_db()
    assert (story.step, str(story.coverage)) == (Story.Step.REVIEW, "88.50")
    assert approver_client.get(url).status_code == 302


def test_a_viewer_sees_the_board_but_may_not_act(viewer_client, board):
    assert viewer_client.get(reverse("admin:releases_story_board")).status_code == 200
    response = viewer_client.post(reverse("admin:releases_story_advance", args=[board[0].pk]))
    assert response.status_code == 403
    assert viewer_client.get(reverse("admin:releases_story_import")).status_code == 403


def test_stories_export_then_import_into_an_empty_database_keeps_the_planning(approver_client, board):
    exported = approver_client.get(reverse("admin:releases_story_export"))
    assert exported["Content-Disposition"] == 'attachment; filename="stories.json"'
    data = json.loads(exported.content)
    Story.objects.all().delete()
    response = approver_client.post(reverse("admin:releases_story_import"), {"text": json.dumps(data)}, follow=True)
    assert "6 story(ies) created" in response.content.decode()
    again = json.loads(approver_client.get(reverse("admin:releases_story_export")).content)
    assert [(story["id"], story["title"], story["branch"]) for story in again] == [
        (story["id"], story["title"], story["branch"]) for story in data]
    assert {story["step"] for story in again} == {1}
    assert pending_gate(target=Story.objects.get(number=4), gate_type=REVIEW_GATE) is None


def test_an_invalid_import_is_refused_with_the_reason_and_creates_nothing(approver_client):
    response = approver_client.post(reverse("admin:releases_story_import"),
                                    {"text": json.dumps([{"id": "S-1", "title": "ok"}, {"id": "X", "title": "bad"}])})
    assert "&#x27;id&#x27; must look like S-01" in response.content.decode()
    assert not Story.objects.exists()


def test_the_build_state_downloads_as_json(approver_client, board):
    response = approver_client.get(reverse("admin:releases_story_build_state"))
    data = json.loads(response.content)
    assert [story["id"] for story in data["stories"]] == ["S-01", "S-02", "S-03", "S-04", "S-05", "S-06"]
    assert data["completed"] == []


def test_the_weekly_review_queue_groups_production_and_development(approver_client, bumps,
                                                                   django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = approver_client.get(reverse("admin:releases_dependencybump_review_queue"))
    assert response.status_code == 200
    groups = {key: [bump.package for bump in rows] for key, _label, rows in response.context["groups"]}
    assert groups == {"production": ["lodash", "postgres", "docmost/docmost"], "development": ["vitest"]}
    assert response.content.decode().count('class="gate-decide"') == 3


def test_the_bump_list_stays_at_a_fixed_number_of_queries(approver_client, bumps, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = approver_client.get(reverse("admin:releases_dependencybump_changelist"))
    assert response.status_code == 200


def test_recording_a_bump_in_the_console_computes_its_category(approver_client):
    url = reverse("admin:releases_dependencybump_add")
    response = approver_client.post(url, {"package": "postgres", "ecosystem": "docker", "from_version": "15",
                                          "to_version": "15.4", "scope": "production", "severity": "none"})
    assert "different precisions" in response.content.decode()
    response = approver_client.post(url, {"package": "postgres", "ecosystem": "docker", "from_version": "15-alpine",
                                          "to_version": "16-alpine", "scope": "production", "severity": "none"})
    bump = DependencyBump.objects.get()
    assert response.status_code == 302 and bump.category == "database_major"


def test_the_bump_page_shows_why_and_what_it_waits_for(approver_client, bumps):
    response = approver_client.get(reverse("admin:releases_dependencybump_change", args=[bumps[2].pk]))
    text = response.content.decode()
    assert "PostgreSQL major" in text and "Waits for its major bump go/no-go gate." in text


def test_bump_actions_call_the_services(approver_client, bumps):
    bump = bumps[1]
    bump_ci_report(bump=bump, status="green")
    response = approver_client.post(reverse("admin:releases_dependencybump_merge", args=[bump.pk]), follow=True)
    assert "Waits for its bump review gate" in response.content.decode()
    approver_client.post(reverse("admin:releases_dependencybump_close", args=[bump.pk]), {"reason": "later"})
    bump.refresh_from_db()
    assert bump.state == "closed" and pending_gate(target=bump, gate_type=BUMP_REVIEW_GATE) is None


def test_the_landing_page_shows_the_delivery_panel(approver_client, board, bumps):
    response = approver_client.get(reverse("admin:index"))
    text = response.content.decode()
    assert "Delivery: stories and bumps" in text
    assert "<strong>3</strong> story gates waiting" in text and "<strong>3</strong> bump decisions waiting" in text


def test_editing_a_story_s_planning_text_is_audited_and_leaves_its_step_alone(approver_client, board):
    story = board[3]
    response = approver_client.post(reverse("admin:releases_story_change", args=[story.pk]), {
        "title": "Story three, renamed", "user_story": "", "acceptance_criteria": "Scenario: y",
        "change_type": "fix",
    })
    assert response.status_code == 302
    story.refresh_from_db()
    assert (story.title, story.change_type, story.step) == ("Story three, renamed", "fix", Story.Step.REVIEW)
    entry = AuditEntry.objects.get(action="story.planning_edited")
    assert set(entry.changes) == {"title", "acceptance_criteria", "change_type"}


def test_a_critical_cve_on_friday_offers_the_override_from_the_bump_page(approver_client, people, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 27, 17, 0, tzinfo=ZoneInfo("Europe/Paris")))
    bump = bump_create(package="lodash", ecosystem="npm", from_version="4.17.20", to_version="4.17.21",
                       severity="critical").bump
    bump_ci_report(bump=bump, status="green")
    page = approver_client.get(reverse("admin:releases_dependencybump_change", args=[bump.pk])).content.decode()
    assert "Ask a second approver to merge it now" in page
    url = reverse("admin:releases_dependencybump_friday", args=[bump.pk])
    approver_client.post(url, {"reason": "Exploited in the wild"}, follow=True)
    assert pending_gate(target=bump, gate_type=FRIDAY_GATE).requested_by == people["approver"]
