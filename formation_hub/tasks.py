"""django-q2 entry points of the core: thin, each takes an id and calls a service."""

import socket

from django.utils import timezone

from formation_hub.gates.forge_status import publish_gate_status_of
from formation_hub.models import WorkerHeartbeat
from formation_hub.notifications import notification_send, notifications_retry_due


def send_notification(notification_id: int) -> str:
    return notification_send(notification_id=notification_id).state


def retry_due_notifications() -> int:
    return notifications_retry_due()


def heartbeat() -> str:
    """Proves a worker is alive and takes scheduled work; /healthz reads its age."""
    name = socket.gethostname()
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})
    return name


def publish_gate_status(content_type_id: int, object_id: str) -> str:
    return publish_gate_status_of(content_type_id=content_type_id, object_id=object_id)
