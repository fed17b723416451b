"""Print the story of a delivery: what arrived, each item's outcome, every audit entry, in order."""

import json

from django.core.management.base import BaseCommand, CommandError

from formation_hub.console.timefmt import format_local
from sync.models import Event
from sync.selectors import event_story

TIME = "%Y-%m-%d %H:%M:%S"
STEP_TIME = "%H:%M:%S.%f"


class Command(BaseCommand):
    help = "Trace a sync event: by Baserow event id (every webhook and batch of it) or by stored id (#42)."

    def add_arguments(self, parser):
        parser.add_argument("event_id", help="Baserow's event UUID, or the stored id as #42")
        parser.add_argument("--payload", action="store_true", help="also print the raw payload, pretty-printed")

    def handle(self, *args, event_id, payload, **options):
        if event_id.startswith("#") and event_id[1:].isdigit():
            events = Event.objects.filter(pk=int(event_id[1:]))
        else:
            events = Event.objects.filter(event_id=event_id)
        events = list(events.select_related("mapping").order_by("received_at", "id"))
        if not events:
            raise CommandError(f"No stored event with id {event_id!r} (give Baserow's event UUID, or #<stored id>).")
        for event in events:
            self._print_story(event, payload)

    def _print_story(self, event: Event, with_payload: bool) -> None:
        story = event_story(event)
        write = self.stdout.write
        table = f"{event.mapping.logical_table} ({event.table_id})" if event.mapping else f"{event.table_id}"
        write(self.style.MIGRATE_HEADING(f"Event #{event.pk}: {event.event_type} on table {table}"))
        write(f"  delivery   webhook {event.webhook_id}, event {event.event_id}, batch {event.batch_id}"
              f"{' (Baserow test call)' if event.is_test_call else ''}")
        write(f"  received   {format_local(event.received_at, TIME)}")
        write(f"  enqueued   {format_local(event.enqueued_at, TIME)} ({event.enqueue_count} time(s))")
        write(f"  processed  {format_local(event.processed_at, TIME)} after {event.attempts} attempt(s)")
        write(f"  state      {event.state}{': ' + event.reason if event.reason else ''}")
        if event.last_error:
            write(f"  last error {event.last_error}")
        write(f"  rows       {event.row_count}")
        for item in story["items"]:
            subject = f"row {item.row_id}" if item.row_id is not None else item.entity_key
            retry = f", next attempt {format_local(item.next_attempt_at, TIME)}" if item.next_attempt_at else ""
            write(f"    - {subject}: {item.state}{' (' + item.reason + ')' if item.reason else ''}, "
                  f"{item.attempts} attempt(s){retry}")
        write("  trace (attempts, HTTP calls and audit entries, in order)")
        for step in story["trace"]:
            item = f" item #{step.item_id}" if step.item_id else ""
            write(f"    {format_local(step.time, STEP_TIME)} {step.kind:<8} {step.actor} {step.what} [{step.result}]"
                  f"{item}{' ' + step.detail if step.detail else ''}")
        if with_payload:
            write("  payload")
            try:
                text = json.dumps(json.loads(event.raw_body), indent=2, ensure_ascii=False)
            except ValueError:
                text = event.raw_body
            write("\n".join(f"    {line}" for line in text.splitlines()))
        write("")
