import contextlib
import json
import threading
from pathlib import Path

import pytest
from django.db.models import Min, Q
from django.utils import timezone

from sync.clients.baserow import forget_cached_tokens as baserow_forget_tokens
from sync.clients.docmost_login import forget_cached_tokens as docmost_forget_tokens
from sync.demo import load_demo_sync
from sync.ingest import views
from sync.models import BaserowConnection, DocmostConnection, Event, EventItem
from sync.processing import routing
from sync.processing.pipeline import event_process

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


def due_event_ids() -> list[int]:
    """Events with something to run now, oldest item first (what the sweeper would enqueue)."""
    now = timezone.now()
    due = Q(items__state=EventItem.State.PENDING) | Q(
        items__state__in=[EventItem.State.FAILED, EventItem.State.WAITING], items__next_attempt_at__lte=now
    )
    ids = (
        Event.objects.filter(due, state__in=[Event.State.RECEIVED, Event.State.FAILED])
        .annotate(oldest=Min("items__created_at")).order_by("oldest", "pk").values_list("pk", flat=True)
    )
    return list(dict.fromkeys(ids))


# The test database is SQLite in memory (shared cache): a webhook stored by the live server while the test
# thread processes gets "database table is locked" at once, where PostgreSQL or SQLite in WAL mode wait.
# Tests take this lock around processing and around each stored delivery.
DB_WRITES = threading.RLock()


def process_all(rounds: int = 10) -> list[int]:
    """Run what a worker would run, in order, until nothing is due; the ids processed."""
    with DB_WRITES:
        return _process_all(rounds)


def _process_all(rounds: int) -> list[int]:
    processed = []
    for _ in range(rounds):
        ids = due_event_ids()
        if not ids:
            break
        for event_id in ids:
            event_process(event_id=event_id)
            processed.append(event_id)
    return processed


class Bridge:
    """The app wired to both stand-ins: Baserow's webhooks go to the live server."""

    def __init__(self, baserow, docmost):
        self.baserow = baserow
        self.docmost = docmost

    def create_row(self, table_id: int, values: dict) -> dict:
        status, row = self.baserow.api("POST", f"/api/database/rows/table/{table_id}/?user_field_names=true", values)
        assert status == 200, row
        return row

    def update_row(self, table_id: int, row_id: int, values: dict, *, webhooks: bool = True) -> dict:
        flag = "" if webhooks else "&send_webhook_events=false"
        status, row = self.baserow.api(
            "PATCH", f"/api/database/rows/table/{table_id}/{row_id}/?user_field_names=true{flag}", values
        )
        assert status == 200, row
        return row

    def delete_row(self, table_id: int, row_id: int) -> None:
        status, body = self.baserow.api("DELETE", f"/api/database/rows/table/{table_id}/{row_id}/")
        assert status == 204, body

    def row(self, table_id: int, row_id: int) -> dict:
        return next(row for row in self.baserow.rows(table_id) if row["id"] == row_id)

    def sync(self) -> list[int]:
        """Wait for Baserow's deliveries, then process everything due."""
        self.baserow.wait_for_deliveries()
        return process_all()

    def pages(self, title_prefix: str = "") -> list[dict]:
        return [page for page in self.docmost.pages() if str(page.get("title") or "").startswith(title_prefix)]

    def docmost_calls(self, path: str) -> list[dict]:
        return self.docmost.calls(path)

    def personne_id(self, name: str) -> int:
        return next(row["id"] for row in self.baserow.rows(606) if row["nom"] == name)


@pytest.fixture
def bridge(baserow_standin, docmost_standin, live_server, demo_mappings, monkeypatch):
    monkeypatch.setenv("BASEROW_DATABASE_TOKEN", baserow_standin.token)
    monkeypatch.setenv("BASEROW_ADMIN_PASSWORD", "demo-baserow-admin")
    monkeypatch.setenv("DOCMOST_BOT_PASSWORD", "demo-docmost-password")
    monkeypatch.setenv("SYNC_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("SYNC_HTTP_TIMEOUT_SECONDS", "2")
    baserow_forget_tokens()
    docmost_forget_tokens()
    receive = views.event_receive

    def receive_serialized(**kwargs):
        with DB_WRITES:
            return receive(**kwargs)

    monkeypatch.setattr(views, "event_receive", receive_serialized)
    baserow_standin.seed_demo(
        webhook_url=f"{live_server.url}/api/webhooks/baserow/", webhook_headers={"X-Formation-Hub-Secret": SECRET}
    )
    BaserowConnection.objects.update(url=baserow_standin.url)
    DocmostConnection.objects.update(url=docmost_standin.url)
    yield Bridge(baserow_standin, docmost_standin)
    baserow_forget_tokens()
    docmost_forget_tokens()
