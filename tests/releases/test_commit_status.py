"""CI and E2E results read from a Forgejo/Gitea or GitHub commit-status API, and the approvers' email."""

import json
from datetime import timedelta

import pytest

from formation_hub.models import AuditEntry, Notification
from releases.models import PrerequisiteReport
from releases.pipeline.prerequisite_reports import commit_statuses_fetch, release_check_prerequisites
from tests.releases.factories import SHA, ReleaseFactory, ReportFactory
from tests.releases.test_pipeline import to_tagged


@pytest.fixture
def status_api(http_receiver, monkeypatch):
    monkeypatch.setenv("RELEASE_COMMIT_STATUS_URL", http_receiver.url + "/commits/{sha}/statuses")
    monkeypatch.setenv("RELEASE_COMMIT_STATUS_TOKEN", "forge-token")
    return http_receiver


def forgejo(wednesday, ci="success", e2e="success"):
    at = (wednesday - timedelta(minutes=20)).isoformat()
    return json.dumps([
        {"context": "ci", "state": ci, "target_url": "https://forge/runs/1", "updated_at": at, "description": "lint"},
        {"context": "e2e", "state": e2e, "target_url": "https://forge/runs/2", "updated_at": at},
        {"context": "coverage", "state": "failure", "updated_at": at},
    ]).encode()


def test_forgejo_statuses_become_reports_for_the_release_sha(status_api, wednesday, db):
    status_api.body = forgejo(wednesday, e2e="error")
    release = ReleaseFactory(version="0.1.0")
    assert commit_statuses_fetch(release=release) == 2
    assert status_api.requests[0]["path"] == f"/hook/commits/{SHA}/statuses"
    assert status_api.requests[0]["headers"]["Authorization"] == "token forge-token"
    reports = {report.kind: report for report in PrerequisiteReport.objects.all()}
    assert (reports["ci"].outcome, reports["ci"].url, reports["ci"].source) == ("success", "https://forge/runs/1",
                                                                             "commit-status")
    assert reports["e2e"].outcome == "failure"
    assert commit_statuses_fetch(release=release) == 0


def test_a_github_combined_status_is_read_too(status_api, wednesday, db):
    status_api.body = json.dumps({"state": "success", "statuses": json.loads(forgejo(wednesday))}).encode()
    assert commit_statuses_fetch(release=ReleaseFactory(version="0.1.0")) == 2


def test_checking_prerequisites_reads_the_api_first(status_api, wednesday, people, some_changes):
    status_api.body = forgejo(wednesday)
    ReportFactory(kind="backup", sha="")
    release = ReleaseFactory(version="0.1.0")
    release_check_prerequisites(release=release, user=people["author"])
    release.refresh_from_db()
    assert release.status == "prerequisites_met"


def test_an_unreachable_status_api_is_audited_and_stores_nothing(status_api, db):
    status_api.status = 500
    release = ReleaseFactory(version="0.1.0")
    assert commit_statuses_fetch(release=release) == 0
    assert AuditEntry.objects.filter(action="release.commit_status_failed", result="failed").exists()
    assert not PrerequisiteReport.objects.exists()


def test_junk_from_the_status_api_is_ignored(status_api, db):
    status_api.body = b"<html>login</html>"
    assert commit_statuses_fetch(release=ReleaseFactory(version="0.1.0")) == 0


def test_approvers_who_may_approve_are_emailed_a_link_that_only_opens_the_page(people, some_changes, green):
    release = to_tagged(people)
    notification = Notification.objects.get(kind="release.approval_requested")
    assert notification.recipients == ["ben@formation-hub.test"]
    assert "/admin/formation_hub/gate/" in notification.body and "/decide/" in notification.body
    assert f"v{release.version}" in notification.subject


def test_statuses_with_odd_times_are_skipped_or_read_as_utc(status_api, db):
    status_api.body = json.dumps([
        {"context": "ci", "state": "success", "updated_at": "2026-11-25T08:00:00"},
        {"context": "e2e", "state": "success", "updated_at": "2026-13-45T99:00:00Z"},
        {"context": "e2e", "state": "mystery", "updated_at": "2026-11-25T08:00:00Z"},
    ]).encode()
    assert commit_statuses_fetch(release=ReleaseFactory(version="0.1.0")) == 1
    assert PrerequisiteReport.objects.get().observed_at.isoformat() == "2026-11-25T08:00:00+00:00"
