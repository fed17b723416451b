"""Closing a loop alert once the loop is fixed: a later burst of events on the row may raise a new one."""

from django.db import transaction
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from sync.models import LoopAlert

RESOLVE = "sync.replay_event"


@transaction.atomic
def loop_alerts_resolve(*, alerts, user) -> int:
    """Mark the open ones among `alerts` resolved, each with its audit entry; returns how many."""
    require(user, RESOLVE, doing="resolve a loop alert")
    resolved = 0
    for alert in LoopAlert.objects.select_for_update().filter(pk__in=[alert.pk for alert in alerts],
                                                                 resolved_at__isnull=True):
        alert.resolved_at = timezone.now()
        alert.save(update_fields=["resolved_at"])
        audit_record(action="sync.loop.resolved", target=alert, actor=user, message=str(alert))
        resolved += 1
    return resolved
