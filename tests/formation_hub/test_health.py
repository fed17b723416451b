from datetime import timedelta

import pytest
from django.utils import timezone

from formation_hub.models import WorkerHeartbeat
from formation_hub.tasks import heartbeat


@pytest.fixture
def fresh_heartbeat(db):
    heartbeat()


def test_healthz_is_200_when_every_configured_check_passes(admin_client, fresh_heartbeat):
    response = admin_client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["task_queue"]["status"] == "ok"
    assert "queue depth" in body["checks"]["task_queue"]["detail"]
    configured = [check for check in body["checks"].values() if check["status"] != "not configured"]
    assert body["summary"] == f"{len(configured)}/{len(configured)} OK"


def test_healthz_is_503_without_a_worker_heartbeat(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["task_queue"]["status"] == "failing"
    assert response.json()["status"] == "failing"


def test_healthz_is_503_when_the_last_heartbeat_is_too_old(admin_client, fresh_heartbeat, settings):
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 5))
    response = admin_client.get("/healthz")
    assert response.status_code == 503
    assert "heartbeat" in response.json()["checks"]["task_queue"]["detail"]


def test_healthz_is_503_when_the_database_is_unreachable(admin_client, fresh_heartbeat, monkeypatch):
    from formation_hub.observability import health

    def broken():
        raise ConnectionError("database went away")

    monkeypatch.setitem(health._checks, "database", broken)
    response = admin_client.get("/healthz")
    assert response.status_code == 503
    database = response.json()["checks"]["database"]
    assert database == {"status": "failing", "detail": "ConnectionError: database went away"}


def test_landing_page_shows_the_health_panel(admin_client, fresh_heartbeat):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert b"formation-hub ops console" in response.content
    assert b'id="panel-health"' in response.content
