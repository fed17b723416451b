"""What the endpoint refuses (401, 400, 413) and duplicate deliveries."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django_q.models import OrmQ

from sync.demo import load_demo_sync
from sync.models import Event, EventItem, RejectedCall
from sync.selectors import rejected_call_counts
from tests.sync.conftest import OLD_SECRET, URL, fixture_body, fixture_payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("secret", [None, "", "wrong", "test-secret-6f1d2c3b4a5e6f708192a3b4c5d6e7f"])
def test_missing_or_wrong_secret_is_401_stores_nothing_and_counts(post_webhook, secret):
    response = post_webhook("rows.created__projet", secret=secret)
    assert response.status_code == 401
    assert response.json() == {"error": "Missing or wrong X-Formation-Hub-Secret header."}
    assert not Event.objects.exists() and not OrmQ.objects.exists()
    assert rejected_call_counts() == {"total": 1, "last_hour": 1}


def test_rejected_calls_accumulate_in_one_counter_row(post_webhook):
    for _ in range(3):
        post_webhook("rows.created__projet", secret="nope")
    row = RejectedCall.objects.get()
    assert row.count == 3 and row.last_reason == "wrong X-Formation-Hub-Secret header"


def test_every_secret_of_a_rotation_is_accepted(post_webhook):
    assert post_webhook("rows.created__projet", secret=OLD_SECRET).status_code == 202


def test_header_name_is_configurable(post_webhook, monkeypatch):
    monkeypatch.setenv("SYNC_WEBHOOK_SECRET_HEADER", "Authorization")
    assert post_webhook("rows.created__projet").status_code == 401
    assert post_webhook("rows.created__projet", secret=None, HTTP_AUTHORIZATION=OLD_SECRET).status_code == 202


def test_without_configured_secrets_outside_debug_everything_is_refused(post_webhook, monkeypatch, settings, caplog):
    monkeypatch.delenv("BASEROW_WEBHOOK_SECRETS")
    settings.DEBUG = False
    response = post_webhook("rows.created__projet", secret="demo-webhook-secret-0123456789abcdef0123456789abcdef")
    assert response.status_code == 401
    assert "BASEROW_WEBHOOK_SECRETS is not set" in caplog.text


def test_in_debug_without_configured_secrets_the_demo_secret_works(post_webhook, monkeypatch, settings):
    monkeypatch.delenv("BASEROW_WEBHOOK_SECRETS")
    settings.DEBUG = True
    response = post_webhook("rows.created__projet", secret="demo-webhook-secret-0123456789abcdef0123456789abcdef")
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "Empty body: a Baserow webhook sends a JSON object."),
        (b"{not json", "Body is not valid JSON"),
        (b"\xff\xfe", "Body is not valid JSON"),
        (b"[1, 2]", "Body must be a JSON object, not list."),
        (b'{"event_id": "a", "event_type": "rows.created"}', "Missing envelope key(s): table_id, webhook_id."),
        (b'{"event_id": 5, "event_type": "rows.created", "table_id": 1, "webhook_id": 1}',
         "event_id must be a non-empty string."),
        (b'{"event_id": "a", "event_type": "", "table_id": 1, "webhook_id": 1}',
         "event_type must be a non-empty string."),
        (b'{"event_id": "a", "event_type": "rows.created", "table_id": "601", "webhook_id": 1}',
         "table_id must be a positive integer."),
        (b'{"event_id": "a", "event_type": "rows.created", "table_id": 99999999999999999999, "webhook_id": 1}',
         "table_id must be a positive integer."),
        (b'{"event_id": "a\\u0000", "event_type": "rows.created", "table_id": 1, "webhook_id": 1}',
         "event_id must not contain NUL characters."),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"event_id": "a", "event_type": "rows.created", "table_id": 601, "webhook_id": true}',
         "webhook_id must be a positive integer or null."),
        (b'{"event_id": "a", "event_type": "rows.created", "table_id": 601, "webhook_id": 1, "items": {}}',
         "items must be a list of objects."),
        (b'{"event_id": "a", "event_type": "rows.deleted", "table_id": 601, "webhook_id": 1, "row_ids": ["1"]}',
         "row_ids must be a list of positive integers."),
        (b'{"event_id": "a", "event_type": "rows.updated", "table_id": 601, "webhook_id": 1, "batch_id": -1}',
         "batch_id must be a positive integer."),
    ],
)
def test_malformed_delivery_is_400_naming_what_is_wrong(post_webhook, body, message):
    response = post_webhook(body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Event.objects.exists()


def test_nul_characters_in_row_values_are_stored_without_them(post_webhook):
    payload = fixture_payload("rows.created__projet")
    payload["items"][0]["nom"] = "Apo\x00llo"
    response = post_webhook(payload)
    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["id"])
    assert event.items.get().data["nom"] == "Apollo"
    assert "\\u0000" in event.raw_body


def test_body_over_the_limit_is_413(post_webhook, monkeypatch):
    monkeypatch.setenv("SYNC_WEBHOOK_MAX_BYTES", "1000")
    payload = fixture_payload("rows.created__projet")
    payload["items"] = payload["items"] * 20
    response = post_webhook(payload)
    assert response.status_code == 413
    assert response.json()["error"] == "Body larger than the 1000 bytes accepted (SYNC_WEBHOOK_MAX_BYTES)."
    assert not Event.objects.exists()


def test_body_at_the_default_limit_of_200_full_rows_is_accepted(post_webhook, demo_mappings):
    payload = fixture_payload("rows.created__projet")
    row = payload["items"][0]
    payload["items"] = [{**row, "id": n, "description": "x" * 5000} for n in range(200)]
    response = post_webhook(payload)
    assert response.status_code == 202
    assert EventItem.objects.count() == 200


def test_duplicate_delivery_answers_200_and_creates_nothing(post_webhook, demo_mappings):
    first = post_webhook("rows.created__projet")
    second = post_webhook("rows.created__projet")
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json() == {"duplicate": True, "id": first.json()["id"]}
    assert Event.objects.count() == 1 and EventItem.objects.count() == 1 and OrmQ.objects.count() == 1


def test_same_event_id_from_another_webhook_or_batch_is_a_new_delivery(post_webhook):
    payload = fixture_payload("rows.created__projet")
    assert post_webhook(payload).status_code == 202
    assert post_webhook({**payload, "webhook_id": 32}).status_code == 202
    assert post_webhook({**payload, "batch_id": 2}).status_code == 202
    assert post_webhook({**payload, "batch_id": 1}).status_code == 202
    assert Event.objects.count() == 4


def test_duplicate_test_calls_are_detected_despite_the_null_webhook_id(post_webhook):
    assert post_webhook("test_call__rows.created").status_code == 202
    assert post_webhook("test_call__rows.created").status_code == 200
    assert Event.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mapped", [True, False], ids=["queued-in-a-transaction", "ignored-in-one-statement"])
def test_concurrent_duplicate_deliveries_store_one_event(settings, mapped):
    """Handled: the insert and the job (ORM broker) in one transaction; unmapped: one autocommit statement."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    if mapped:
        load_demo_sync()
    body = fixture_body("rows.created__projet")
    barrier = threading.Barrier(8)
    statuses = []

    def deliver():
        client = Client()
        barrier.wait()
        response = client.generic(
            "POST", URL, body, content_type="application/json",
            HTTP_X_FORMATION_HUB_SECRET=OLD_SECRET, HTTP_X_BASEROW_EVENT="rows.created",
        )
        statuses.append((response.status_code, json.loads(response.content)))
        connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in statuses) == [200] * 7 + [202]
    ids = {body.get("id") for _, body in statuses}
    assert len(ids) == 1
    assert Event.objects.count() == 1 and EventItem.objects.count() == 1
    assert OrmQ.objects.count() == (1 if mapped else 0)
    assert Event.objects.get().state == (Event.State.RECEIVED if mapped else Event.State.IGNORED)


def test_the_endpoint_is_in_the_api_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/webhooks/baserow/" in schema and "SyncWebhookAccepted" in schema


def test_a_secret_starting_with_a_dollar_sign_is_taken_literally(post_webhook, monkeypatch):
    monkeypatch.setenv("BASEROW_WEBHOOK_SECRETS", "$ecret-with-dollar")
    assert post_webhook("rows.created__projet", secret="$ecret-with-dollar").status_code == 202
