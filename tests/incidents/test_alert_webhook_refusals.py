"""The monitoring alert webhooks on the shared inbound mechanism: evidence with raw body and headers, refusals
counted and never stored, JSON errors for any body, 503 with the database down (issue 15, issue 17 Low)."""

import json

import pytest
from django.db import InterfaceError
from django.test import Client

from formation_hub.models import RefusedCall
from incidents.models import Alert, Incident
from incidents.web import api

TOKEN = "alert-token-with-enough-entropy"
GENERIC = "/api/alerts/generic/"


@pytest.fixture
def alert_token(monkeypatch, db):
    monkeypatch.setenv("ALERT_TOKENS", f"previous-token,{TOKEN}")


def post(body: bytes, content_type="application/json", **headers):
    return Client().post(GENERIC, body, content_type=content_type, headers={"X-Alert-Token": TOKEN, **headers})


def test_an_alert_keeps_its_raw_body_and_headers_without_the_token(alert_token):
    body = json.dumps({"monitor": "disk-db", "state": "down", "details": "95%"}).encode()
    response = post(body, **{"User-Agent": "probe/1.0"})
    assert response.status_code == 202
    alert = Alert.objects.get()
    assert (alert.raw_body, alert.source) == (body.decode(), "generic")
    assert alert.headers["User-Agent"] == "probe/1.0"
    assert TOKEN not in json.dumps(alert.headers)


def test_a_wrong_token_is_a_401_counted_and_nothing_stored(alert_token):
    response = Client().post(f"{GENERIC}?token=wrong", b'{"monitor": "m", "state": "down"}',
                             content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"error": "Missing or wrong alert token."}
    assert not Alert.objects.exists()
    assert RefusedCall.objects.get(source="generic").count == 1


def test_json_nested_100000_deep_is_a_json_400(alert_token):
    response = post(b'{"monitor": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert response.status_code == 400
    assert response.json()["error"] == "Body is not valid JSON: nested too deeply."
    assert not Alert.objects.exists()


def test_a_three_megabyte_body_is_a_json_413_not_an_html_400(alert_token):
    response = post(b'{"monitor": "m", "details": "' + b"x" * 3_000_000 + b'"}')
    assert response.status_code == 413
    assert "ALERT_MAX_BYTES" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [(b"not json", "application/json", 400), (b"[]", "application/json", 400),
     (b"\xff\xfe", "application/json", 400), (b"<alert/>", "application/xml", 415)],
    ids=["not-json", "list", "not-utf8", "xml"],
)
def test_bodies_that_are_not_an_alert_get_a_json_error(alert_token, body, content_type, status):
    response = post(body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["error"]
    assert not Alert.objects.exists()


def test_a_form_encoded_uptimerobot_alert_opens_an_incident(alert_token):
    response = Client().post(f"/api/alerts/uptimerobot/?token={TOKEN}",
                             b"monitorID=778899&monitorFriendlyName=Docmost+HTTP&alertType=1",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202
    assert Incident.objects.get().monitor == "778899"
    assert Alert.objects.get().raw_body.startswith("monitorID=778899")


def test_a_nul_character_in_an_alert_is_stored_without_it(alert_token):
    response = post(json.dumps({"monitor": "disk\u0000-db", "state": "down"}).encode())
    assert response.status_code == 202
    assert Alert.objects.get().monitor == "disk-db"


@pytest.mark.django_db(transaction=True)
def test_the_database_down_past_the_retry_budget_is_a_json_503(monkeypatch):
    monkeypatch.setenv("ALERT_TOKENS", TOKEN)
    monkeypatch.setenv("INBOUND_DB_RETRY_SECONDS", "0.5")
    calls = []

    def receive_while_down(**alert):
        calls.append(1)
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(api, "alert_receive", receive_while_down)
    response = post(b'{"monitor": "m", "state": "down"}')
    assert response.status_code == 503
    assert "database" in response.json()["error"]
    assert len(calls) >= 2
