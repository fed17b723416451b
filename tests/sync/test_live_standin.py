"""The Baserow stand-in really delivers its webhooks to a live server of the app."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sync.models import BaserowConnection, Event, RejectedCall
from tests.sync.conftest import SECRET

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("without_rules")]


@pytest.fixture
def connected_standin(baserow_standin, live_server, demo_mappings, monkeypatch):
    monkeypatch.setenv("BASEROW_DATABASE_TOKEN", baserow_standin.token)
    baserow_standin.seed_demo(
        webhook_url=f"{live_server.url}/api/webhooks/baserow/", webhook_headers={"X-Formation-Hub-Secret": SECRET}
    )
    BaserowConnection.objects.update(url=baserow_standin.url)
    return baserow_standin


def test_a_row_created_in_the_standin_arrives_as_a_stored_event(connected_standin):
    status, row = connected_standin.api(
        "POST", "/api/database/rows/table/601/?user_field_names=true", {"nom": "Apollo"}
    )
    assert status == 200
    connected_standin.wait_for_deliveries()
    [delivery] = connected_standin.deliveries(table_id=601, event_type="rows.created")
    assert delivery["status"] == 202 and delivery["ok"]
    event = Event.objects.get(table_id=601, event_type="rows.created")
    assert event.event_id == delivery["event_id"] and event.webhook_id == delivery["webhook_id"]
    assert event.headers["X-Baserow-Delivery"] == event.event_id
    item = event.items.get()
    assert item.row_id == row["id"] and item.data["nom"] == "Apollo"
    assert event.state == Event.State.IGNORED and event.reason == "no rule for projet rows.created"


def test_send_test_webhook_creates_a_row_and_waits_for_its_event(connected_standin):
    out = StringIO()
    call_command("send_test_webhook", "--nom", "Projet démo", "--wait", "10", stdout=out)
    text = out.getvalue()
    assert "Created projet row" in text and "Webhook received: event #" in text
    event = Event.objects.get(event_type="rows.created")
    assert event.items.get().data["nom"] == "Projet démo"
    assert connected_standin.rows(601)[-1]["nom"] == "Projet démo"


def test_send_test_webhook_names_its_row_in_the_organisation_zone(connected_standin):
    call_command("send_test_webhook", "--wait", "10", stdout=StringIO())
    name = connected_standin.rows(601)[-1]["nom"]
    assert re.fullmatch(r"Démo \d\d:\d\d:\d\d \(Europe/Paris\)", name), name


def test_a_standin_webhook_with_a_wrong_secret_is_refused_and_counted(baserow_standin, live_server, demo_mappings):
    baserow_standin.seed_demo(
        webhook_url=f"{live_server.url}/api/webhooks/baserow/", webhook_headers={"X-Formation-Hub-Secret": "wrong"}
    )
    baserow_standin.configure(max_retries=0)
    baserow_standin.api("POST", "/api/database/rows/table/601/?user_field_names=true", {"nom": "Apollo"})
    baserow_standin.wait_for_deliveries()
    assert [d["status"] for d in baserow_standin.deliveries(table_id=601)] == [401]
    assert not Event.objects.exists()
    assert RejectedCall.objects.get().count == 1


def test_send_test_webhook_without_a_token_says_which_variable_to_set(connected_standin, monkeypatch):
    monkeypatch.delenv("BASEROW_DATABASE_TOKEN")
    with pytest.raises(CommandError, match="set the environment variable BASEROW_DATABASE_TOKEN"):
        call_command("send_test_webhook")
