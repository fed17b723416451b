"""django-q2 entry points of the sync app: thin, each takes an id and calls a service."""

from sync.clients.circuits import circuits_probe_due
from sync.ingest.docmost_poll import docmost_poll
from sync.processing.enqueue import events_sweep
from sync.processing.pipeline import event_process
from sync.upkeep.failure_alerts import dead_items_alert
from sync.upkeep.reconciliation import reconciliation_run
from sync.upkeep.watchdog import baserow_webhooks_watch


def process_event(event_id: int) -> str:
    event = event_process(event_id=event_id)
    return event.state if event is not None else "not claimed"


def sweep_events() -> int:
    """Probe the services whose circuit is open (a service back makes its waiting items due), then
    enqueue every event with something due, oldest first."""
    circuits_probe_due()
    return events_sweep()


def poll_docmost() -> str:
    return str(docmost_poll())


def watch_baserow_webhooks() -> str:
    return baserow_webhooks_watch()


def alert_dead_items() -> int:
    return dead_items_alert()


def reconcile_unmapped() -> str:
    """Queue every projet and formation row without a Docmost page (the demo's seeded rows at start-up)."""
    run = reconciliation_run(dry_run=False, trigger="schedule")
    return f"reconciliation #{run.pk}: {len(run.rows_found)} row(s) queued"
