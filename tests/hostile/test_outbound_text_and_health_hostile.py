"""Text people type reaching Slack and rendered pages, and what an anonymous /healthz tells (issue 17, Low and 13)."""

import sqlite3
import time

import pytest
from django.db import connection

from formation_hub.console.markdown import render_markdown
from formation_hub.notifications import notification_send, notify_team
from formation_hub.observability import health
from formation_hub.tasks import heartbeat


@pytest.fixture
def team_channel(settings, http_receiver):
    settings.TEAM_CHANNEL_WEBHOOK_URL = http_receiver.url
    return http_receiver


def test_slack_control_sequences_in_a_team_message_are_shown_as_typed(db, team_channel):
    notification = notify_team(kind="incident.opened", subject="<!channel> checkout down",
                               body="see <https://evil.example|the runbook> & ping <@U024BE7LH>")
    notification_send(notification_id=notification.pk)
    text = team_channel.json_bodies()[0]["text"]
    assert text == ("*&lt;!channel&gt; checkout down*\n"
                    "see &lt;https://evil.example|the runbook&gt; &amp; ping &lt;@U024BE7LH&gt;")


@pytest.mark.parametrize("text", [
    "![pixel](https://tracker.example/p.gif?reader=1)",
    '<img src="https://tracker.example/p.gif">',
    "![](https://tracker.example/p.gif)",
])
def test_markdown_images_are_never_rendered(text):
    assert "<img" not in render_markdown(text)


def test_a_markdown_image_keeps_its_alt_text_as_a_link():
    html = render_markdown("![the dashboard](https://grafana.example/d/1.png)")
    assert '<a href="https://grafana.example/d/1.png"' in html and ">the dashboard</a>" in html


@pytest.fixture
def failing_check_with_secrets(db):
    heartbeat()
    health.register_check("peer-with-secrets", lambda: health.CheckResult(
        health.FAILING, "http://10.0.0.7:8080/api answered 401; OperationalError: FATAL password for user ops"))
    yield
    health._checks.pop("peer-with-secrets")


def test_anonymous_healthz_tells_status_and_summary_only(client, failing_check_with_secrets):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "failing" and body["summary"].endswith("OK")
    assert body["checks"]["peer-with-secrets"] == {"status": "failing"}
    assert "10.0.0.7" not in response.content.decode() and "password" not in response.content.decode()


def test_staff_and_token_holders_read_each_checks_detail(client, admin_client, settings, failing_check_with_secrets):
    assert "10.0.0.7" in admin_client.get("/healthz").json()["checks"]["peer-with-secrets"]["detail"]
    settings.HEALTHZ_TOKEN = "health-token-for-tests"
    with_token = client.get("/healthz", HTTP_AUTHORIZATION="Bearer health-token-for-tests").json()
    assert "10.0.0.7" in with_token["checks"]["peer-with-secrets"]["detail"]
    wrong = client.get("/healthz", HTTP_AUTHORIZATION="Bearer guessed").json()
    assert "detail" not in wrong["checks"]["peer-with-secrets"]


def test_sqlite_waits_for_a_write_lock_well_under_baserows_5_s(settings):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("SQLite only")
    assert settings.DATABASES["default"]["OPTIONS"]["timeout"] <= 2


@pytest.mark.django_db(transaction=True)
def test_healthz_fails_fast_while_another_connection_holds_the_write_lock(client):
    """The database check writes (and rolls back): a SELECT alone passes while every write is stuck."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    heartbeat()
    name = connection.settings_dict["NAME"]
    locker = sqlite3.connect(name, uri=name.startswith("file:"), timeout=0, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    locker.execute("UPDATE formation_hub_workerheartbeat SET name = name")
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "failing"
    assert elapsed < 4


def test_the_write_probe_leaves_nothing_behind(admin_client, db):
    heartbeat()
    from formation_hub.models import WorkerHeartbeat

    before = list(WorkerHeartbeat.objects.values_list("name", "beat_at"))
    assert admin_client.get("/healthz").json()["checks"]["database"]["status"] == "ok"
    assert list(WorkerHeartbeat.objects.values_list("name", "beat_at")) == before
