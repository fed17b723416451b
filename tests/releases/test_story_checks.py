"""Daily story checks: a branch older than 3 days, and commits outside `type(scope): description` (read
from the pull request on the forge stand-in, GitHub- and Forgejo-shaped)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from formation_hub.models import Notification
from releases.delivery.stories import story_advance, story_create
from releases.delivery.story_checks import commit_problems, stories_check


@pytest.mark.parametrize(("message", "ok"), [
    ("feat(sync): archive pages of deleted rows", True),
    ("fix: typo", True),
    ("sec(api)!: refuse tokens in query strings", True),
    ("Merge branch 'main' into feat/x", True),
    ("WIP", False),
    ("Fixed stuff", False),
    ("feat:no space", False),
    ("", False),
])
def test_commit_convention(message, ok):
    assert (commit_problems([("a" * 40, message)]) == []) is ok


def test_a_branch_older_than_three_days_is_flagged_once(people):
    dev = people["coder"]
    story = story_create(title="Timesheet export", sprint="s3", author=dev, user=dev)
    story_advance(story=story, user=dev)
    assert stories_check(now=timezone.now() + timedelta(days=2)) == []
    assert stories_check(now=timezone.now() + timedelta(days=4)) == ["S-01: branch 4 days old"]
    assert stories_check(now=timezone.now() + timedelta(days=5)) == []
    alert = Notification.objects.get(kind="story.branch_too_old")
    assert alert.recipients == [dev.email] and "feat/timesheet-export" in alert.body
    assert story.events.filter(kind="branch_too_old").count() == 1


def test_commits_outside_the_convention_are_told_to_the_author(forge, people):
    dev = people["coder"]
    pull = forge.open_pull_request()
    forge.commit(pull["number"], "feat(export): timesheet CSV", "wip", "fix tests")
    story = story_create(title="Timesheet export", sprint="s3", author=dev, user=dev)
    story.pull_request_url, story.step = pull["html_url"], 6
    story.save()
    assert stories_check() == ["S-01: 2 commit(s) outside the convention"]
    stories_check()
    alert = Notification.objects.get(kind="story.commit_convention")
    assert "wip" in alert.body and "fix tests" in alert.body and "timesheet CSV" not in alert.body
    assert story.events.filter(kind="commit_convention").count() == 1
