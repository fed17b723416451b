"""JSON API for on-call tools and the monitoring webhooks."""

import json
import threading

import pytest
import requests
from django.db import connection
from rest_framework.test import APIClient

from formation_hub.errors import DomainError
from incidents.models import Alert, Incident, MonitorSetting
from incidents.services import incident_transition
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db
TOKEN = "alert-secret"


@pytest.fixture
def api(responder):
    client = APIClient()
    client.force_authenticate(responder)
    return client


@pytest.fixture
def alert_token(monkeypatch):
    monkeypatch.setenv("ALERT_TOKENS", f"other,{TOKEN}")


def create(api, **fields):
    data = {"title": "Docmost down", "severity": "SEV2", "service": "docmost", "category": "down", **fields}
    return api.post("/api/incidents/", data, format="json")


def test_create_then_read_with_clock_and_on_call(api, rotation):
    response = create(api)
    assert response.status_code == 201
    body = response.json()
    assert body["respond_by"] and body["breached"] is False and body["time_left_seconds"] > 0
    assert body["on_call"]["primary"]["username"] in {"alice", "bruno", "carla"}
    assert body["clock"].startswith("respond by ")
    detail = api.get(f"/api/incidents/{body['id']}/").json()
    assert detail["id"] == body["id"] and detail["source"] == "api"


def test_an_oversized_description_is_a_json_400_and_stores_nothing(api):
    response = create(api, description="x" * 2_000_000)
    assert response.status_code == 400 and "description" in response.json()["error"]
    assert not Incident.objects.exists()


def test_create_validation_error_is_json(api):
    response = create(api, severity="SEV7")
    assert response.status_code == 400
    assert "severity" in response.json()["error"]


def test_list_filters(api):
    create(api, title="one")
    create(api, title="two", severity="SEV3")
    assert [item["title"] for item in api.get("/api/incidents/?severity=SEV3").json()] == ["two"]
    assert len(api.get("/api/incidents/?status=open").json()) == 2
    assert api.get("/api/incidents/?breached=true").json() == []


def test_ack_twice_is_a_409(api):
    incident_id = create(api).json()["id"]
    first = api.post(f"/api/incidents/{incident_id}/ack/")
    assert first.status_code == 200 and first.json()["acknowledged_at"]
    second = api.post(f"/api/incidents/{incident_id}/ack/")
    assert second.status_code == 409 and "already acknowledged" in second.json()["error"]


def test_viewers_read_but_cannot_write(make_user, responder):
    client = APIClient()
    client.force_authenticate(make_user("vera", "viewer"))
    assert client.get("/api/incidents/").status_code == 200
    assert create(client).status_code == 403


def test_token_authentication_works(responder):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(responder)}")
    assert client.get("/api/incidents/").status_code == 200
    assert APIClient().get("/api/incidents/").status_code in (401, 403)


def test_unknown_incident_is_a_json_404(api):
    response = api.get("/api/incidents/999/")
    assert response.status_code == 404 and response.json()["error"]


def test_schema_documents_the_endpoints(api):
    schema = api.get("/api/schema/?format=json").content.decode()
    for path in ["/api/incidents/", "/api/incidents/{incident_id}/ack/", "/api/alerts/uptimerobot/",
                 "/api/alerts/generic/"]:
        assert path in schema
    assert "respond_by" in schema and "breached" in schema and "primary" in schema


# --- alerts ---------------------------------------------------------------------------------------

def uptimerobot(client, alert_type, token=TOKEN, monitor="778899", **extra):
    data = {"monitorID": monitor, "monitorFriendlyName": "Docmost HTTP", "alertType": alert_type,
            "alertDetails": "Connection timeout", **extra}
    return client.post(f"/api/alerts/uptimerobot/?token={token}", data)


def test_alerts_are_refused_without_the_right_token(alert_token):
    client = APIClient()
    assert uptimerobot(client, "1", token="wrong").status_code in (401, 403)
    assert client.post("/api/alerts/generic/", {"monitor": "x", "state": "down"}, format="json").status_code in (
        401, 403)
    assert not Incident.objects.exists()


def test_alerts_are_disabled_when_no_token_is_configured(monkeypatch):
    monkeypatch.delenv("ALERT_TOKENS", raising=False)
    response = uptimerobot(APIClient(), "1")
    assert response.status_code == 403 and "ALERT_TOKENS" in response.json()["error"]


def test_down_opens_repeated_down_attaches_up_notes(alert_token):
    client = APIClient()
    first = uptimerobot(client, "1")
    assert first.status_code == 202
    incident = Incident.objects.get()
    assert (incident.severity, incident.source, incident.monitor) == ("SEV2", "alert", "778899")
    assert uptimerobot(client, "1").json()["outcome"] == f"attached to open incident #{incident.pk}"
    assert uptimerobot(client, "2").json()["outcome"] == f"recovery noted on incident #{incident.pk}"
    assert Incident.objects.count() == 1 and Alert.objects.count() == 3
    assert incident.timeline.filter(kind="alert").count() == 2


def test_a_down_after_resolution_opens_a_new_incident(alert_token, responder):
    client = APIClient()
    uptimerobot(client, "1")
    incident = Incident.objects.get()
    for status in ["triaged", "investigating", "resolved"]:
        incident = incident_transition(incident=incident, to_status=status, user=responder)
    uptimerobot(client, "1")
    assert Incident.objects.count() == 2


def test_per_monitor_severity(alert_token, rotation):
    MonitorSetting.objects.create(monitor="778899", severity="SEV1", service="docmost")
    uptimerobot(APIClient(), "1")
    incident = Incident.objects.get()
    assert incident.severity == "SEV1" and incident.service == "docmost" and incident.pages.exists()


def test_generic_alert_with_header_token(alert_token):
    client = APIClient()
    client.credentials(HTTP_X_ALERT_TOKEN=TOKEN)
    response = client.post("/api/alerts/generic/", {"monitor": "disk-db", "state": "down", "details": "95%"},
                           format="json")
    assert response.status_code == 202 and Incident.objects.get().monitor == "disk-db"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert client.post("/api/alerts/generic/", {"monitor": "disk-db", "state": "up"}, format="json").status_code == 202


def test_unreadable_alert_is_stored_and_answered_400(alert_token):
    response = APIClient().post(f"/api/alerts/generic/?token={TOKEN}", {"state": "down"}, format="json")
    assert response.status_code == 400 and "monitor" in response.json()["error"]
    assert Alert.objects.get().outcome == "refused: no monitor id"


def test_alert_with_unknown_state_is_stored_and_ignored(alert_token):
    response = APIClient().post(f"/api/alerts/generic/?token={TOKEN}", {"monitor": "m", "state": "flapping"},
                                format="json")
    assert response.json()["outcome"] == "ignored: neither down nor up"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_down_alerts_open_one_incident(alert_token, live_server):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")
    barrier = threading.Barrier(8)
    results = []

    def send():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/api/alerts/generic/?token={TOKEN}",
            data=json.dumps({"monitor": "baserow-http", "state": "down"}),
            headers={"Content-Type": "application/json"}, timeout=20,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [202] * 8
    assert Incident.objects.filter(monitor="baserow-http").count() == 1
    assert Alert.objects.filter(monitor="baserow-http", incident__isnull=False).count() == 8


def test_reopening_is_refused_while_the_monitor_has_another_open_incident(alert_token, responder):
    client = APIClient()
    uptimerobot(client, "1")
    first = Incident.objects.get()
    for status in ["triaged", "investigating", "resolved"]:
        first = incident_transition(incident=first, to_status=status, user=responder)
    uptimerobot(client, "1")
    second = Incident.objects.exclude(pk=first.pk).get()
    with pytest.raises(DomainError, match=f"already has open incident #{second.pk}"):
        incident_transition(incident=first, to_status="investigating", user=responder)


def test_a_detection_time_years_ago_is_refused_with_a_clear_message(make_user):
    client = APIClient()
    client.force_authenticate(make_user("olivia", "oncall"))
    response = client.post("/api/incidents/", {
        "title": "Typo in the year", "severity": "SEV3", "service": "wiki", "category": "bug",
        "detected_at": "0957-01-01T10:00:00Z",
    }, format="json")
    assert response.status_code in (400, 409)
    assert "days ago" in response.json()["error"]
