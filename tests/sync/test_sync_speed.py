"""What the fast path must not break: a lost broker push, cached configuration, the calls a row costs,
the webhook's answers."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from formation_hub.models import AuditEntry
from sync.config_cache import mapping_for_table
from sync.ingest.views import BaserowWebhookView
from sync.models import Event, EventItem, HttpCall, LoopAlert, ServiceCircuit, TableMapping
from sync.processing import enqueue as processing
from sync.processing.enqueue import events_sweep
from sync.processing.routing import register_handler
from sync.tasks import process_event
from tests.conftest import free_port
from tests.sync.conftest import SECRET, URL, fixture_body, process_all
from tests.sync.factories import EventFactory, EventItemFactory

pytestmark = pytest.mark.django_db

ACME = 1


@pytest.fixture
def unreachable_redis_broker(settings, monkeypatch):
    """django-q2 on a Redis broker nobody listens to (every push fails); the ORM broker again after."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.Q_CLUSTER = {**{k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}, "redis": url}
    # django-q2 reads its configuration once, at import.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", url)
    processing._broker.cache_clear()
    yield
    processing._broker.cache_clear()


def orm_broker_again(settings, monkeypatch) -> None:
    settings.Q_CLUSTER = {**{k: v for k, v in settings.Q_CLUSTER.items() if k != "redis"}, "orm": "default"}
    monkeypatch.setattr(Conf, "ORM", "default")
    processing._broker.cache_clear()


def test_a_delivery_whose_broker_push_failed_is_accepted_and_run_by_the_sweeper(
    post_webhook, demo_mappings, unreachable_redis_broker, django_capture_on_commit_callbacks, settings, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook("rows.created__projet")
    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["id"])
    assert event.state == Event.State.RECEIVED and event.enqueued_at is None and event.enqueue_count == 0

    orm_broker_again(settings, monkeypatch)
    assert events_sweep() == 0  # the on-commit grace: a push may still be on its way
    Event.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=2))
    assert events_sweep() == 1
    assert OrmQ.objects.count() == 1
    event.refresh_from_db()
    assert event.enqueued_at is not None


def test_a_mapping_saved_in_this_process_is_seen_at_once(demo_mappings):
    mapping = mapping_for_table(601)
    assert mapping.logical_table == "projet"
    TableMapping.objects.filter(pk=mapping.pk).update(enabled=False)  # no signal: the cache keeps it
    assert mapping_for_table(601).enabled
    mapping.enabled = False
    mapping.save()
    assert not mapping_for_table(601).enabled


def test_a_mapping_changed_elsewhere_is_read_again_after_the_cache_time(demo_mappings, monkeypatch):
    assert mapping_for_table(601).enabled
    TableMapping.objects.filter(baserow_table_id=601).update(enabled=False)  # as another process would
    monkeypatch.setenv("SYNC_CONFIG_CACHE_SECONDS", "0")
    assert not mapping_for_table(601).enabled


def test_a_projet_row_costs_at_most_three_calls_and_its_client_row_update_no_job(bridge):
    first = bridge.create_row(601, {"nom": "Vitesse 1", "client": [ACME]})
    bridge.sync()
    second = bridge.create_row(601, {"nom": "Vitesse 2", "client": [ACME]})
    bridge.sync()

    assert len(bridge.pages("Projet Vitesse")) == 2
    assert all(bridge.row(601, row["id"])["docmost_page_id"] for row in (first, second))
    created = Event.objects.filter(table_id=601, event_type="rows.created").order_by("pk")
    assert [event.state for event in created] == ["processed", "processed"]
    first_calls, second_calls = (list(HttpCall.objects.filter(event=event).values_list("path", flat=True))
                                 for event in created)
    # The first row also logs in and reads the template; no marker search before a first create.
    assert not any("/pages/recent" in path for path in first_calls + second_calls)
    assert len(first_calls) <= 3 + 2, first_calls
    assert [path.split("?")[0] for path in sorted(second_calls)] == [
        "/api/database/rows/table/601/" + f"{second['id']}/", "/api/pages/create",
    ]
    # Linking a client fires the client table's rows.updated: no rule handles it, so no job, no loop alert.
    client_updates = Event.objects.filter(table_id=607, event_type="rows.updated")
    assert client_updates.exists()
    assert all(event.state == Event.State.IGNORED and event.enqueued_at is None for event in client_updates)
    assert not LoopAlert.objects.exists()
    assert process_all() == []



@pytest.mark.parametrize("case", ["accepted", "duplicate", "wrong secret", "not json", "too large"])
def test_the_webhook_answers_byte_for_byte_as_the_drf_view_does(client, demo_mappings, monkeypatch, case):
    """The plain view on the webhook's URL sends what DRF's view sends: status, body, headers."""
    monkeypatch.setenv("SYNC_WEBHOOK_MAX_BYTES", "3000")
    body = {"not json": b"{", "too large": b" " * 3001}.get(case, fixture_body("rows.created__projet"))
    secret = "wrong" if case == "wrong secret" else SECRET
    drf_view = BaserowWebhookView.as_view()

    def drf_answer():
        request = RequestFactory().post(URL, body, content_type="application/json", HTTP_X_FORMATION_HUB_SECRET=secret)
        response = drf_view(request)
        response.render()
        return response

    expected = drf_answer()
    if case == "duplicate":
        expected = drf_answer()  # the delivery is stored: both views answer the duplicate
    else:
        Event.objects.all().delete()  # the plain view stores it anew
    answer = client.post(URL, body, content_type="application/json", HTTP_X_FORMATION_HUB_SECRET=secret)
    assert answer.status_code == expected.status_code
    assert answer.content == (b'{"id":%d}' % Event.objects.get().pk if case == "accepted" else expected.content)
    for header in ("Content-Type", "Allow", "Retry-After"):
        assert answer.headers.get(header) == expected.headers.get(header)


def test_other_methods_on_the_webhook_are_drf_json_refusals(client):
    answer = client.get(URL)
    assert answer.status_code == 405
    assert answer.json()["error"] == 'Method "GET" not allowed.'
    assert answer.headers["Allow"] == "POST, OPTIONS"


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def test_a_projet_row_costs_at_most_thirteen_sql_statements_in_the_worker(bridge):
    """The event and item claims, one entity look (older items, loop counts, open circuits), the page link
    lookup, the creation record, the link, the item's outcome (which also finds an item waiting behind it),
    its HTTP calls, the event's outcome and the audit chain's end and INSERT; PostgreSQL adds the chain's
    lock. Transaction control (BEGIN, COMMIT) is not counted."""
    bridge.create_row(601, {"nom": "Compte 1", "client": [ACME]})  # the first also logs in and reads the template
    bridge.sync()
    bridge.create_row(601, {"nom": "Compte 2", "client": [ACME]})
    bridge.baserow.wait_for_deliveries()
    event = Event.objects.get(table_id=601, event_type="rows.created", state=Event.State.RECEIVED)

    with CaptureQueriesContext(connection) as queries:
        assert process_event(event.pk) == Event.State.PROCESSED
    statements = [query["sql"] for query in queries.captured_queries
                  if not query["sql"].upper().startswith(TRANSACTION_CONTROL)]
    assert len(statements) <= (13 if connection.vendor == "postgresql" else 12), "\n".join(statements)
    assert len(bridge.pages("Projet Compte 2")) == 1
    assert AuditEntry.objects.filter(object_id=str(event.pk), action="sync.event.processed").exists()


def test_items_waiting_for_a_circuit_whose_probe_is_overdue_are_each_looked_at_once(demo_mappings, without_rules):
    """Such an item is due again at once: the worker moves on to the next item and ends the pass."""
    calls = []

    def handler(item, mapping):
        calls.append(item.row_id)
        return "ok"

    handler.services = ("docmost",)
    register_handler("projet", "rows.created", handler)
    ServiceCircuit.objects.create(service="docmost", state=ServiceCircuit.State.OPEN, opened_at=timezone.now(),
                                  next_probe_at=timezone.now() - timedelta(minutes=1))
    event = EventFactory(row_count=2)
    for position in range(2):
        EventItemFactory(event=event, position=position, row_id=100 + position, data={"id": 100 + position})

    assert process_event(event.pk) == Event.State.FAILED
    assert calls == []
    assert set(event.items.values_list("state", flat=True)) == {EventItem.State.WAITING}
