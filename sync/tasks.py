"""django-q2 entry points of the sync app: thin, each takes an id and calls a service."""

from sync.processing import event_process, events_sweep


def process_event(event_id: int) -> str:
    event = event_process(event_id=event_id)
    return event.state if event is not None else "not claimed"


def sweep_events() -> int:
    return events_sweep()
