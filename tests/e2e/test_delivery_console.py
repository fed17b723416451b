"""Delivery in the browser: a story's review gate decided from the board, a bump merged from the weekly queue."""

import pytest

from releases import clock
from releases.delivery.bump_services import bump_ci_report, bump_create
from releases.delivery.stories import story_advance, story_create
from releases.models import DependencyBump, Story
from tests.releases.conftest import last_wednesday_morning

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def delivery_world(monkeypatch, make_user):
    wednesday = last_wednesday_morning()
    monkeypatch.setattr(clock, "now", lambda: wednesday)
    return {"dev": make_user("dana", "release-approver"), "lead": make_user("leo", "release-approver")}


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def test_a_story_sent_back_for_rework_from_the_board_keeps_the_feedback(page, login, delivery_world):
    dev, lead = delivery_world["dev"], delivery_world["lead"]
    story = story_create(title="Timesheet export", author=dev, user=dev, sprint="sprint-3",
                         acceptance_criteria="Scenario: export\n  Given a trainer\n  Then a CSV")
    story_advance(story=story, user=dev)
    story_advance(story=story, user=dev)

    login(dev, next_path=f"/admin/releases/story/{story.pk}/change/")
    assert page.locator(".gherkin-keyword").first.inner_text() == "Scenario:"
    page.fill("input[name=coverage]", "86")
    submit(page, "#action-advance")
    assert "4. review gate" in page.locator(".messagelist").inner_text()

    page.context.clear_cookies()
    login(lead, next_path="/admin/releases/story/board/")
    column = page.locator("section[data-step='4']")
    assert "S-01" in column.inner_text()
    card = column.locator("li[data-story='S-01']")
    assert card.evaluate("card => getComputedStyle(card).listStyleType") == "none", "a card has no bullet"
    with page.expect_navigation():
        column.locator("a.gate-decide").click()
    page.select_option("#id_decision", "NEEDS_REWORK")
    page.fill("#id_reason", "Handle the month with no session")
    submit(page, "input[value='Record decision']")
    assert page.locator(".messagelist .success").is_visible()

    page.goto(f"/admin/releases/story/{story.pk}/change/")
    assert "2. code" in page.locator("ol.steps li.current").inner_text()
    assert "Handle the month with no session" in page.locator("tr[data-kind='needs_rework']").inner_text()
    assert Story.objects.get().revision == 2


def test_a_bump_is_reviewed_and_merged_from_the_weekly_queue(page, login, delivery_world):
    bump = bump_create(package="django", ecosystem="pip", from_version="5.2.18", to_version="5.2.19",
                       user=delivery_world["dev"]).bump
    bump_ci_report(bump=bump, status="green")
    bump_create(package="vitest", ecosystem="npm", from_version="1.2.0", to_version="1.3.0", scope="development")

    login(delivery_world["lead"], next_path="/admin/releases/dependencybump/review-queue/")
    assert "django" in page.locator("#queue-production").inner_text()
    assert "vitest" in page.locator("#queue-development").inner_text()
    with page.expect_navigation():
        page.locator(f"#queue-production tr[data-bump='{bump.pk}'] a.gate-decide").click()
    page.select_option("#id_decision", "merge")
    submit(page, "input[value='Record decision']")
    assert page.locator(".messagelist .success").is_visible()
    assert DependencyBump.objects.get(pk=bump.pk).state == "merged"
