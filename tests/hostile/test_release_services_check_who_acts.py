"""The release pipeline's services refuse a person without the permission, whatever path calls them
(issue 17: the console's buttons were the only check); the system (no user) still acts on its rules."""

import pytest

from formation_hub.errors import NotAllowed
from releases.models import Release
from releases.pipeline.prepare import release_abort, release_create, release_set_sha
from releases.pipeline.prerequisite_reports import (
    commit_statuses_fetch,
    override_request,
    release_check_prerequisites,
)
from releases.pipeline.rollout import release_deploy, release_rollback, release_run_smoke
from tests.releases.factories import NEW_SHA, ChangeFactory, ReleaseFactory


@pytest.fixture
def draft(db):
    return ReleaseFactory(status=Release.Status.DRAFT)


@pytest.mark.parametrize("groups", [("viewer",), ("oncall",)])
def test_no_one_outside_the_release_approvers_prepares_checks_deploys_or_aborts(make_user, draft, groups):
    person = make_user("mallory", *groups)
    ChangeFactory()
    refused = [
        lambda: release_create(user=person, sha=NEW_SHA),
        lambda: release_check_prerequisites(release=draft, user=person),
        lambda: commit_statuses_fetch(release=draft, user=person),
        lambda: release_set_sha(release=draft, sha=NEW_SHA, user=person),
        lambda: override_request(release=draft, prerequisite="ci", reason="trust me", user=person),
        lambda: release_deploy(release=draft, user=person),
        lambda: release_run_smoke(release=draft, user=person),
        lambda: release_abort(release=draft, user=person, reason="because"),
    ]
    for call in refused:
        with pytest.raises(NotAllowed):
            call()
    draft.refresh_from_db()
    assert draft.status == Release.Status.DRAFT and draft.sha != NEW_SHA
    assert Release.objects.count() == 1


def test_a_viewer_rolls_nothing_back(make_user):
    released = ReleaseFactory(status=Release.Status.WATCHING)
    with pytest.raises(NotAllowed):
        release_rollback(release=released, user=make_user("victor", "viewer"), reason="I felt like it")
    released.refresh_from_db()
    assert released.status == Release.Status.WATCHING


def test_a_release_approver_still_prepares_and_aborts(make_user):
    chloe = make_user("chloe", "release-approver")
    ChangeFactory()
    release = release_create(user=chloe, sha=NEW_SHA)
    release_abort(release=release, user=chloe, reason="wrong commit")
    release.refresh_from_db()
    assert release.status == Release.Status.ABORTED
