"""Hostile bodies on the Dependabot and alert webhooks: whatever arrives, the answer is JSON and never a 5xx;
only a signed or token-bearing call stores anything."""

import hashlib
import hmac
import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formation_hub.models import RefusedCall
from incidents.models import Alert
from releases.models import BumpWebhookDelivery, DependencyBump

DEPENDABOT_SECRET = "hostile-dependabot-secret-5b7d9f1e3a"
ALERT_TOKEN = "hostile-alert-token-2c4e6a8b0d"
HOSTILE = [
    b"", b"\x00", b"null", b"[]", b'"x"', b"{", b"\xff\xfe\xfd", b'{"a": NaN}', b'{"a": 1e999}',
    b'{"a": "\\ud800"}', b"[" * 100_000 + b"]" * 100_000, b'{"pull_request": {"title": "\x00"}}',
    b'{"monitor": {"nested": [1, 2]}, "state": ["down"]}', b"monitorID=1&alertType=1",
]


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    monkeypatch.setenv("DEPENDABOT_WEBHOOK_SECRET", DEPENDABOT_SECRET)
    monkeypatch.setenv("ALERT_TOKENS", ALERT_TOKEN)


def dependabot(body: bytes, *, signed: bool, content_type="application/json"):
    headers = {"X-GitHub-Event": "pull_request"}
    if signed:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(DEPENDABOT_SECRET.encode(), body,
                                                              hashlib.sha256).hexdigest()
    return Client().generic("POST", "/api/webhooks/dependabot/", body, content_type=content_type, headers=headers)


def alert(body: bytes, *, token: str | None, content_type="application/json"):
    headers = {"X-Alert-Token": token} if token else {}
    return Client().generic("POST", "/api/alerts/generic/", body, content_type=content_type, headers=headers)


def assert_json_and_not_5xx(response) -> None:
    assert response.status_code < 500, response.content[:200]
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_unsigned_store_nothing_and_signed_are_never_5xx(body):
    assert_json_and_not_5xx(unsigned := dependabot(body, signed=False))
    assert unsigned.status_code == 401 and not BumpWebhookDelivery.objects.exists()
    assert_json_and_not_5xx(dependabot(body, signed=True))
    assert not DependencyBump.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_alert_bodies_without_a_token_store_nothing_and_with_one_are_never_5xx(body):
    assert_json_and_not_5xx(refused := alert(body, token="wrong"))
    assert refused.status_code == 401 and not Alert.objects.exists()
    assert_json_and_not_5xx(alert(body, token=ALERT_TOKEN))
    assert_json_and_not_5xx(alert(body, token=ALERT_TOKEN, content_type="application/x-www-form-urlencoded"))
    assert RefusedCall.objects.get(source="generic").count == 1


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]))
def test_any_bytes_under_any_content_type_get_a_json_answer(body, content_type):
    assert_json_and_not_5xx(dependabot(body, signed=True, content_type=content_type))
    assert_json_and_not_5xx(alert(body, token=ALERT_TOKEN, content_type=content_type))
