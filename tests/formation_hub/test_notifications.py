from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from formation_hub.errors import DomainError
from formation_hub.models import Notification
from formation_hub.notifications import (
    notification_resend,
    notification_send,
    notifications_retry_due,
    notify,
    notify_team,
    retry_delay,
)


@pytest.fixture
def team_channel(settings, http_receiver):
    settings.TEAM_CHANNEL_WEBHOOK_URL = http_receiver.url
    return http_receiver


def test_email_is_stored_then_sent_through_a_real_smtp_server(db, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            kind="test.mail", subject="Disk full", body="on docmost-1", recipients=["ops@example.org"]
        )
    assert OrmQ.objects.count() == 1  # queued for the worker, not sent in the request
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT and notification.attempts == 1
    [mail] = smtp_server.messages
    assert mail["to"] == ["ops@example.org"]
    assert mail["message"]["Subject"] == "Disk full"


def test_email_without_recipients_goes_to_the_ops_admins(db, settings):
    settings.OPS_ADMIN_EMAILS = ["a@example.org", "b@example.org"]
    assert notify(kind="test.mail", subject="s", body="b").recipients == ["a@example.org", "b@example.org"]


def test_same_dedupe_key_is_stored_and_sent_once(db, smtp_server):
    first = notify(kind="capacity", subject="Over capacity", body="x", dedupe_key="capacity:42:2026-11-27")
    second = notify(kind="capacity", subject="Over capacity", body="x", dedupe_key="capacity:42:2026-11-27")
    assert first.pk == second.pk
    notification_send(notification_id=first.pk)
    notification_send(notification_id=first.pk)
    assert len(smtp_server.messages) == 1
    assert Notification.objects.count() == 1


def test_team_channel_posts_slack_text(db, team_channel):
    notification = notify_team(kind="release.announce", subject="v1.2.0 released", body="notes")
    notification_send(notification_id=notification.pk)
    assert team_channel.json_bodies() == [{"text": "*v1.2.0 released*\nnotes"}]


def test_team_channel_posts_a_teams_message_card(db, settings, team_channel):
    settings.TEAM_CHANNEL_FLAVOUR = "teams"
    notification_send(notification_id=notify_team(kind="k", subject="Title", body="Body").pk)
    [card] = team_channel.json_bodies()
    assert card["@type"] == "MessageCard" and card["title"] == "Title" and card["text"] == "Body"


def test_team_message_without_a_configured_channel_is_stored_as_skipped(db, settings):
    settings.TEAM_CHANNEL_WEBHOOK_URL = ""
    notification = notify_team(kind="k", subject="s", body="b")
    assert notification.state == Notification.State.SKIPPED
    assert "TEAM_CHANNEL_WEBHOOK_URL" in notification.last_error


def test_failure_is_retried_with_backoff_then_given_up(db, settings, team_channel):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    team_channel.status = 500
    notification = notify_team(kind="k", subject="s", body="b")
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.state == Notification.State.FAILED
    assert "500" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
    assert notifications_retry_due() == 0  # not due yet
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert notifications_retry_due() == 1
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.state == Notification.State.DEAD and notification.attempts == 2
    assert len(team_channel.requests) == 2


def test_a_dead_notification_can_be_resent_once_the_channel_works(db, make_user, settings, team_channel):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    team_channel.status = 503
    notification = notify_team(kind="k", subject="s", body="b")
    notification_send(notification_id=notification.pk)
    team_channel.status = 200
    notification_resend(notification=notification, user=make_user("ops", "admin"))
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT


def test_a_sent_notification_cannot_be_resent(db, make_user, team_channel):
    notification = notify_team(kind="k", subject="s", body="b")
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    with pytest.raises(DomainError, match="Only failed"):
        notification_resend(notification=notification, user=make_user("ops", "admin"))


@pytest.mark.parametrize("attempts, ceiling", [(1, 30), (2, 60), (3, 120), (10, 3600)])
def test_backoff_is_capped_exponential_with_jitter(attempts, ceiling):
    for _ in range(20):
        assert ceiling / 2 <= retry_delay(attempts).total_seconds() <= ceiling


def test_console_lists_notifications_and_resends_the_selected(admin_client, settings, team_channel):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    team_channel.status = 500
    notification = notify_team(kind="k", subject="Channel down", body="b")
    notification_send(notification_id=notification.pk)
    response = admin_client.get("/admin/formation_hub/notification/", {"state": "dead"})
    assert b"Channel down" in response.content
    admin_client.post(
        "/admin/formation_hub/notification/",
        {"action": "resend_notifications", "_selected_action": [notification.pk]},
    )
    notification.refresh_from_db()
    assert notification.state == Notification.State.PENDING
