"""Bump intake: POST /api/bumps/ for CI, the Dependabot webhook (GitHub and Forgejo), idempotence, the schema."""

import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest

from formation_hub.models import Gate, RefusedCall
from releases.models import BumpWebhookDelivery, DependencyBump
from tests.factories import api_key_for

FIXTURES = Path(__file__).parent / "fixtures" / "dependabot"
SECRET = "webhook-secret-with-enough-entropy"
WEBHOOK = "/api/webhooks/dependabot/"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("DEPENDABOT_WEBHOOK_SECRET", SECRET)


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, name: str, *, provider: str | None = None, signature: str | None = "good", body=None,
            delivery_id: str | None = None):
    """Post a fixture as GitHub or Forgejo would (provider from the fixture's name), with a new delivery id."""
    body = fixture(name) if body is None else body
    provider = provider or name.split("__")[0]
    digest = sign(body) if signature == "good" else signature
    delivery_id = delivery_id or str(uuid.uuid4())
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": delivery_id} if provider == "github" else {
        "X-Forgejo-Event": "pull_request", "X-Gitea-Event": "pull_request", "X-Forgejo-Delivery": delivery_id}
    if digest is not None:
        if provider == "github":
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        else:
            headers["X-Forgejo-Signature"] = digest
            headers["X-Gitea-Signature"] = digest
    return client.post(WEBHOOK, body, content_type="application/json", headers=headers)


# --- webhook ------------------------------------------------------------------------------------------


def test_github_dependabot_pull_request_creates_a_security_bump(client, secret, db):
    response = deliver(client, "github__pull_request.opened__lodash")
    assert response.status_code == 201, response.json()
    bump = DependencyBump.objects.get()
    assert (bump.package, bump.ecosystem, bump.from_version, bump.to_version, bump.scope, bump.source) == (
        "lodash", "npm", "4.17.20", "4.17.21", "production", "dependabot")
    assert (bump.advisories, bump.severity, bump.category) == (["GHSA-35JH-R3H4-6JHM"], "high", "security")
    assert bump.pull_request_url == "https://github.com/acadenice/formation-hub/pull/41"
    delivery = BumpWebhookDelivery.objects.get()
    assert (delivery.source, delivery.outcome, delivery.signature_valid, delivery.bump) == (
        "github", "created", True, bump)


def test_forgejo_dependabot_pull_request_creates_a_database_major(client, secret, db):
    response = deliver(client, "forgejo__pull_request.opened__postgres")
    assert response.status_code == 201
    bump = DependencyBump.objects.get()
    assert (bump.ecosystem, bump.category, bump.path) == ("docker", "database_major", "go_no_go")
    assert BumpWebhookDelivery.objects.get().source == "forgejo"


def test_a_gitea_signature_alone_is_accepted(client, secret, db):
    body = fixture("forgejo__pull_request.opened__postgres")
    response = client.post(WEBHOOK, body, content_type="application/json",
                           headers={"X-Gitea-Event": "pull_request", "X-Gitea-Signature": sign(body)})
    assert response.status_code == 201


def test_deps_dev_in_the_title_makes_a_development_bump(client, secret, db):
    deliver(client, "github__pull_request.opened__vitest_dev")
    assert DependencyBump.objects.get().scope == "development"


@pytest.mark.parametrize("name", ["github__pull_request.opened__lodash", "forgejo__pull_request.opened__postgres"])
def test_the_same_pull_request_delivered_twice_makes_one_bump(client, secret, db, name):
    first = deliver(client, name)
    again = json.loads(fixture(name))
    again["action"] = "synchronize"
    second = deliver(client, name, body=json.dumps(again).encode())
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["created"] is False and second.json()["id"] == first.json()["id"]
    assert DependencyBump.objects.count() == 1
    assert list(BumpWebhookDelivery.objects.order_by("id").values_list("outcome", flat=True)) == [
        "created", "duplicate"]


@pytest.mark.parametrize(
    ("provider", "signature"),
    [("github", "0" * 64), ("github", None), ("forgejo", "0" * 64), ("forgejo", None)],
)
def test_a_bad_or_missing_signature_is_refused_counted_and_stores_nothing(client, secret, db, provider, signature):
    name = "github__pull_request.opened__lodash"
    response = deliver(client, name, provider=provider, signature=signature)
    assert response.status_code == 401
    assert not DependencyBump.objects.exists()
    assert not BumpWebhookDelivery.objects.exists()
    assert RefusedCall.objects.get(source="dependabot").count == 1


def test_a_github_signature_without_its_prefix_is_refused(client, secret, db):
    body = fixture("github__pull_request.opened__lodash")
    response = client.post(WEBHOOK, body, content_type="application/json",
                           headers={"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": sign(body)})
    assert response.status_code == 401
    assert "sha256=" in response.json()["error"]


def test_a_body_signed_with_another_secret_is_refused(client, secret, db):
    body = fixture("github__pull_request.opened__lodash")
    response = deliver(client, "github__pull_request.opened__lodash", signature=sign(body, "other-secret"))
    assert response.status_code == 401


def test_without_a_configured_secret_every_call_is_refused(client, db, monkeypatch):
    monkeypatch.delenv("DEPENDABOT_WEBHOOK_SECRET", raising=False)
    response = deliver(client, "github__pull_request.opened__lodash")
    assert response.status_code == 401
    assert "DEPENDABOT_WEBHOOK_SECRET" in response.json()["error"]


def test_a_merged_pull_request_merges_its_bump(client, secret, db):
    deliver(client, "github__pull_request.opened__lodash")
    response = deliver(client, "github__pull_request.closed__lodash_merged")
    assert response.status_code == 200
    assert DependencyBump.objects.get().state == "merged"


@pytest.mark.parametrize(
    ("name", "words"),
    [("github__pull_request.opened__human", "Not a Dependabot pull request")],
)
def test_other_pull_requests_are_ignored(client, secret, db, name, words):
    response = deliver(client, name)
    assert response.status_code == 200 and words in response.json()["ignored"]
    assert not DependencyBump.objects.exists()


@pytest.mark.parametrize(
    ("name", "words"),
    [("github__pull_request.opened__grouped", "grouped update"),
     ("forgejo__pull_request.opened__unclear", "different precisions")],
)
def test_a_dependabot_pull_request_that_cannot_be_read_is_refused_with_the_reason(client, secret, db, name, words):
    response = deliver(client, name)
    assert response.status_code == 422
    assert words in response.json()["error"]
    assert BumpWebhookDelivery.objects.get().outcome == "refused"


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"action": "opened"}', b'{"pull_request": 3}'])
def test_signed_junk_is_never_a_500(client, secret, db, body):
    response = deliver(client, "x", provider="github", body=body)
    assert response.status_code == 200
    assert not DependencyBump.objects.exists()


def test_a_ping_is_answered(client, secret, db):
    body = b'{"zen": "Keep it logically awesome."}'
    response = client.post(WEBHOOK, body, content_type="application/json",
                           headers={"X-GitHub-Event": "ping", "X-Hub-Signature-256": f"sha256={sign(body)}"})
    assert response.status_code == 200 and response.json() == {"ignored": "ping"}


def test_a_too_large_body_is_refused(client, secret, db, monkeypatch):
    monkeypatch.setenv("BUMP_WEBHOOK_MAX_BYTES", "100")
    response = deliver(client, "github__pull_request.opened__lodash")
    assert response.status_code == 413


# --- POST /api/bumps/ ---------------------------------------------------------------------------------

BODY = {"package": "django", "ecosystem": "pip", "from_version": "5.2.1", "to_version": "5.2.2",
        "advisories": ["CVE-2025-12345"], "severity": "critical", "scope": "production",
        "pull_request_url": "https://github.com/acadenice/formation-hub/pull/50"}


@pytest.fixture
def ci_token(make_user):
    return api_key_for(make_user("ci-bot", "release-approver"))


def post_bump(client, body, token):
    return client.post("/api/bumps/", body, content_type="application/json",
                       headers={"Authorization": f"Token {token}"} if token else {})


def test_ci_records_a_bump_with_a_token(client, ci_token):
    response = post_bump(client, BODY, ci_token)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["category"], body["path"], body["source"]) == (True, "security", "auto_merge",
                                                                                  "api")
    assert DependencyBump.objects.get().created_by.username == "ci-bot"


def test_posting_the_same_pull_request_again_answers_the_existing_bump(client, ci_token):
    first = post_bump(client, BODY, ci_token).json()
    response = post_bump(client, BODY, ci_token)
    assert response.status_code == 200
    assert response.json()["id"] == first["id"] and response.json()["created"] is False
    assert DependencyBump.objects.count() == 1


def test_a_signed_in_release_approver_may_post_with_the_session(client, make_user):
    client.force_login(make_user("ana", "release-approver"))
    assert client.post("/api/bumps/", BODY, content_type="application/json").status_code == 201


def test_a_viewer_or_anonymous_caller_is_refused(client, make_user):
    assert post_bump(client, BODY, None).status_code in (401, 403)
    viewer = api_key_for(make_user("vic", "viewer"))
    response = post_bump(client, BODY, viewer)
    assert response.status_code == 403 and "add dependency bump" in response.json()["error"]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"ecosystem": "maven"}, 400, "ecosystem"),
        ({"to_version": "latest"}, 400, "floating tag"),
        ({"from_version": "5.2.3"}, 400, "downgrade"),
        ({"severity": "huge"}, 400, "severity"),
        ({"advisories": "CVE-1"}, 400, "advisories"),
        ({"pull_request_url": "not a url"}, 400, "pull_request_url"),
        ({"package": ""}, 400, "package"),
    ],
)
def test_bad_input_is_a_json_400_naming_the_problem(client, ci_token, change, status, words):
    response = post_bump(client, {**BODY, **change}, ci_token)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert not DependencyBump.objects.exists()


def test_ci_reports_green_and_the_security_bump_merges_on_the_forge(client, ci_token, forge, monkeypatch):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", "ci-credential")
    pull = forge.open_pull_request()
    bump_id = post_bump(client, {**BODY, "pull_request_url": pull["html_url"]}, ci_token).json()["id"]
    response = client.post(f"/api/bumps/{bump_id}/ci/", {"status": "green"}, content_type="application/json",
                           headers={"Authorization": "Bearer ci-credential"})
    assert response.status_code == 200 and response.json()["state"] == "merged"
    assert forge.pull(pull["number"])["merged"] is True


def test_without_a_forge_connection_a_security_bump_waits_instead_of_claiming_a_merge(client, ci_token, monkeypatch):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", "ci-credential")
    bump_id = post_bump(client, BODY, ci_token).json()["id"]
    response = client.post(f"/api/bumps/{bump_id}/ci/", {"status": "green"}, content_type="application/json",
                           headers={"Authorization": "Bearer ci-credential"})
    assert response.status_code == 200 and response.json()["state"] == "open"
    assert "No forge connection" in DependencyBump.objects.get().waiting_for

def test_a_person_cannot_report_ci_with_their_token_or_session(client, ci_token, monkeypatch, make_user):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", "ci-credential")
    bump_id = post_bump(client, BODY, ci_token).json()["id"]
    response = client.post(f"/api/bumps/{bump_id}/ci/", {"status": "green"}, content_type="application/json",
                           headers={"Authorization": f"Token {ci_token}"})
    assert response.status_code == 403 and "RELEASE_CHECKS_TOKEN" in response.json()["error"]
    client.force_login(make_user("chloe", "release-approver"))
    assert client.post(f"/api/bumps/{bump_id}/ci/", {"status": "green"},
                       content_type="application/json").status_code == 403
    assert DependencyBump.objects.get(pk=bump_id).state != "merged"


def test_the_endpoints_are_in_the_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/bumps/", "/api/bumps/{id}/ci/", "/api/stories/{key}/ci/", "/api/webhooks/dependabot/"):
        assert path in schema
    assert "X-Hub-Signature-256" in schema


def test_fixtures_are_valid_json():
    for path in FIXTURES.glob("*.json"):
        json.loads(path.read_text())


def test_a_pull_request_rebased_on_a_newer_version_updates_its_bump_and_voids_the_old_gate(client, secret, db):
    deliver(client, "github__pull_request.opened__vitest_dev")
    payload = json.loads(fixture("github__pull_request.opened__vitest_dev"))
    payload["action"] = "synchronize"
    payload["pull_request"]["title"] = "chore(deps-dev): bump vitest from 1.2.0 to 2.0.0"
    response = deliver(client, "github__pull_request.opened__vitest_dev", body=json.dumps(payload).encode())
    assert response.status_code == 200
    bump = DependencyBump.objects.get()
    assert (bump.to_version, bump.category) == ("2.0.0", "major")
    assert list(Gate.objects.order_by("id").values_list("gate_type", "state")) == [
        ("delivery.bump_review", "void"), ("delivery.bump_go", "pending")]
    assert BumpWebhookDelivery.objects.order_by("-id").first().outcome == "updated"


def test_nul_characters_in_a_delivery_never_cause_a_server_error(client, secret, db):
    unsigned = deliver(client, "github__pull_request.opened__lodash", signature=None, body=b'{"a": "\x00"}')
    assert unsigned.status_code == 401
    assert not BumpWebhookDelivery.objects.exists()
    payload = json.loads(fixture("github__pull_request.opened__lodash"))
    payload["pull_request"]["title"] = "Bump lodash\u0000 from 4.17.20 to 4.17.21"
    signed = deliver(client, "github__pull_request.opened__lodash", body=json.dumps(payload).encode())
    assert signed.status_code == 422
    assert "NUL" in signed.json()["error"]
    assert not DependencyBump.objects.exists()
