"""Notifications: stored first, sent by a django-q2 task, retried with backoff, deduplicated by key.

Every app calls `notify`; nothing else sends mail or posts to the team channel.
"""

import random
from datetime import timedelta

import requests
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry, Notification

TEAM_CHANNEL_TIMEOUT = (3.05, 10)
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
DEAD_NOTIFICATION_KIND = "notification.dead"


def notify(
    *,
    kind: str,
    subject: str,
    body: str,
    channel: str = Notification.Channel.EMAIL,
    recipients: list[str] | None = None,
    dedupe_key: str | None = None,
    target=None,
) -> Notification:
    """Store a notification and send it asynchronously; a second call with the same key is a no-op.

    With the email channel and no recipients, it goes to OPS_ADMIN_EMAILS.
    """
    if channel == Notification.Channel.EMAIL and not recipients:
        recipients = list(settings.OPS_ADMIN_EMAILS)
    if dedupe_key:
        existing = Notification.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    notification = Notification(
        kind=kind, channel=channel, recipients=recipients or [], subject=subject[:250], body=body,
        dedupe_key=dedupe_key or None,
    )
    if target is not None:
        notification.content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        notification.object_id = str(target.pk)
    if channel == Notification.Channel.TEAM and not settings.TEAM_CHANNEL_WEBHOOK_URL:
        notification.state = Notification.State.SKIPPED
        notification.last_error = "No team channel configured (TEAM_CHANNEL_WEBHOOK_URL is empty)."
    if channel == Notification.Channel.PAGER and not settings.PAGER_WEBHOOK_URL:
        notification.state = Notification.State.SKIPPED
        notification.last_error = "No pager configured (PAGER_WEBHOOK_URL is empty)."
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        return Notification.objects.get(dedupe_key=dedupe_key)
    audit_record(
        action="notification.queued", target=notification,
        changes={"kind": kind, "channel": channel, "recipients": notification.recipients},
    )
    if notification.state == Notification.State.PENDING:
        _enqueue(notification)
    return notification


def notify_pager(*, kind: str, subject: str, body: str, dedupe_key: str, target=None):
    """The pager webhook (PAGER_WEBHOOK_URL), stored as 'skipped' when none is configured."""
    return notify(kind=kind, subject=subject, body=body, channel=Notification.Channel.PAGER, dedupe_key=dedupe_key,
                  target=target)


def notify_team(*, kind: str, subject: str, body: str, dedupe_key: str | None = None, target=None):
    return notify(
        kind=kind, subject=subject, body=body, channel=Notification.Channel.TEAM, dedupe_key=dedupe_key,
        target=target,
    )


def _enqueue(notification: Notification) -> None:
    transaction.on_commit(
        lambda: async_task("formation_hub.tasks.send_notification", notification.pk, group="notifications")
    )


def notification_send(*, notification_id: int) -> Notification:
    """Send one notification if it is due. A conditional update claims it, so it is sent once."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(state=Notification.State.PENDING)
        | Q(state=Notification.State.FAILED, next_attempt_at__lte=now),
        pk=notification_id,
    ).update(state=Notification.State.SENDING, attempts=F("attempts") + 1)
    notification = Notification.objects.get(pk=notification_id)
    if not claimed:
        return notification
    try:
        _deliver(notification)
    except Exception as error:  # noqa: BLE001 - any failure of the channel is recorded and retried
        _record_failure(notification, error)
    else:
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
        notification.next_attempt_at = None
        notification.save(update_fields=["state", "sent_at", "last_error", "next_attempt_at"])
        audit_record(action="notification.sent", target=notification, changes={"attempts": notification.attempts})
    return notification


def _deliver(notification: Notification) -> None:
    if notification.channel == Notification.Channel.EMAIL:
        send_mail(
            notification.subject, notification.body, settings.DEFAULT_FROM_EMAIL, notification.recipients,
            fail_silently=False,
        )
        return
    if notification.channel == Notification.Channel.PAGER:
        _deliver_pager(notification)
        return
    response = requests.post(
        settings.TEAM_CHANNEL_WEBHOOK_URL, json=team_channel_payload(notification), timeout=TEAM_CHANNEL_TIMEOUT
    )
    response.raise_for_status()


def _deliver_pager(notification: Notification) -> None:
    """ntfy: the body as the message, an urgent priority. PagerDuty Events API v2: a
    trigger (or, for a `*.ack` kind, an acknowledge) whose dedup_key is the paged object, so the escalation
    and the acknowledgement land on the same alert."""
    if settings.PAGER_FLAVOUR == "pagerduty":
        action = "acknowledge" if notification.kind.endswith(".ack") else "trigger"
        payload = {
            "routing_key": settings.PAGER_ROUTING_KEY, "event_action": action,
            "dedup_key": f"formation-hub:{notification.content_type_id}:{notification.object_id}",
        }
        if action == "trigger":
            payload["payload"] = {"summary": notification.subject[:1024], "source": "formation-hub",
                                  "severity": "critical", "custom_details": {"body": notification.body}}
        response = requests.post(settings.PAGER_WEBHOOK_URL, json=payload, timeout=TEAM_CHANNEL_TIMEOUT)
    else:
        # Title and priority as query parameters: ntfy reads them there too, and they carry UTF-8 safely.
        params = {"title": notification.subject, "tags": "rotating_light",
                  "priority": "min" if notification.kind.endswith(".ack") else "urgent"}
        headers = {"Authorization": f"Bearer {settings.PAGER_TOKEN}"} if settings.PAGER_TOKEN else {}
        response = requests.post(settings.PAGER_WEBHOOK_URL, params=params, data=notification.body.encode(),
                                 headers=headers, timeout=TEAM_CHANNEL_TIMEOUT)
    response.raise_for_status()


def team_channel_payload(notification: Notification) -> dict:
    """Slack incoming webhooks read `text`; Teams connectors read a MessageCard with `title`/`text`."""
    if settings.TEAM_CHANNEL_FLAVOUR == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": notification.subject,
            "title": notification.subject,
            "text": notification.body,
        }
    return {"text": f"*{slack_escape(notification.subject)}*\n{slack_escape(notification.body)}"}


def slack_escape(text: str) -> str:
    """Slack reads `<!channel>`, `<@U123>` and `<url|label>` in a message as mentions and disguised links;
    text people typed (an incident title, a note) is shown as typed: &, < and > escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def retry_delay(attempts: int) -> timedelta:
    """Capped exponential backoff with full jitter."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def _record_failure(notification: Notification, error: Exception) -> None:
    notification.last_error = f"{type(error).__name__}: {error}"[:2000]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.state = Notification.State.DEAD
        notification.next_attempt_at = None
    else:
        notification.state = Notification.State.FAILED
        notification.next_attempt_at = timezone.now() + retry_delay(notification.attempts)
    notification.save(update_fields=["state", "last_error", "next_attempt_at"])
    audit_record(
        action="notification.failed", target=notification, result=AuditEntry.Result.FAILED,
        changes={"attempts": notification.attempts, "state": notification.state},
        message=notification.last_error,
    )
    if notification.state == Notification.State.DEAD:
        _alert_dead(notification)


def _alert_dead(notification: Notification) -> None:
    """Someone was not told something: admins hear it, by the other channel when the dead one was theirs
    (an alert about a dead alert is not alerted again)."""
    if notification.kind == DEAD_NOTIFICATION_KIND:
        return
    body = (
        f"The {notification.get_channel_display()} notification '{notification.subject}' to "
        f"{', '.join(notification.recipients) or 'the team channel'} was given up after {notification.attempts} "
        f"attempts: {notification.last_error}\n\nResend it from Console -> Notifications once the cause is fixed."
    )
    subject = f"[formation-hub] a notification could not be sent: {notification.subject}"[:250]
    key = f"{DEAD_NOTIFICATION_KIND}:{notification.pk}"
    if notification.channel == Notification.Channel.EMAIL and settings.TEAM_CHANNEL_WEBHOOK_URL:
        notify_team(kind=DEAD_NOTIFICATION_KIND, subject=subject, body=body, dedupe_key=f"{key}:team",
                    target=notification)
    if notification.channel != Notification.Channel.EMAIL or set(notification.recipients) != set(
        settings.OPS_ADMIN_EMAILS
    ):
        notify(kind=DEAD_NOTIFICATION_KIND, subject=subject, body=body, dedupe_key=key, target=notification)


def notifications_retry_due() -> int:
    """Enqueue every failed notification whose next attempt is due (a one-minute schedule)."""
    due = list(
        Notification.objects.filter(
            state=Notification.State.FAILED, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)[:500]
    )
    for pk in due:
        async_task("formation_hub.tasks.send_notification", pk, group="notifications")
    return len(due)


@transaction.atomic
def notification_resend(*, notification: Notification, user) -> Notification:
    """Send again a notification that failed or was given up on (the console's 'resend')."""
    require(user, "formation_hub.change_notification", doing="resend a notification")
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    resendable = (Notification.State.FAILED, Notification.State.DEAD, Notification.State.SKIPPED)
    if notification.state not in resendable:
        raise DomainError(
            f"Only failed, dead or skipped notifications can be resent; this one is {notification.state}."
        )
    Notification.objects.filter(pk=notification.pk).update(
        state=Notification.State.PENDING, next_attempt_at=None
    )
    notification.refresh_from_db()
    audit_record(action="notification.resent", target=notification, actor=user)
    _enqueue(notification)
    return notification
