"""Stories to and from JSON, and the build state: round trips, updates of planning text, clear refusals."""

import json
from datetime import datetime

import pytest
from rest_framework.authtoken.models import Token

from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import gate_decide, pending_gate
from releases.delivery.stories import (
    MERGE_GATE,
    REVIEW_GATE,
    VALIDATION_GATE,
    story_advance,
    story_ci_report,
    story_create,
)
from releases.delivery.story_json import build_state_export, parse_stories_json, stories_export, stories_import
from releases.models import Story


@pytest.fixture
def completed(people):
    dev, lead = people["coder"], people["approver"]
    story = story_create(title="Setup Baserow tables", acceptance_criteria="Scenario: s\n  Given x", author=dev,
                         user=dev, sprint="s1", change_type="feature")
    story_advance(story=story, user=dev)
    story_advance(story=story, user=dev)
    story_advance(story=story, user=dev, coverage=91)
    for gate_type, after in ((REVIEW_GATE, "advance"), (MERGE_GATE, "advance"), (VALIDATION_GATE, None)):
        if gate_type == MERGE_GATE:
            story_ci_report(story=story, status="green")
        gate = pending_gate(target=story, gate_type=gate_type)
        gate_decide(gate=gate, user=lead, decision="APPROVED", subject=gate.subject)
        if after:
            story_advance(story=story, user=dev)
    story.refresh_from_db()
    return story


def test_export_then_import_into_an_empty_database_keeps_the_planning_and_restarts_at_pre_flight(completed, people):
    story_create(title="Timesheet export", user_story="As a trainer ...", user=people["coder"])
    exported = stories_export()
    text = json.dumps(exported)
    Story.objects.all().delete()
    assert stories_import(items=parse_stories_json(text), user=people["approver"]).startswith("2 story(ies) created")
    planning = ("id", "title", "user_story", "acceptance_criteria", "branch", "sprint", "change_type", "coverage")
    assert [{key: story[key] for key in planning} for story in stories_export()] == [
        {key: story[key] for key in planning} for story in exported]
    assert exported[0]["completed_by"] == "ben" and exported[0]["coverage"] == 91.0


def test_the_build_state_says_which_stories_are_completed_when_and_by_whom(completed, people):
    story_create(title="Next one", user=people["coder"])
    state = build_state_export()
    assert state["completed"] == ["S-01"]
    first, second = state["stories"]
    assert (first["id"], first["state"], first["step"], first["completed_by"]) == ("S-01", "completed", 10, "ben")
    assert datetime.fromisoformat(first["completed_at"]) == completed.completed_at
    assert (second["state"], second["completed_at"], second["completed_by"]) == ("active", None, None)
    assert json.loads(json.dumps(state)) == state


def test_importing_a_known_story_updates_only_its_planning_text(completed, people):
    item = {**stories_export()[0], "title": "Setup the Baserow tables", "step": 2, "state": "active"}
    summary = stories_import(items=[item], user=people["approver"])
    assert summary.startswith("0 story(ies) created, 1 updated")
    completed.refresh_from_db()
    assert (completed.title, completed.step, completed.state) == ("Setup the Baserow tables", 10, "completed")
    assert stories_import(items=[item], user=people["approver"]).endswith("1 unchanged.")


def test_criteria_given_as_a_list_of_lines_are_joined(db, people):
    stories_import(items=[{"id": "S-07", "title": "Lines", "acceptance_criteria": ["Scenario: a", "  Given b"]}],
                   user=people["approver"])
    story = Story.objects.get()
    assert (story.key, story.acceptance_criteria, story.branch, story.step) == ("S-07", "Scenario: a\n  Given b",
                                                                                 "feat/lines", 1)
    assert story_create(title="After", user=people["coder"]).key == "S-08"


def test_an_import_never_places_a_story_past_pre_flight_nor_names_who_completed_it(db, people):
    stories_import(items=[{"id": "S-03", "title": "At review", "step": 4, "coverage": 82},
                          {"id": "S-04", "title": "Done", "step": 10, "state": "completed", "completed_by": "ben",
                           "completed_at": "2026-11-20T10:00:00+00:00"}], user=people["approver"])
    for story in Story.objects.all():
        assert (story.step, story.state, story.completed_by, story.completed_at) == (1, "active", None, None)
        assert pending_gate(target=story, gate_type=REVIEW_GATE) is None


def test_a_viewer_cannot_import_stories(db, people):
    with pytest.raises(NotAllowed):
        stories_import(items=[{"id": "S-05", "title": "Sneaky"}], user=people["viewer"])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not valid JSON"),
        ('{"a": 1}', "Expected a JSON list"),
        ('["S-01"]', "story #1 is not an object"),
        ('[{"title": "no id"}]', "'id' must look like S-01"),
        ('[{"id": "S-01"}]', "'title' is missing"),
        ('[{"id": "S-01", "title": "t", "step": 11}]', "'step' must be a number from 1 to 10"),
        ('[{"id": "S-01", "title": "t", "step": true}]', "'step' must be a number"),
        ('[{"id": "S-01", "title": "t", "state": "done"}]', "'state' is 'done'"),
        ('[{"id": "S-01", "title": "t", "step": 10}]', "completed exactly when it is at step 10"),
        ('[{"id": "S-01", "title": "t", "coverage": "lots"}]', "not a number"),
        ('[{"id": "S-01", "title": "t", "completed_at": "yesterday", "step": 10, "state": "completed"}]',
         "ISO 8601"),
        ('[{"id": "S-01", "title": "t", "completed_at": "2026-11-20T10:00:00", "step": 10, "state": "completed"}]',
         "ISO 8601"),
        ('[{"id": "S-01", "title": 3}]', "'title' must be text"),
        ('[{"id": "S-01", "title": "a"}, {"id": "S-1", "title": "b"}]', "S-01 more than once"),
        ('{"stories": [{"id": "S-01", "title": "t", "change_type": "epic"}]}', "'change_type' is 'epic'"),
    ],
)
def test_a_bad_file_is_refused_with_what_to_fix_and_creates_nothing(db, people, text, words):
    with pytest.raises(DomainError) as refused:
        stories_import(items=parse_stories_json(text), user=people["approver"])
    assert words in refused.value.message
    assert not Story.objects.exists()


def test_story_ci_is_reported_by_the_api(client, people, monkeypatch):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", "ci-credential")
    story = story_create(title="CI story", user=people["coder"], author=people["coder"])
    Story.objects.filter(pk=story.pk).update(step=Story.Step.CI)
    ci = {"Authorization": "Bearer ci-credential"}
    response = client.post("/api/stories/S-01/ci/", {"status": "green", "head_sha": "0123abc"},
                           content_type="application/json", headers=ci)
    assert response.status_code == 200 and response.json() == {"id": "S-01", "step": 7, "ci_status": "green"}
    assert client.post("/api/stories/S-99/ci/", {"status": "green"}, content_type="application/json",
                       headers=ci).status_code == 404
    assert client.post("/api/stories/nope/ci/", {"status": "green"}, content_type="application/json",
                       headers=ci).status_code == 404
    approver = Token.objects.create(user=people["approver"]).key
    assert client.post("/api/stories/S-01/ci/", {"status": "red"}, content_type="application/json",
                       headers={"Authorization": f"Token {approver}"}).status_code == 403
