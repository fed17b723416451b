"""Create a `projet` row in Baserow through its row API; Baserow then sends the real webhook here.

Meant for the local stand-in (`make run`), works against any Baserow the console is connected to.
"""

import time

import requests
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from formation_hub.console.timefmt import format_local
from sync import conf
from sync.models import BaserowConnection, Event, EventItem, LogicalTable, TableMapping


class Command(BaseCommand):
    help = "Create a projet row in the connected Baserow (the stand-in in `make run`) and wait for its webhook."

    def add_arguments(self, parser):
        parser.add_argument("--nom", default="", help="the project's name (default: 'Démo <time>')")
        parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the webhook (0: no wait)")

    def handle(self, *args, nom, wait, **options):
        connection = BaserowConnection.objects.first()
        mapping = TableMapping.objects.filter(logical_table=LogicalTable.PROJET).first()
        if connection is None or mapping is None:
            raise CommandError(
                "No Baserow connection or no 'projet' table mapping: run `manage.py demo_data` "
                "or configure them in the console (Sync)."
            )
        token = connection.token()
        if not token:
            raise CommandError(f"No Baserow database token: set the environment variable {connection.token_env_var}.")
        name = nom or f"Démo {format_local(timezone.now(), '%H:%M:%S')}"
        url = f"{connection.api_url}/api/database/rows/table/{mapping.baserow_table_id}/?user_field_names=true"
        started = timezone.now()
        try:
            response = requests.post(
                url, json={mapping.field_name("nom"): name},
                headers={"Authorization": f"Token {token}"}, timeout=conf.http_timeout_seconds(),
            )
        except requests.RequestException as error:
            raise CommandError(f"Baserow at {connection.api_url} is unreachable: {error}") from error
        if response.status_code != 200:
            raise CommandError(f"Baserow refused the row ({response.status_code}): {response.text[:500]}")
        row_id = response.json().get("id")
        self.stdout.write(f"Created projet row {row_id} ({name!r}) in Baserow table {mapping.baserow_table_id}.")
        if wait <= 0:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            item = (
                EventItem.objects.select_related("event")
                .filter(event__table_id=mapping.baserow_table_id, event__event_type="rows.created",
                        event__received_at__gte=started, row_id=row_id)
                .first()
            )
            if item is not None:
                self._report(item.event)
                return
            time.sleep(0.2)
        raise CommandError(
            f"No webhook received within {wait:g} s. Is the web server running, and does the Baserow webhook "
            f"point at /api/webhooks/baserow/ with the {conf.webhook_secret_header()} header?"
        )

    def _report(self, event: Event) -> None:
        path = reverse("admin:sync_event_change", args=[event.pk])
        self.stdout.write(self.style.SUCCESS(
            f"Webhook received: event #{event.pk} ({event.event_type}, {event.row_count} row(s)), state {event.state}."
        ))
        self.stdout.write(f"Console: {conf.dev_app_url()}{path}   trace: manage.py trace_event {event.event_id}")
