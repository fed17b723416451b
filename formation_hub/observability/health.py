"""Health checks behind /healthz. The core checks the database and the task queue; apps register
their own (the sync app adds Docmost and Baserow) from AppConfig.ready.

A check of a peer service (Docmost, Baserow) is registered with peer=True: `/healthz?scope=app` leaves
those out, so a release's watch judges the app itself and a peer's outage is not blamed on a release."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_q.brokers import get_broker

from formation_hub.models import WorkerHeartbeat

OK, FAILING, NOT_CONFIGURED = "ok", "failing", "not configured"


@dataclass
class CheckResult:
    status: str
    detail: str = ""

    @property
    def counts(self) -> bool:
        return self.status != NOT_CONFIGURED


_checks: dict[str, Callable[[], CheckResult]] = {}
_peers: set[str] = set()


def register_check(name: str, check: Callable[[], CheckResult], *, peer: bool = False) -> None:
    _checks[name] = check
    if peer:
        _peers.add(name)


def run_checks(*, include_peers: bool = True) -> dict[str, CheckResult]:
    results = {}
    for name, check in _checks.items():
        if not include_peers and name in _peers:
            continue
        try:
            results[name] = check()
        except Exception as error:  # noqa: BLE001 - a crashing check is a failing check, never a 500
            results[name] = CheckResult(FAILING, f"{type(error).__name__}: {error}")
    return results


class _RolledBack(Exception):
    """Raised inside the probe's transaction so its write is never kept."""


def check_database() -> CheckResult:
    """Read, then write: a write lock held elsewhere (SQLite) or a read-only database fails the check
    within the busy timeout, where a SELECT alone would still pass. The write is rolled back."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    try:
        with transaction.atomic():
            WorkerHeartbeat.objects.filter(pk=-1).update(name="health probe")
            raise _RolledBack
    except _RolledBack:
        pass
    except DatabaseError as error:
        return CheckResult(FAILING, f"cannot write: {error}")
    return CheckResult(OK, f"{connection.vendor}, reads and writes")


def check_task_queue() -> CheckResult:
    broker = get_broker()
    depth = broker.queue_size()
    last = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if last is None:
        return CheckResult(FAILING, f"no worker heartbeat yet; queue depth {depth}")
    age = int((timezone.now() - last.beat_at).total_seconds())
    detail = f"last worker heartbeat {age} s ago ({last.name}); queue depth {depth}"
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return CheckResult(FAILING, detail)
    return CheckResult(OK, detail)


register_check("database", check_database)
register_check("task_queue", check_task_queue)
