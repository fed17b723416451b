import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from formation_hub.gates import decisions as gates
from formation_hub.gates.decisions import GateType, gate_request, register_gate_type


@pytest.fixture
def review_gate(db, make_user):
    register_gate_type(
        GateType(name="test.api", label="api review", decisions=("approve", "deny"),
        permission="releases.decide_release_gate")
    )
    target = Group.objects.create(name="target")
    author = make_user("author", "release-approver")
    gate = gate_request(target=target, gate_type="test.api", subject="sha-1", requested_by=author)
    yield gate, author
    gates._gate_types.pop("test.api")


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_schema_is_served_as_openapi(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/gates/{id}/decide/" in response.json()["paths"]


def test_api_without_credentials_answers_json_401_or_403(client, db):
    response = client.get("/api/gates/")
    assert response.status_code in (401, 403)
    assert "credentials" in response.json()["error"]


def test_unknown_api_path_answers_json_404(client, db):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_gate_decided_through_the_api_with_a_token(review_gate, make_user):
    gate, _ = review_gate
    approver = make_user("approver", "release-approver")
    client = token_client(approver)
    assert [item["id"] for item in client.get("/api/gates/?waiting=me").json()] == [gate.pk]
    response = client.post(f"/api/gates/{gate.pk}/decide/", {"decision": "approve", "subject": "sha-1"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["decision"] == "approve"


def test_api_refusals_are_json_with_the_reason(review_gate):
    gate, author = review_gate
    client = token_client(author)
    response = client.post(f"/api/gates/{gate.pk}/decide/", {"decision": "approve", "subject": "sha-1"}, format="json")
    assert response.status_code == 403
    assert "no self-approval" in response.json()["error"]


def test_api_validation_errors_name_the_field(review_gate, make_user):
    gate, _ = review_gate
    client = token_client(make_user("approver", "release-approver"))
    response = client.post(f"/api/gates/{gate.pk}/decide/", {"decision": "approve"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("subject:")
