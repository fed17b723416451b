"""POST /api/releases/{id}/checks/: CI reports with a token; evidence stored, refusals in JSON."""

from datetime import timedelta

import pytest
from django.urls import reverse

from releases.models import PrerequisiteReport
from tests.releases.factories import SHA, ReleaseFactory

TOKEN = "ci-token-with-enough-entropy"


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", TOKEN)


@pytest.fixture
def release(db):
    return ReleaseFactory(version="0.1.0")


def post(client, release, body, token=TOKEN):
    return client.post(
        reverse("releases:api-checks", args=[release.pk]), body, content_type="application/json",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )


def test_ci_reports_a_green_run_for_the_release_sha(client, token, release, wednesday):
    response = post(client, release, {"kind": "ci", "outcome": "success", "url": "https://ci.example/runs/9",
                                      "observed_at": (wednesday - timedelta(minutes=3)).isoformat()})
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["outcome"], body["sha"]) == ("ci", "success", SHA)
    assert body["prerequisites"]["ci"] == "pass"
    report = PrerequisiteReport.objects.get()
    assert (report.release, report.url, report.source) == (release, "https://ci.example/runs/9", "api")


def test_a_backup_report_needs_no_sha(client, token, release):
    response = post(client, release, {"kind": "backup", "outcome": "success", "observed_at": "2026-11-27T02:00:00Z",
                                      "detail": "restored into scratch"})
    assert response.status_code == 201
    assert PrerequisiteReport.objects.get().sha == ""


@pytest.mark.parametrize("given", ["", "wrong-token"])
def test_a_missing_or_wrong_token_is_refused(client, token, release, given):
    response = post(client, release, {"kind": "ci", "outcome": "success"}, token=given)
    assert response.status_code == 403
    assert "RELEASE_CHECKS_TOKEN" in response.json()["error"]
    assert not PrerequisiteReport.objects.exists()


def test_no_configured_token_refuses_everything(client, release, monkeypatch):
    monkeypatch.delenv("RELEASE_CHECKS_TOKEN", raising=False)
    assert post(client, release, {"kind": "ci", "outcome": "success"}, token="anything").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "lint", "outcome": "success"}, "kind"),
        ({"kind": "ci", "outcome": "green"}, "outcome"),
        ({"kind": "ci", "outcome": "success", "sha": "not-a-sha"}, "sha"),
        ({"kind": "ci", "outcome": "success", "observed_at": "yesterday"}, "observed_at"),
        ({"outcome": "success"}, "kind"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, token, release, body, field):
    response = post(client, release, body)
    assert response.status_code == 400
    assert field in response.json()["error"]


def test_an_unknown_release_is_a_json_404(client, token, db):
    response = client.post("/api/releases/999/checks/", {"kind": "ci", "outcome": "success"},
                           content_type="application/json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "error" in response.json()


def test_a_ci_report_for_a_release_without_sha_needs_one(client, token, db):
    release = ReleaseFactory(version="0.1.0", sha="")
    response = post(client, release, {"kind": "ci", "outcome": "success"})
    assert response.status_code == 409
    assert "needs the commit SHA" in response.json()["error"]


def test_the_endpoint_is_in_the_schema(client):
    response = client.get("/api/schema/")
    assert "/api/releases/{id}/checks/" in response.content.decode()


def test_a_report_for_another_sha_is_recorded_as_not_applying_and_says_so(client, token, release):
    other = "fedcba9876543210fedcba9876543210fedcba98"
    response = post(client, release, {"kind": "ci", "outcome": "success", "sha": other})
    assert response.status_code == 202
    body = response.json()
    assert body["applies"] is False
    assert body["note"] == (f"Recorded, not applying: v0.1.0 ships {SHA[:10]}, this report is for {other[:10]}. "
                            f"Report the run of {SHA[:10]}.")
    assert body["prerequisites"]["ci"] == "fail"
    assert PrerequisiteReport.objects.get().sha == other
    same = post(client, release, {"kind": "ci", "outcome": "success", "sha": SHA.upper()})
    assert same.status_code == 201 and same.json()["applies"] is True and same.json()["note"] == ""
