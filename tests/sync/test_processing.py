"""The processing skeleton: claim, route, outcome per item, sweeper, replay."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from formation_hub.audit import audit_entries_for
from formation_hub.errors import DomainError
from formation_hub.schedules import ensure_schedules
from sync.clients.errors import PermanentFailure
from sync.demo import load_demo_sync
from sync.models import Event, EventItem
from sync.processing.enqueue import events_sweep
from sync.processing.pipeline import event_process, event_replay
from sync.processing.routing import IgnoreItem, register_handler
from sync.tasks import process_event, sweep_events
from tests.sync.factories import EventFactory, EventItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def projet_created_handler(without_rules):
    """Registers a handler for (projet, rows.created) whose behaviour each row's 'nom' chooses."""
    calls = []

    def handler(item, mapping):
        calls.append(item.row_id)
        behaviour = item.data.get("nom")
        if behaviour == "ignore":
            raise IgnoreItem("nothing to do")
        if behaviour == "permanent":
            raise PermanentFailure("Docmost answered 400: title too long")
        if behaviour == "boom":
            raise ConnectionError("Docmost unreachable")
        return f"page created for {mapping.logical_table} {item.row_id}"

    register_handler("projet", "rows.created", handler)
    return calls


def make_event(*names, **fields):
    event = EventFactory(**fields)
    for position, name in enumerate(names):
        row_id = 100 + position
        EventItemFactory(event=event, position=position, row_id=row_id, data={"id": row_id, "nom": name})
    return event


def test_without_a_handler_each_item_ends_ignored_no_rule(demo_mappings, without_rules):
    event = make_event("a", "b")
    event = event_process(event_id=event.pk)
    assert event.state == Event.State.IGNORED
    assert set(event.items.values_list("reason", flat=True)) == {"no rule for projet rows.created"}
    assert event.reason == "no rule for projet rows.created"


def test_each_item_gets_its_own_outcome(demo_mappings, projet_created_handler):
    event = make_event("ok", "ignore", "permanent", "boom")
    event = event_process(event_id=event.pk)
    states = dict(event.items.values_list("row_id", "state"))
    assert states == {100: "processed", 101: "ignored", 102: "dead", 103: "failed"}
    failed = event.items.get(row_id=103)
    assert failed.attempts == 1 and failed.next_attempt_at > timezone.now()
    assert "ConnectionError" in failed.reason and "Traceback" in failed.last_error
    assert event.state == Event.State.DEAD
    assert event.items.get(row_id=100).reason == "page created for projet 100"
    actions = [entry.action for entry in audit_entries_for(event)]
    assert sorted(actions) == sorted(
        ["sync.item.processed", "sync.item.ignored", "sync.item.dead", "sync.item.failed", "sync.event.processed"]
    )


def test_a_failed_item_retries_when_due_and_goes_dead_only_past_the_maximum_age(demo_mappings,
                                                                                 projet_created_handler):
    event = make_event("ok", "boom")
    assert event_process(event_id=event.pk).state == Event.State.FAILED
    assert event_process(event_id=event.pk).state == Event.State.FAILED  # not due yet: nothing runs
    assert projet_created_handler == [100, 101]
    EventItem.objects.filter(state="failed").update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    event = event_process(event_id=event.pk)
    assert projet_created_handler == [100, 101, 101]  # the processed row is never run again
    assert event.state == Event.State.FAILED and event.items.get(row_id=101).attempts == 2
    EventItem.objects.filter(state="failed").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1), created_at=timezone.now() - timedelta(hours=25)
    )
    event = event_process(event_id=event.pk)
    assert projet_created_handler == [100, 101, 101]
    assert event.state == Event.State.DEAD
    assert event.items.get(row_id=101).reason == "gave up: not done 24 h after it arrived"


def test_an_event_being_processed_cannot_be_claimed_again(demo_mappings):
    event = make_event("a", state=Event.State.PROCESSING, claimed_at=timezone.now())
    assert event_process(event_id=event.pk) is None
    assert process_event(event.pk) == "not claimed"
    assert event.items.get().state == EventItem.State.PENDING


def test_a_processed_event_is_not_run_again(demo_mappings, projet_created_handler):
    event = make_event("ok")
    event_process(event_id=event.pk)
    assert event_process(event_id=event.pk) is None
    assert projet_created_handler == [100]


def test_a_claim_older_than_the_stuck_delay_can_be_taken_over(demo_mappings, projet_created_handler):
    event = make_event("ok", state=Event.State.PROCESSING, claimed_at=timezone.now() - timedelta(hours=1))
    assert event_process(event_id=event.pk).state == Event.State.PROCESSED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_event_run_it_once(demo_mappings, without_rules):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    calls = []
    register_handler("projet", "rows.created", lambda item, mapping: calls.append(item.row_id))
    event = make_event("a")
    barrier = threading.Barrier(6)
    results = []

    def work():
        barrier.wait()
        results.append(process_event(event.pk))
        connection.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [100]
    assert sorted(results) == ["not claimed"] * 5 + ["processed"]


def test_a_crash_outside_the_handlers_leaves_the_event_failed_with_its_traceback(demo_mappings, monkeypatch):
    event = make_event("a")

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("sync.processing.pipeline._finish", broken)
    with pytest.raises(RuntimeError):
        event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.state == Event.State.FAILED
    assert "database hiccup" in event.last_error and "Traceback" in event.last_traceback


def test_sweeper_enqueues_an_event_stored_but_never_enqueued():
    event = make_event("a", enqueued_at=None, received_at=timezone.now() - timedelta(minutes=2))
    fresh = make_event("b", enqueued_at=None)  # its on-commit enqueue may still be running
    done = make_event("c", enqueued_at=None, state=Event.State.PROCESSED,
                      received_at=timezone.now() - timedelta(minutes=2))
    assert sweep_events() == 1
    event.refresh_from_db()
    assert event.enqueued_at is not None and event.enqueue_count == 1
    assert OrmQ.objects.count() == 1
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert fresh.enqueued_at is None and done.enqueued_at is None
    assert [entry.action for entry in audit_entries_for(event)] == ["sync.event.requeued"]


def test_sweeper_enqueues_stuck_events_and_due_retries():
    long_ago = timezone.now() - timedelta(hours=1)
    queued_long_ago = make_event("a", enqueued_at=long_ago, received_at=long_ago)
    claimed_long_ago = make_event("b", state=Event.State.PROCESSING, claimed_at=long_ago)
    retry_due = make_event("c", state=Event.State.FAILED)
    retry_due.items.update(state=EventItem.State.FAILED, next_attempt_at=timezone.now() - timedelta(seconds=1))
    retry_later = make_event("d", state=Event.State.FAILED)
    retry_later.items.update(state=EventItem.State.FAILED, next_attempt_at=timezone.now() + timedelta(minutes=5))
    make_event("e")  # queued a moment ago: left alone
    assert events_sweep() == 3
    swept = set(Event.objects.filter(enqueue_count=1).values_list("pk", flat=True))
    assert swept == {queued_long_ago.pk, claimed_long_ago.pk, retry_due.pk}


def test_replay_reruns_only_what_did_not_succeed(demo_mappings, projet_created_handler, make_user):
    event = make_event("ok", "ignore", "permanent", "boom")
    event_process(event_id=event.pk)
    admin = make_user("ada", "admin")
    OrmQ.objects.all().delete()
    assert event_replay(event=event, user=admin) == 3
    event.refresh_from_db()
    assert event.state == Event.State.RECEIVED and OrmQ.objects.count() == 1
    assert dict(event.items.values_list("row_id", "state")) == {
        100: "processed", 101: "pending", 102: "pending", 103: "pending"
    }
    event_process(event_id=event.pk)
    assert projet_created_handler == [100, 101, 102, 103, 101, 102, 103]
    replayed = audit_entries_for(event).get(action="sync.event.replayed")
    assert replayed.actor == admin and replayed.changes["items"] == 3


def test_replay_after_the_mapping_is_added_routes_the_items(projet_created_handler, make_user):
    event = make_event("ok")
    assert event_process(event_id=event.pk).reason == "Baserow table 601 is not mapped"
    load_demo_sync()
    event_replay(event=event, user=make_user("ada", "admin"))
    event = event_process(event_id=event.pk)
    assert event.state == Event.State.PROCESSED and event.mapping.logical_table == "projet"


def test_replay_refuses_when_everything_succeeded_or_while_processing(demo_mappings, projet_created_handler,
                                                                      make_user):
    admin = make_user("ada", "admin")
    event = make_event("ok")
    event_process(event_id=event.pk)
    with pytest.raises(DomainError, match="every item was processed"):
        event_replay(event=event, user=admin)
    busy = make_event("ok", state=Event.State.PROCESSING, claimed_at=timezone.now())
    with pytest.raises(DomainError, match="being processed right now"):
        event_replay(event=busy, user=admin)
    queued = make_event("ok")
    with pytest.raises(DomainError, match="already queued for a worker"):
        event_replay(event=queued, user=admin)


def test_with_the_redis_broker_the_job_is_enqueued_once_the_event_is_committed(
    settings, post_webhook, django_capture_on_commit_callbacks, demo_mappings, projet_created_handler
):
    settings.Q_CLUSTER = {**{k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}, "redis": "redis://x:6379/0"}
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_webhook("rows.created__projet")
    event = Event.objects.get(pk=response.json()["id"])
    # Marked queued in the insert itself (no second write at ingest); the push follows the commit.
    assert event.enqueued_at is not None and event.enqueue_count == 1 and not OrmQ.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()
    assert OrmQ.objects.count() == 1


def test_an_item_waits_behind_the_older_item_of_its_row_and_runs_as_soon_as_that_one_is_done(
    demo_mappings, projet_created_handler
):
    older, middle, newer = make_event("first"), make_event("second"), make_event("third")  # the same row (100)

    for event in (newer, middle):
        assert process_event(event.pk) == Event.State.FAILED
        item = event.items.get()
        assert item.state == EventItem.State.WAITING
        assert item.reason.startswith(f"waiting behind older item #{older.items.get().pk}")
        assert item.next_attempt_at > timezone.now() + timedelta(seconds=20)
    OrmQ.objects.all().delete()

    # Each one done wakes the oldest waiting behind it (never itself, though it was waiting too).
    for done, woken in ((older, middle), (middle, newer)):
        assert process_event(done.pk) == Event.State.PROCESSED
        assert woken.items.get().next_attempt_at <= timezone.now()
        assert [task.task["args"] for task in OrmQ.objects.all()] == [(woken.pk,)]
        OrmQ.objects.all().delete()
    assert process_event(newer.pk) == Event.State.PROCESSED
    assert projet_created_handler == [100, 100, 100]


def test_an_item_of_another_row_or_not_waiting_behind_is_not_woken(demo_mappings, projet_created_handler):
    done = make_event("first")
    other_row = EventFactory()
    EventItemFactory(event=other_row, position=0, row_id=999, state=EventItem.State.WAITING,
                     reason="waiting behind older item #1", next_attempt_at=timezone.now() + timedelta(minutes=5))
    same_row_failed = EventFactory()
    EventItemFactory(event=same_row_failed, position=0, row_id=100, state=EventItem.State.FAILED,
                     reason="boom", next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert process_event(done.pk) == Event.State.PROCESSED
    assert not OrmQ.objects.exists()
    assert all(item.next_attempt_at > timezone.now() for item in EventItem.objects.exclude(event=done))


def test_the_sweeper_is_a_registered_schedule():
    ensure_schedules()
    assert Schedule.objects.get(name="sync: sweep stored events").func == "sync.tasks.sweep_events"


def test_a_long_event_renews_its_claim_after_each_item_so_the_sweeper_does_not_hand_it_on(demo_mappings,
                                                                                            without_rules):
    seen = []

    def handler(item, mapping):
        seen.append(Event.objects.get(pk=item.event_id).claimed_at)
        return "ok"

    register_handler("projet", "rows.created", handler)
    event = make_event("a", "b", "c")
    event_process(event_id=event.pk)
    assert seen[0] < seen[1] < seen[2]


def test_an_item_another_worker_claimed_or_finished_meanwhile_is_not_run_again(demo_mappings, without_rules):
    calls = []

    def handler(item, mapping):
        calls.append(item.row_id)
        if item.row_id == 100:  # meanwhile a second worker finished row 101 and is running row 102
            EventItem.objects.filter(event=item.event, row_id=101).update(state=EventItem.State.PROCESSED)
            EventItem.objects.filter(event=item.event, row_id=102).update(claimed_at=timezone.now())
        return "ok"

    register_handler("projet", "rows.created", handler)
    event = make_event("a", "b", "c", "d")
    event_process(event_id=event.pk)
    assert calls == [100, 103]


def test_a_worker_whose_event_was_taken_over_stops_after_its_current_item(demo_mappings, without_rules):
    calls = []

    def handler(item, mapping):
        calls.append(item.row_id)
        Event.objects.filter(pk=item.event_id).update(claimed_at=timezone.now() + timedelta(seconds=1))
        return "ok"

    register_handler("projet", "rows.created", handler)
    event = make_event("a", "b")
    event_process(event_id=event.pk)
    assert calls == [100]
    assert EventItem.objects.get(event=event, row_id=101).state == EventItem.State.PENDING


@pytest.fixture
def counted_brokers(monkeypatch):
    from sync.processing import enqueue as processing

    made = []

    def get_broker():
        made.append(real_get_broker())
        return made[-1]

    real_get_broker = processing.get_broker
    processing._broker.cache_clear()
    monkeypatch.setattr(processing, "get_broker", get_broker)
    monkeypatch.setattr("django_q.tasks.get_broker", get_broker)
    yield made
    processing._broker.cache_clear()


def test_every_enqueue_of_the_process_reuses_one_broker(demo_mappings, counted_brokers):
    from sync.processing.enqueue import event_enqueue

    before = OrmQ.objects.count()
    for event in (EventFactory(), EventFactory(), EventFactory()):
        event_enqueue(event=event)
    assert len(counted_brokers) == 1
    assert OrmQ.objects.count() == before + 3
    assert {task.func() for task in OrmQ.objects.order_by("pk")[before:]} == {"sync.tasks.process_event"}
