"""Every API error is JSON, whatever the body (issue 17, Low): 100,000-deep JSON on the incident and checks
APIs, and form bodies over Django's 2.5 MB upload limit, were a 500 and an HTML 400."""

import pytest
from rest_framework.test import APIClient

from tests.releases.factories import ReleaseFactory

DEEP = b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.fixture
def responder_client(make_user):
    client = APIClient()
    client.force_authenticate(make_user("alice", "oncall"))
    return client


def test_deep_json_on_the_incident_api_is_a_json_400(responder_client):
    response = responder_client.post("/api/incidents/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "Body is not valid JSON: nested too deeply."


def test_deep_json_on_the_checks_api_is_a_json_400(db, monkeypatch):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", "checks-token")
    release = ReleaseFactory()
    response = APIClient().post(f"/api/releases/{release.pk}/checks/", DEEP, content_type="application/json",
                                headers={"Authorization": "Bearer checks-token"})
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]


def test_a_form_body_over_the_upload_limit_is_a_json_400_not_html(responder_client):
    body = b"title=" + b"x" * 2_700_000
    response = responder_client.post("/api/incidents/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_nan_in_an_api_body_is_a_json_400(responder_client):
    response = responder_client.post("/api/incidents/", b'{"title": NaN}', content_type="application/json")
    assert response.status_code == 400
    assert "NaN" in response.json()["error"]

