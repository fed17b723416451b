import contextlib
import json
from pathlib import Path

import pytest

from sync import routing
from sync.demo import load_demo_sync

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-secret-6f1d2c3b4a5e6f708192a3b4c5d6e7f8"
OLD_SECRET = "old-secret-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
URL = "/api/webhooks/baserow/"


def fixture_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_payload(name: str) -> dict:
    return json.loads(fixture_body(name))


@pytest.fixture(autouse=True)
def webhook_secrets(monkeypatch):
    monkeypatch.setenv("BASEROW_WEBHOOK_SECRETS", f"{SECRET},{OLD_SECRET}")


@pytest.fixture
def demo_mappings(db):
    load_demo_sync()


@pytest.fixture
def post_webhook(client):
    """post_webhook("rows.created__projet") posts a fixture as Baserow does, with the secret header."""

    def post(body, secret=SECRET, **headers):
        if isinstance(body, str):
            body = fixture_body(body)
        elif isinstance(body, dict):
            body = json.dumps(body).encode()
        payload_type = "rows.created"
        with contextlib.suppress(ValueError, AttributeError, RecursionError):
            payload_type = json.loads(body).get("event_type", payload_type)
        extra = {
            "HTTP_X_BASEROW_EVENT": payload_type,
            "HTTP_X_BASEROW_DELIVERY": "delivery",
            "HTTP_USER_AGENT": "python-requests/2.32.3",
        }
        if secret is not None:
            extra["HTTP_X_FORMATION_HUB_SECRET"] = secret
        extra.update(headers)
        return client.generic("POST", URL, body, content_type="application/json", **extra)

    return post


@pytest.fixture
def without_rules(monkeypatch):
    """The registry of handlers emptied for the test (the skeleton's behaviour: 'no rule')."""
    monkeypatch.setattr(routing, "_handlers", {})
