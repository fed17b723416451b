"""Double clicks on PostgreSQL: concurrent deploys and rollbacks of one release make one deployment each."""

import threading

import pytest
from django.db import connection, connections

from formation_hub.errors import DomainError
from releases.models import Deployment
from releases.pipeline.rollout import release_deploy, release_rollback
from tests.releases.factories import StableReleaseFactory
from tests.releases.test_pipeline import to_approved, watching

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")


def run_together(count, action):
    barrier = threading.Barrier(count)
    outcomes = []

    def worker():
        barrier.wait()
        try:
            action()
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_deploy_clicks_make_one_deployment(people, some_changes, green, smoke_ok):
    release = to_approved(people)
    outcomes = run_together(6, lambda: release_deploy(release=release, user=people["author"]))
    assert outcomes.count("ok") == 1
    assert Deployment.objects.filter(action="deploy").count() == 1


def test_concurrent_rollback_clicks_make_one_rollback(people, some_changes, green, smoke_ok):
    StableReleaseFactory(version="0.0.9", sha="aaaaaaa")
    release = watching(people, smoke_ok)
    outcomes = run_together(6, lambda: release_rollback(release=release, user=people["author"], reason="errors"))
    assert outcomes.count("ok") == 1
    assert Deployment.objects.filter(action="rollback").count() == 1
