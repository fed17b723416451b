"""Each real payload shape of contracts/README.md section 1, posted as Baserow sends it."""

import json
import time

import pytest
from django.db import InterfaceError, OperationalError
from django_q.models import OrmQ

from sync import conf
from sync.ingest import views
from sync.ingest.receive import event_receive
from sync.models import Event, EventItem
from sync.processing.pipeline import event_process
from tests.sync.conftest import fixture_body, fixture_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_rules")]


def check_webhook(post_webhook, name, *, row_ids, row_count, state, reason="", batch_id=0, test_call=False):
    """Post the fixture, check what is stored and its outcome."""
    response = post_webhook(name)
    assert response.status_code == 202, response.content
    event = Event.objects.get(pk=response.json()["id"])
    payload = fixture_payload(name)
    assert event.raw_body.encode() == fixture_body(name)
    assert (event.event_id, event.event_type, event.table_id) == (
        payload["event_id"], payload["event_type"], payload["table_id"]
    )
    assert (event.webhook_id, event.batch_id, event.row_count) == (payload["webhook_id"], batch_id, row_count)
    assert event.is_test_call is test_call
    assert event.headers["X-Baserow-Event"] == payload["event_type"]
    assert "X-Formation-Hub-Secret" not in event.headers
    assert list(event.items.values_list("row_id", flat=True)) == row_ids
    # No rule handles any of these (without_rules): stored as ignored at once, with no job to run.
    assert event.enqueued_at is None and not OrmQ.objects.exists()
    assert event_process(event_id=event.pk) is None
    assert event.state == state
    assert reason in event.reason
    assert set(event.items.values_list("state", flat=True)) <= {EventItem.State.IGNORED}
    return event


def test_rows_created__projet(post_webhook, demo_mappings):
    event = check_webhook(
        post_webhook, "rows.created__projet", row_ids=[1043], row_count=1, state="ignored",
        reason="no rule for projet rows.created",
    )
    item = event.items.get()
    assert item.data["nom"] == "Refonte du site é"
    assert item.entity_key == "baserow:601:1043" and item.old_data is None


def test_rows_created__projet_batch_gives_one_item_per_row(post_webhook, demo_mappings):
    check_webhook(
        post_webhook, "rows.created__projet_batch", row_ids=[1050, 1051, 1052], row_count=3, state="ignored",
        reason="no rule",
    )


def test_rows_updated__projet_keeps_the_old_row_on_the_item(post_webhook, demo_mappings):
    event = check_webhook(post_webhook, "rows.updated__projet", row_ids=[1043], row_count=1, state="ignored")
    item = event.items.get()
    assert item.old_data["nom"] == "Refonte du site" and item.data["nom"] == "Refonte du site v2"


def test_rows_updated__linked_table(post_webhook, demo_mappings):
    event = check_webhook(post_webhook, "rows.updated__linked_table", row_ids=[3], row_count=1, state="ignored")
    assert event.items.get().old_data is None
    assert event.mapping.logical_table == "client"


def test_rows_updated__linked_table_empty_is_accepted_and_ignored(post_webhook, demo_mappings):
    check_webhook(
        post_webhook, "rows.updated__linked_table_empty", row_ids=[], row_count=0, state="ignored",
        reason="no rows in the delivery",
    )


def test_rows_updated__linked_table_batch_2_is_its_own_delivery(post_webhook, demo_mappings):
    check_webhook(post_webhook, "rows.updated__linked_table_batch_2", row_ids=[201], row_count=1, state="ignored",
                  batch_id=2)


def test_rows_deleted(post_webhook, demo_mappings):
    event = check_webhook(post_webhook, "rows.deleted", row_ids=[1043, 1044], row_count=2, state="ignored")
    assert list(event.items.values_list("data", flat=True)) == [None, None]


@pytest.mark.parametrize(
    ("name", "entity_key"),
    [
        ("field.created", "baserow:601:field:9001"),
        ("field.updated", "baserow:601:field:9001"),
        ("field.deleted", "baserow:601:field:9001"),
        ("view.created", "baserow:601:view:1502"),
        ("view.updated", "baserow:601:view:1502"),
        ("view.deleted", "baserow:601:view:1502"),
    ],
)
def test_field_and_view_events_are_stored_as_one_ignored_item(post_webhook, demo_mappings, name, entity_key):
    event = check_webhook(post_webhook, name, row_ids=[None], row_count=0, state="ignored", reason="no rule for")
    assert event.items.get().entity_key == entity_key


def test_view_rows_entered(post_webhook, demo_mappings):
    check_webhook(post_webhook, "view.rows_entered", row_ids=[1043], row_count=1, state="ignored", reason="no rule")


def test_test_call_with_null_webhook_id_is_accepted_and_marked(post_webhook, demo_mappings):
    check_webhook(
        post_webhook, "test_call__rows.created", row_ids=[0], row_count=1, state="ignored", test_call=True,
        reason="Baserow test call",
    )


def test_unmapped_table_is_stored_ignored_with_the_reason(post_webhook, demo_mappings):
    check_webhook(
        post_webhook, "rows.created__unmapped_table", row_ids=[1], row_count=1, state="ignored",
        reason="Baserow table 999 is not mapped",
    )


def test_unknown_event_type_is_stored_and_ignored(post_webhook, demo_mappings):
    body = {**fixture_payload("field.updated"), "event_type": "table.renamed", "event_id": "x-1"}
    response = post_webhook(body)
    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["id"])
    assert event.state == "ignored" and event.reason == "unknown event type 'table.renamed'"


def test_route_uses_the_body_event_type_not_the_header(post_webhook, demo_mappings):
    response = post_webhook("rows.updated__linked_table", HTTP_X_BASEROW_EVENT="rows.created")
    event = Event.objects.get(pk=response.json()["id"])
    assert event.event_type == "rows.updated"
    assert event.headers["X-Baserow-Event"] == "rows.created"


def test_non_ascii_escaped_body_is_kept_byte_for_byte(post_webhook, demo_mappings):
    response = post_webhook("rows.created__projet")
    event = Event.objects.get(pk=response.json()["id"])
    assert "\\u00e9" in event.raw_body
    assert json.loads(event.raw_body)["items"][0]["nom"].endswith("é")


@pytest.mark.django_db(transaction=True)
def test_a_database_restart_while_storing_is_retried_on_a_new_connection_and_the_delivery_accepted(
    post_webhook, monkeypatch
):
    calls = []

    def receive_during_restart(**delivery):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("terminating connection due to administrator command")
        return event_receive(**delivery)

    monkeypatch.setattr(views, "event_receive", receive_during_restart)
    response = post_webhook("rows.created__projet")
    assert response.status_code == 202
    assert len(calls) == 3
    assert Event.objects.filter(pk=response.json()["id"]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_down_past_the_retry_budget_is_a_503_json_answer(post_webhook, monkeypatch):
    calls = []

    def receive_while_down(**delivery):
        calls.append(time.monotonic())
        raise InterfaceError("connection already closed")

    monkeypatch.setenv("SYNC_WEBHOOK_DB_RETRY_SECONDS", "0.7")
    monkeypatch.setattr(views, "event_receive", receive_while_down)
    started = time.monotonic()
    response = post_webhook("rows.created__projet")
    assert response.status_code == 503
    assert response.json() == {
        "error": "The database is unreachable right now; the delivery was not stored. Retry later."
    }
    assert 2 <= len(calls) <= 5
    assert time.monotonic() - started < 1.5


def test_the_webhook_retries_the_database_for_three_seconds_by_default():
    assert conf.webhook_db_retry_seconds() == 3.0
