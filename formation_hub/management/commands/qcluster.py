"""django-q2's `qcluster`, with the stall guard (formation_hub.observability.cluster_guard)."""

import sys

from django.conf import settings
from django_q.management.commands import qcluster

from formation_hub.observability.cluster_guard import STALLED_EXIT_STATUS, TaskClock, guard_until_stopped


class Command(qcluster.Command):
    help = (
        "Starts a django-q2 cluster; exits with status 3 when it has run no task for Q_STALL_SECONDS while "
        "tasks wait (its supervisor then starts a new one)."
    )

    def handle(self, *args, **options):
        if options.get("run_once") or not settings.Q_STALL_SECONDS:
            return super().handle(*args, **options)
        clock = TaskClock()
        super().handle(*args, **options)
        if guard_until_stopped(clock, stall_seconds=settings.Q_STALL_SECONDS):
            sys.exit(STALLED_EXIT_STATUS)
        return None
