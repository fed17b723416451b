"""CI evidence names a full commit SHA: a 7-character prefix, which can name another commit, is refused
and matches nothing (issue 17, low)."""

import pytest

from formation_hub.errors import DomainError
from releases.delivery.bump_services import bump_create
from releases.delivery.stories import story_create
from releases.models import PrerequisiteReport, Story
from releases.pipeline.prepare import release_set_sha
from releases.pipeline.prerequisite_reports import report_receive
from releases.selectors import release_evaluation
from tests.releases.factories import SHA, ReleaseFactory

CI = {"Authorization": "Bearer ci-credential"}


@pytest.fixture(autouse=True)
def ci_credential(monkeypatch):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", "ci-credential")


def test_a_ci_report_naming_a_sha_prefix_is_a_400_naming_the_field(client, db):
    release = ReleaseFactory(version="0.1.0")
    response = client.post(f"/api/releases/{release.pk}/checks/", {"kind": "ci", "outcome": "success",
                           "sha": SHA[:7]}, content_type="application/json", headers=CI)
    assert response.status_code == 400
    assert response.json()["error"].startswith("sha: A commit SHA is the full 40 hexadecimal characters")
    assert not PrerequisiteReport.objects.exists()


def test_a_story_ci_status_naming_a_sha_prefix_is_a_400_naming_the_field(client, make_user):
    coder = make_user("cody", "release-approver")
    story = story_create(title="CI story", user=coder, author=coder)
    Story.objects.filter(pk=story.pk).update(step=Story.Step.CI)
    response = client.post(f"/api/stories/{story.key}/ci/", {"status": "green", "head_sha": SHA[:7]},
                           content_type="application/json", headers=CI)
    assert response.status_code == 400 and response.json()["error"].startswith("head_sha: A commit SHA is the full")
    story.refresh_from_db()
    assert story.ci_status == "unknown" and story.head_sha == ""


def test_a_bump_ci_status_naming_a_sha_prefix_is_a_400_naming_the_field(client, db):
    bump = bump_create(package="requests", ecosystem="pip", from_version="2.32.0", to_version="2.32.1").bump
    response = client.post(f"/api/bumps/{bump.pk}/ci/", {"status": "green", "head_sha": SHA[:7]},
                           content_type="application/json", headers=CI)
    assert response.status_code == 400 and response.json()["error"].startswith("head_sha: A commit SHA is the full")
    bump.refresh_from_db()
    assert bump.ci_status != "green"


def test_a_report_for_another_commit_sharing_the_prefix_does_not_count(db):
    release = ReleaseFactory(version="0.1.0")
    other = SHA[:7] + "f" * 33
    report_receive(release=release, kind="ci", outcome="success", sha=other)
    assert release_evaluation(release).result("ci").status != "pass"


def test_a_release_cannot_be_set_to_a_sha_prefix(make_user):
    release = ReleaseFactory(version="0.1.0")
    with pytest.raises(DomainError, match="full 40"):
        release_set_sha(release=release, sha=SHA[:7], user=make_user("ana", "release-approver"))
    with pytest.raises(DomainError, match="full 40"):
        report_receive(release=release, kind="ci", outcome="success", sha=SHA[:7])
