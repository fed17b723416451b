"""Concurrent intake on PostgreSQL: one bump per pull request, never more open bumps than the limit."""

import threading

import pytest
from django.db import connection, connections

from releases.delivery.bump_services import bump_create
from releases.delivery.stories import story_create
from releases.models import DependencyBump

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")


def run_together(actions):
    barrier = threading.Barrier(len(actions))
    outcomes = []

    def worker(action):
        barrier.wait()
        try:
            outcomes.append(action())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_the_same_pull_request_delivered_at_once_makes_one_bump(db):
    url = "https://github.com/org/app/pull/9"
    outcomes = run_together([
        lambda: bump_create(package="lodash", ecosystem="npm", from_version="4.17.20", to_version="4.17.21",
                            pull_request_url=url)
        for _ in range(6)
    ])
    assert sum(intake.created for intake in outcomes) == 1
    assert len({intake.bump.pk for intake in outcomes}) == 1
    assert DependencyBump.objects.count() == 1


def test_concurrent_intakes_never_open_more_than_the_limit(db, monkeypatch):
    monkeypatch.setenv("BUMP_OPEN_LIMIT", "3")
    run_together([
        (lambda index=index: bump_create(package=f"pkg-{index}", ecosystem="npm", from_version="1.0.0",
                                         to_version="1.0.1"))
        for index in range(8)
    ])
    assert DependencyBump.objects.filter(state="open").count() == 3
    assert DependencyBump.objects.filter(state="queued").count() == 5


def test_concurrent_story_creations_get_distinct_ids(db):
    stories = run_together([lambda index=index: story_create(title=f"Story {index}") for index in range(5)])
    assert sorted(story.key for story in stories) == ["S-01", "S-02", "S-03", "S-04", "S-05"]
