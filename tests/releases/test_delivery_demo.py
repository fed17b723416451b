"""The delivery demo data: stories at different steps, a bump of each category, loaded twice without change."""

from formation_hub.dev.demo import load_demo_users
from releases.delivery.bumps import Category
from releases.demo import load_demo_delivery
from releases.models import Change, DependencyBump, Story


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
