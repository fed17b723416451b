"""The Dependabot webhook checks before it stores (issue 17, point 10 and the Low items): unsigned calls are
counted, never stored; repeated and older deliveries are refused; every error is JSON; the database down is
a 503."""

import json

import pytest
from django.db import OperationalError

from formation_hub.models import RefusedCall
from releases import api
from releases.models import BumpWebhookDelivery, DependencyBump
from tests.releases.test_bump_intake import SECRET, WEBHOOK, deliver, fixture, sign

OPENED = "github__pull_request.opened__httpx_to_1.6.1"
REBASED = "github__pull_request.synchronize__httpx_to_1.7.4"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("DEPENDABOT_WEBHOOK_SECRET", SECRET)


def refused_count() -> int:
    return sum(RefusedCall.objects.filter(source="dependabot").values_list("count", flat=True))


def test_twenty_unsigned_near_megabyte_posts_store_nothing_but_a_refusal_count(client, secret, db):
    body = json.dumps({"pull_request": {"title": "x" * 990_000}}).encode()
    for _ in range(20):
        assert deliver(client, OPENED, signature=None, body=body).status_code == 401
    assert not BumpWebhookDelivery.objects.exists()
    assert refused_count() == 20


def test_a_repeated_delivery_id_is_refused_and_not_stored(client, secret, db):
    assert deliver(client, OPENED, delivery_id="5e2c-1").status_code == 201
    again = json.loads(fixture(OPENED))
    again["action"] = "edited"
    response = deliver(client, OPENED, delivery_id="5e2c-1", body=json.dumps(again).encode())
    assert response.status_code == 409
    assert "5e2c-1" in response.json()["error"]
    assert BumpWebhookDelivery.objects.count() == 1
    assert refused_count() == 1


def test_an_old_signed_delivery_replayed_never_rolls_a_bump_back(client, secret, db):
    assert deliver(client, OPENED).status_code == 201
    assert deliver(client, REBASED).status_code == 200
    assert DependencyBump.objects.get().to_version == "1.7.4"
    replay = deliver(client, OPENED)
    assert replay.status_code == 409
    assert "refused" in replay.json()["error"]
    assert DependencyBump.objects.get().to_version == "1.7.4"
    assert BumpWebhookDelivery.objects.count() == 2


def test_a_delivery_older_than_the_last_accepted_is_refused_even_with_another_body(client, secret, db):
    deliver(client, REBASED)
    older = json.loads(fixture(OPENED))
    older["action"] = "synchronize"
    response = deliver(client, OPENED, body=json.dumps(older).encode())
    assert response.status_code == 409
    assert DependencyBump.objects.get().to_version == "1.7.4"


def test_the_same_body_sent_again_under_a_new_delivery_id_is_a_replay(client, secret, db):
    deliver(client, "github__pull_request.opened__lodash")
    response = deliver(client, "github__pull_request.opened__lodash")
    assert response.status_code == 409
    assert "already received" in response.json()["error"]


def test_a_delivery_without_updated_at_after_a_dated_one_is_refused(client, secret, db):
    deliver(client, OPENED)
    undated = json.loads(fixture(REBASED))
    del undated["pull_request"]["updated_at"]
    response = deliver(client, REBASED, body=json.dumps(undated).encode())
    assert response.status_code == 409
    assert DependencyBump.objects.get().to_version == "1.6.1"


def test_both_secrets_are_accepted_during_a_rotation(client, db, monkeypatch):
    monkeypatch.setenv("DEPENDABOT_WEBHOOK_SECRET", f"new-secret-of-enough-length, {SECRET}")
    assert deliver(client, OPENED).status_code == 201
    body = fixture(REBASED)
    response = client.post(WEBHOOK, body, content_type="application/json", headers={
        "X-GitHub-Event": "pull_request", "X-Hub-Signature-256": f"sha256={sign(body, 'new-secret-of-enough-length')}"})
    assert response.status_code == 200


def test_a_form_encoded_delivery_is_a_json_415(client, secret, db):
    body = b"payload=%7B%7D"
    response = client.post(WEBHOOK, body, content_type="application/x-www-form-urlencoded",
                           headers={"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": f"sha256={sign(body)}"})
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_a_body_over_django_upload_limit_but_under_ours_gets_a_json_answer(client, secret, db, monkeypatch):
    monkeypatch.setenv("BUMP_WEBHOOK_MAX_BYTES", "4000000")
    payload = json.loads(fixture(OPENED))
    payload["pull_request"]["body"] += " " * 3_000_000
    response = deliver(client, OPENED, body=json.dumps(payload).encode())
    assert response.status_code == 201
    assert response.json()["created"] is True


def test_a_body_over_our_limit_is_a_json_413(client, secret, db, monkeypatch):
    monkeypatch.setenv("BUMP_WEBHOOK_MAX_BYTES", "3000000")
    response = deliver(client, OPENED, body=b" " * 3_000_001)
    assert response.status_code == 413
    assert "BUMP_WEBHOOK_MAX_BYTES" in response.json()["error"]


def test_json_nested_100000_deep_is_answered_without_a_server_error(client, secret, db):
    body = b'{"pull_request": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = deliver(client, OPENED, body=body)
    assert response.status_code == 200
    assert "nested too deeply" in response.json()["ignored"]
    assert not DependencyBump.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_database_down_past_the_retry_budget_is_a_json_503(client, secret, monkeypatch):
    calls = []

    def receive_while_down(**delivery):
        calls.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setenv("INBOUND_DB_RETRY_SECONDS", "0.5")
    monkeypatch.setattr(api, "pull_request_webhook_receive", receive_while_down)
    response = deliver(client, OPENED)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "database" in response.json()["error"]
    assert len(calls) >= 2


@pytest.mark.django_db(transaction=True)
def test_a_database_restart_while_storing_is_retried_and_the_delivery_accepted(client, secret, monkeypatch):
    calls = []
    receive = api.pull_request_webhook_receive

    def receive_during_restart(**delivery):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return receive(**delivery)

    monkeypatch.setattr(api, "pull_request_webhook_receive", receive_during_restart)
    assert deliver(client, OPENED).status_code == 201
    assert DependencyBump.objects.count() == 1


def test_a_refused_signed_delivery_sent_again_under_new_ids_is_stored_once(client, secret, db):
    for _ in range(3):
        deliver(client, "forgejo__pull_request.opened__unclear")
    assert BumpWebhookDelivery.objects.count() == 1
    assert refused_count() == 2
