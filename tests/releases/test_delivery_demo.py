"""The delivery demo data: stories at different steps, a bump of each category, loaded twice without change."""

from formation_hub.dev.demo import load_demo_users
from formation_hub.forge import load_demo_forge
from formation_hub.gates.decisions import gate_types
from formation_hub.gates.forge_status import publish_gate_status_of
from formation_hub.models import AuditEntry, Gate
from releases.demo import load_demo_delivery
from releases.models import Change, DependencyBump, Story
from releases.rules.bumps import Category


def test_the_demo_has_stories_at_different_steps_and_every_bump_category(db):
    load_demo_users()
    first = load_demo_delivery()
    assert load_demo_delivery() == first
    steps = {story.title: (story.step, story.state) for story in Story.objects.all()}
    assert steps["Setup Baserow tables"] == (10, "completed")
    assert steps["Timesheet export"] == (4, "active")
    assert steps["Capacity alerts"] == (6, "active")
    assert steps["Docmost page per projet"] == (2, "active")
    assert steps["Single sign-on"][1] == "blocked"
    assert steps["Session calendar feed"] == (1, "active")
    assert set(DependencyBump.objects.values_list("category", flat=True)) == {
        category for category, _label in Category.CHOICES}
    assert Change.objects.filter(source=Change.Source.STORY, reference="S-01").count() == 1


def test_the_demo_gate_statuses_are_published_on_the_forge_stand_in(db, forge_standin, monkeypatch):
    """`make run`'s worker publishes the demo gates' status on their pull requests (DEMO_PR): the forge
    stand-in started with --demo holds them, so no ForgeError 404 fills the worker's log."""
    monkeypatch.setenv("FORGE_TOKEN", forge_standin.token)
    monkeypatch.setenv("FORGE_STANDIN_PORT", forge_standin.url.rsplit(":", 1)[1])
    load_demo_forge()
    load_demo_users()
    load_demo_delivery()
    targets = set(Gate.objects.filter(gate_type__in=_pull_request_gate_types())
                  .values_list("content_type_id", "object_id"))
    states = [publish_gate_status_of(content_type_id=content_type_id, object_id=object_id)
              for content_type_id, object_id in sorted(targets)]
    published = [state for state in states if state]  # '' for a story before its pull request
    assert len(published) >= 5 and set(published) <= {"pending", "success", "failure"}, states
    repository = forge_standin.control("GET", "state")["repositories"]["ops/formation-hub"]
    assert sum(len(statuses) for statuses in repository["statuses"].values()) == len(published)
    assert not AuditEntry.objects.filter(action="forge.status_failed").exists()


def _pull_request_gate_types() -> list[str]:
    return [name for name, kind in gate_types().items() if kind.pull_request is not None]
