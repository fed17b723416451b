"""The ops console pages of the sync app, the landing panel, and trace_event."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from formation_hub.console.dashboard import panels
from sync.admin.display import EstimatedCountPaginator
from sync.models import Event, EventItem, LoopAlert, TableMapping
from sync.processing.pipeline import event_process, event_replay
from tests.sync.factories import EventFactory, EventItemFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_rules")]


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("ada", "admin", is_superuser=True))
    return client


def make_events(count, **fields):
    events = []
    for _ in range(count):
        event = EventFactory(**fields)
        EventItemFactory(event=event, position=0)
        events.append(event)
    return events


def test_events_list_shows_counts_per_state_without_a_query_per_row(admin_client, demo_mappings,
                                                                    django_assert_max_num_queries):
    make_events(3, state=Event.State.FAILED)
    make_events(2, state=Event.State.DEAD, table_id=999)
    make_events(20)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:sync_event_changelist"))
    assert response.status_code == 200
    text = response.content.decode()
    assert re.search(r"failed, will retry: <strong>3</strong>", text)
    assert re.search(r"dead, needs an admin: <strong>2</strong>", text)
    assert "projet (601)" in text and "999 (not mapped)" in text
    assert "(Europe/Paris)" in text


def test_events_list_filters_and_search(admin_client, demo_mappings):
    failed = make_events(1, state=Event.State.FAILED, event_type="rows.deleted")[0]
    other = make_events(1, table_id=607)[0]
    url = reverse("admin:sync_event_changelist")
    assert admin_client.get(url, {"state__exact": "failed"}).context["cl"].result_count == 1
    assert list(admin_client.get(url, {"table": "607"}).context["cl"].result_list) == [other]
    assert list(admin_client.get(url, {"event_type": "rows.deleted"}).context["cl"].result_list) == [failed]
    assert list(admin_client.get(url, {"q": failed.event_id}).context["cl"].result_list) == [failed]
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    by_date = admin_client.get(url, {"received_at__gte": str(midnight),
                                     "received_at__lt": str(midnight + timedelta(days=1))})
    assert by_date.context["cl"].result_count == 2


def test_events_list_counts_only_the_states_someone_acts_on_and_items_per_row(admin_client, demo_mappings):
    event = make_events(1, state=Event.State.FAILED)[0]
    EventItemFactory(event=event, position=1, state=EventItem.State.PROCESSED)
    make_events(2, state=Event.State.PROCESSED)
    response = admin_client.get(reverse("admin:sync_event_changelist"))
    text = response.content.decode()
    assert "failed, will retry: <strong>1</strong>" in text
    assert "received, waiting for a worker: <strong>0</strong>" in text
    assert "processed: <strong>" not in text
    assert "1/2 done" in text and "0/1 done" in text
    assert response.context["cl"].date_hierarchy is None


def test_events_list_offers_the_known_event_types_without_reading_the_table(admin_client, demo_mappings):
    make_events(1, event_type="rows.created")
    response = admin_client.get(reverse("admin:sync_event_changelist"))
    type_filter = next(spec for spec in response.context["cl"].filter_specs if spec.title == "event type")
    offered = [choice["display"] for choice in type_filter.choices(response.context["cl"])]
    assert {"rows.created", "rows.deleted", "field.updated", "page.created", "share.created"} <= set(offered)


def test_event_page_shows_the_payload_items_and_audit_entries_read_only(admin_client, post_webhook, demo_mappings):
    event_id = post_webhook("rows.created__projet").json()["id"]
    event_replay(event=Event.objects.get(pk=event_id), user=None)
    event_process(event_id=event_id)
    response = admin_client.get(reverse("admin:sync_event_change", args=[event_id]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "&quot;nom&quot;: &quot;Refonte du site é&quot;" in text  # pretty-printed, unescaped
    assert "no rule for projet rows.created" in text
    assert "sync.event.processed" in text and "sync.item.ignored" in text
    assert 'name="_save"' not in text
    assert admin_client.post(reverse("admin:sync_event_change", args=[event_id]), {}).status_code == 403
    assert admin_client.get(reverse("admin:sync_event_add")).status_code == 403


def test_replay_action_queues_what_did_not_succeed(admin_client, post_webhook, demo_mappings):
    event_id = post_webhook("rows.created__unmapped_table").json()["id"]
    assert Event.objects.get(pk=event_id).reason == "Baserow table 999 is not mapped"
    bloc = TableMapping.objects.get(logical_table="bloc")
    bloc.baserow_table_id = 999
    bloc.save()
    response = admin_client.post(
        reverse("admin:sync_event_changelist"), {"action": "replay_events", "_selected_action": [event_id]},
        follow=True,
    )
    assert "1 item(s) queued again." in response.content.decode()
    event = event_process(event_id=event_id)
    assert event.reason == "no rule for bloc rows.created"


def test_event_page_replay_button_queues_the_event_again(admin_client, post_webhook, demo_mappings):
    event_id = post_webhook("rows.created__projet").json()["id"]
    event_process(event_id=event_id)
    page = admin_client.get(reverse("admin:sync_event_change", args=[event_id])).content.decode()
    replay_url = reverse("admin:sync_event_replay", args=[event_id])
    assert f'action="{replay_url}"' in page
    assert admin_client.get(replay_url).status_code == 405
    response = admin_client.post(replay_url, follow=True)
    assert "1 item(s) queued again." in response.content.decode()
    assert Event.objects.get(pk=event_id).state == Event.State.RECEIVED
    response = admin_client.post(replay_url, follow=True)
    assert f"Event #{event_id} is already queued for a worker" in response.content.decode()


def test_replay_button_is_refused_to_non_admins(client, make_user, demo_mappings):
    event = make_events(1)[0]
    client.force_login(make_user("olga", "oncall"))
    replay_url = reverse("admin:sync_event_replay", args=[event.pk])
    assert replay_url not in client.get(reverse("admin:sync_event_change", args=[event.pk])).content.decode()
    assert client.post(replay_url).status_code == 403


def test_replay_action_is_offered_only_to_admins(client, make_user, demo_mappings):
    make_events(1)
    client.force_login(make_user("olga", "oncall"))
    response = client.get(reverse("admin:sync_event_changelist"))
    assert response.status_code == 200
    assert "replay_events" not in response.content.decode()


def test_table_mappings_show_the_last_delivery_and_flag_silent_tables(admin_client, demo_mappings,
                                                                      django_assert_max_num_queries):
    EventFactory(table_id=601, received_at=timezone.now() - timedelta(minutes=5))
    EventFactory(table_id=602, received_at=timezone.now() - timedelta(days=3))
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:sync_tablemapping_changelist"))
    text = response.content.decode()
    assert text.count("silent for more than") == 1  # 602 is old; the six others never received one: not silent
    assert text.count('<td class="field-last_delivery">never</td>') == 6
    assert "(Europe/Paris)" in text


def test_configuration_is_editable_by_admins_and_shows_whether_the_secret_is_set(admin_client, demo_mappings,
                                                                                 monkeypatch):
    monkeypatch.setenv("BASEROW_DATABASE_TOKEN", "tok")
    response = admin_client.get(reverse("admin:sync_baserowconnection_changelist"))
    assert "BASEROW_DATABASE_TOKEN: set" in response.content.decode()
    mapping = TableMapping.objects.get(logical_table="projet")
    response = admin_client.get(reverse("admin:sync_tablemapping_change", args=[mapping.pk]))
    assert 'name="_save"' in response.content.decode()


def test_landing_page_shows_the_sync_health_panel(admin_client, demo_mappings, post_webhook):
    post_webhook("rows.created__projet", secret="wrong")
    make_events(2, state=Event.State.DEAD)
    response = admin_client.get(reverse("admin:index"))
    text = response.content.decode()
    assert "Sync health" in text
    assert "1 last hour, 1 in all" in text
    assert re.search(r"Dead \(needs an admin\)</th><td class=\"ops-bad\"><a [^>]*>2</a>", text)


def test_sync_health_panel_counts_with_a_bounded_number_of_queries(demo_mappings, post_webhook, rf,
                                                                 django_assert_max_num_queries):
    post_webhook("rows.created__projet", secret="wrong")
    make_events(2, state=Event.State.DEAD)
    make_events(3, state=Event.State.FAILED, received_at=timezone.now() - timedelta(hours=2))
    panel = next(panel for panel in panels() if panel.name == "sync_health")
    with django_assert_max_num_queries(9):
        context = panel.context(rf.get("/admin/"))
    assert (context["last_hour"], context["dead"], context["failed"]) == (2, 2, 3)
    assert context["rejected"] == {"total": 1, "last_hour": 1}
    assert context["queue_depth"] == 0
    assert context["silent_tables"] == []  # projet (601) just received deliveries, the others none yet
    assert len(context["never_received"]) == 7
    html = render_to_string(panel.template, {"panel": context})
    assert "1 last hour, 1 in all" in html and "?state__exact=dead" in html
    assert context["open_circuits"] == [] and context["loop_alerts"] == [] and context["waiting_items"] == 0


def test_trace_event_prints_the_story(post_webhook, demo_mappings):
    event_id = post_webhook("rows.deleted").json()["id"]
    event_replay(event=Event.objects.get(pk=event_id), user=None)
    event_process(event_id=event_id)
    out = StringIO()
    call_command("trace_event", "9d2c4b6a-1e3f-4a5b-8c7d-6e5f4a3b2c1d", "--payload", stdout=out)
    text = out.getvalue()
    assert f"Event #{event_id}: rows.deleted on table projet (601)" in text
    assert "webhook 31, event 9d2c4b6a-1e3f-4a5b-8c7d-6e5f4a3b2c1d, batch 0" in text
    assert "- row 1043: ignored (no rule for projet rows.deleted), 1 attempt(s)" in text
    assert "sync-worker sync.event.processed [ok]" in text
    assert '"row_ids": [' in text
    out = StringIO()
    call_command("trace_event", f"#{event_id}", stdout=out)
    assert "rows.deleted" in out.getvalue()


def test_trace_event_of_an_unknown_id_says_what_to_give():
    with pytest.raises(CommandError, match="No stored event"):
        call_command("trace_event", "nope")


def test_items_list_has_no_query_per_row(admin_client, demo_mappings, django_assert_max_num_queries):
    make_events(15, state=Event.State.FAILED)
    EventItem.objects.update(state=EventItem.State.FAILED)
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:sync_eventitem_changelist"), {"state__exact": "failed"})
    assert response.context["cl"].result_count == 15


def test_sync_health_panel_links_its_list_and_needs_attention_for_dead_events_silent_tables_and_loops(
        admin_client, demo_mappings):
    make_events(2, state=Event.State.DEAD)
    make_events(3, state=Event.State.FAILED)
    make_events(1, state=Event.State.RECEIVED)
    LoopAlert.objects.create(entity_key="baserow:601:1", event_count=40, first_event_at=timezone.now(),
                             detected_at=timezone.now())
    LoopAlert.objects.create(entity_key="baserow:601:2", event_count=40, first_event_at=timezone.now(),
                             detected_at=timezone.now(), resolved_at=timezone.now())
    response = admin_client.get(reverse("admin:index"))
    panel = next(item for item in response.context["panels"] if item.panel.name == "sync_health")
    silent = len(panel.context["silent_tables"])
    assert silent == 0  # projet (601) just received the events; a table that never received one is not silent
    assert panel.attention == 2 + silent + 1  # failed events retry by themselves: not counted
    events_url = reverse("admin:sync_event_changelist")
    text = response.content.decode()
    assert f'<h2 id="panel-sync_health-title"><a href="{events_url}">Sync health</a>' in text
    assert f'title="needs you now">{2 + silent + 1}</span>' in text
    assert f'<a href="{events_url}?state__exact=received">1 event(s)</a>' in text


def test_sync_health_panel_needs_nothing_when_all_is_well(rf, admin_user):
    TableMapping.objects.all().delete()
    make_events(3, state=Event.State.PROCESSED)
    make_events(1, state=Event.State.FAILED)
    request = rf.get("/admin/")
    request.user = admin_user
    context = next(panel for panel in panels() if panel.name == "sync_health").context(request)
    assert context["attention"] == 0
    assert context["list_url"] == reverse("admin:sync_event_changelist")


def test_events_per_hour_chart_counts_the_last_24_hours_by_state(admin_client):
    make_events(2, state=Event.State.PROCESSED)
    make_events(1, state=Event.State.DEAD)
    make_events(4, state=Event.State.PROCESSED, received_at=timezone.now() - timedelta(hours=30))
    response = admin_client.get(reverse("admin:index"))
    panel = next(item for item in response.context["panels"] if item.panel.name == "sync_events_per_hour")
    assert panel.list_url == reverse("admin:sync_event_changelist")
    assert len(panel.context["rows"]) == 24
    segments = panel.context["segments"]
    totals = [sum(row[1][index] or 0 for row in panel.context["rows"]) for index in range(len(segments))]
    assert dict(zip(segments, totals, strict=True))["processed"] == 2
    assert dict(zip(segments, totals, strict=True))["dead"] == 1
    text = response.content.decode()
    assert "Sync events per hour (24 h)" in text and "<svg" in text
    assert "(Europe/Paris)</th>" in text  # each hour of the figures table names the zone


@pytest.mark.postgres
def test_events_list_takes_an_unfiltered_count_from_the_planner_and_counts_filtered_lists(admin_client,
                                                                                        demo_mappings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's statistics")
    make_events(3, state=Event.State.FAILED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_event")
    make_events(2)
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_over", 0)
    url = reverse("admin:sync_event_changelist")
    assert admin_client.get(url).context["cl"].result_count == 3  # the planner's figure, not a count(*)
    assert admin_client.get(url, {"state__exact": "received"}).context["cl"].result_count == 2
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_over", 10_000)
    assert admin_client.get(url).context["cl"].result_count == 5  # a small table is counted


def test_a_fresh_install_does_not_flag_tables_that_never_received_a_delivery(admin_client, demo_mappings):
    text = admin_client.get(reverse("admin:index")).content.decode()
    panel = text.split('id="panel-sync_health"')[1].split("</section>")[0]
    assert "ops-panel-attention" not in text.split('id="panel-sync_health"')[0].rsplit("<section", 1)[1]
    assert 'title="needs you now"' not in panel
    assert "No delivery received yet: attribution, bloc" in panel
    assert "last delivery -" not in panel
