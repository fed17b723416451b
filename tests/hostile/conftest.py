import json

import pytest

SECRET = "hostile-secret-7c1e4b2a9d8f6e5c4b3a29180f7e6d5c"
ROTATED_SECRET = "rotated-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
URL = "/api/webhooks/baserow/"
HEADER = "HTTP_X_FORMATION_HUB_SECRET"


@pytest.fixture(autouse=True)
def webhook_secrets(monkeypatch):
    monkeypatch.setenv("BASEROW_WEBHOOK_SECRETS", f"{SECRET},{ROTATED_SECRET}")


def delivery(**overrides) -> dict:
    """A well-formed rows.created delivery for the demo projet table (601)."""
    payload = {
        "table_id": 601, "database_id": 60, "workspace_id": 1, "webhook_id": 1,
        "event_id": "0b9f3c1e-2d4a-4b6c-8e0f-1a2b3c4d5e6f", "event_type": "rows.created",
        "items": [{"id": 1, "order": "1.00000000000000000000", "nom": "Apollo", "client": [], "docmost_page_id": ""}],
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def post_raw(client):
    """post_raw(body bytes | dict, secret=SECRET, content_type="application/json", **extra) -> response."""

    def post(body, *, secret=SECRET, content_type="application/json", **extra):
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
        if secret is not None:
            extra[HEADER] = secret
        return client.generic("POST", URL, body, content_type=content_type, **extra)

    return post
