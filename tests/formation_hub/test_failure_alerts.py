"""Admins hear about what failed for good: a notification given up on (by another channel when needed)."""

from formation_hub.models import Notification
from formation_hub.notifications import notification_send, notify, notify_team
from tests.conftest import free_port


def test_a_dead_team_message_is_emailed_to_the_admins(db, settings, http_receiver, smtp_server):
    settings.NOTIFICATION_MAX_ATTEMPTS, settings.OPS_ADMIN_EMAILS = 1, ["ops@example.org"]
    settings.TEAM_CHANNEL_WEBHOOK_URL = http_receiver.url
    http_receiver.status = 500
    dead = notify_team(kind="release.announce", subject="v1.2.0 released", body="notes")
    notification_send(notification_id=dead.pk)
    alert = Notification.objects.get(kind="notification.dead")
    notification_send(notification_id=alert.pk)
    [mail] = smtp_server.messages
    assert mail["to"] == ["ops@example.org"] and "v1.2.0 released" in mail["message"]["Subject"]
    assert "500" in mail["message"].get_payload()


def test_a_dead_email_is_told_on_the_team_channel_and_never_alerted_twice(db, settings, http_receiver):
    settings.NOTIFICATION_MAX_ATTEMPTS, settings.OPS_ADMIN_EMAILS = 1, ["ops@example.org"]
    settings.TEAM_CHANNEL_WEBHOOK_URL = http_receiver.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    dead = notify(kind="story.assigned", subject="S-04 is yours", body="b", recipients=["alice@example.org"])
    notification_send(notification_id=dead.pk)
    alerts = Notification.objects.filter(kind="notification.dead")
    assert {alert.channel for alert in alerts} == {"team", "email"}
    for alert in alerts:
        notification_send(notification_id=alert.pk)
    assert "S-04 is yours" in http_receiver.json_bodies()[0]["text"]
    assert Notification.objects.filter(kind="notification.dead").count() == 2  # the dead alert is not alerted
