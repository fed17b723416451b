"""Post-mortems, action items, runbooks and escalations on the on-call pages and in the console."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from formation_hub.dev.demo import load_demo_users
from incidents.demo import load_demo_incidents
from incidents.models import ActionItem, Incident, PostMortem, RecurrenceEscalation, Runbook, TimelineEntry
from incidents.postmortems.action_items import action_item_add
from incidents.services import incident_open, incident_transition
from tests.incidents.factories import ActionItemFactory, PostMortemFactory, RunbookFactory

pytestmark = pytest.mark.django_db

HOSTILE = (
    "<script>alert('x')</script>\n\n[click me](javascript:alert(1))\n\n<img src=x onerror=alert(2)>\n\n**bold**"
)


def assert_safe(body: str) -> None:
    """The rendered text is there; nothing hostile is live (a textarea may show it escaped)."""
    assert "<script>alert" not in body
    assert not re.search(r"href=[\"']?\s*javascript:", body, re.IGNORECASE)
    assert not re.search(r"<[^>]*\bonerror", body, re.IGNORECASE)
    assert "<strong>bold</strong>" in body


@pytest.fixture
def resolved(responder):
    incident = incident_open(title="Baserow down", severity="SEV2", source="oncall_form", service="baserow",
                             category="down")
    for status in ["triaged", "investigating", "resolved"]:
        incident = incident_transition(incident=incident, to_status=status, user=responder)
    return incident


@pytest.fixture
def post_mortem(resolved):
    return PostMortem.objects.get(incident=resolved)


@pytest.fixture
def oncall_client(client, responder):
    client.force_login(responder)
    return client


def test_the_six_runbooks_of_the_playbook_ship_as_initial_data():
    runbooks = {runbook.slug: runbook for runbook in Runbook.objects.all()}
    assert set(runbooks) >= {
        "docmost-down", "baserow-down", "disk-full", "postgres-corrupted", "restore-from-backup", "rotate-secrets",
    }
    for slug in ["docmost-down", "baserow-down", "disk-full", "postgres-corrupted", "restore-from-backup",
                 "rotate-secrets"]:
        runbook = runbooks[slug]
        for name, _label in Runbook.SECTIONS:
            assert len(getattr(runbook, name)) > 80, f"{slug}.{name} is too thin"


def test_writing_a_post_mortem_on_the_oncall_page(oncall_client, post_mortem, reviewer, client):
    url = reverse("incidents:postmortem", args=[post_mortem.pk])
    body = oncall_client.get(url).content.decode()
    assert "detection" in body and "Download" in body
    data = {name: getattr(post_mortem, name) for name in ["timeline", "downtime", "users_affected", "data_loss"]}
    data.update(root_cause="The **proxy** lost its upstream.", monitoring_gap="Blind spot.",
                lessons_learned="Check the proxy.", estimated_cost="")
    response = oncall_client.post(url, data, follow=True)
    assert "Post-mortem saved." in response.content.decode()
    assert "<strong>proxy</strong>" in response.content.decode()
    oncall_client.post(reverse("incidents:postmortem_submit", args=[post_mortem.pk]))
    refused = oncall_client.post(reverse("incidents:postmortem_publish", args=[post_mortem.pk]), follow=True)
    assert "You wrote parts of this post-mortem" in refused.content.decode()
    post_mortem.refresh_from_db()
    assert post_mortem.state == "in_review"
    oncall_client.logout()
    oncall_client.force_login(reviewer)
    oncall_client.post(reverse("incidents:postmortem_publish", args=[post_mortem.pk]))
    post_mortem.refresh_from_db()
    assert post_mortem.state == "published"


def test_hostile_markdown_is_shown_safely_everywhere(oncall_client, post_mortem, admin_user, client):
    PostMortem.objects.filter(pk=post_mortem.pk).update(root_cause=HOSTILE, lessons_learned=HOSTILE)
    assert_safe(oncall_client.get(reverse("incidents:postmortem", args=[post_mortem.pk])).content.decode())
    runbook = RunbookFactory(symptoms=HOSTILE, resolution=HOSTILE)
    assert_safe(oncall_client.get(reverse("incidents:runbook", args=[runbook.slug])).content.decode())
    client.force_login(admin_user)
    assert_safe(client.get(reverse("admin:incidents_postmortem_change", args=[post_mortem.pk])).content.decode())
    assert_safe(client.get(reverse("admin:incidents_runbook_change", args=[runbook.pk])).content.decode())


def test_publishing_too_early_shows_the_reason(oncall_client, post_mortem):
    response = oncall_client.post(reverse("incidents:postmortem_submit", args=[post_mortem.pk]), follow=True)
    assert "before asking for a review" in response.content.decode()


def test_a_viewer_reads_but_does_not_write(client, make_user, post_mortem):
    client.force_login(make_user("vera", "viewer"))
    url = reverse("incidents:postmortem", args=[post_mortem.pk])
    body = client.get(url).content.decode()
    assert 'id="save"' not in body
    response = client.post(url, {"root_cause": "mine"}, follow=True)
    assert "Only on-call people and admins write post-mortems" in response.content.decode()
    assert client.post(reverse("incidents:postmortem_publish", args=[post_mortem.pk])).status_code == 403
    post_mortem.refresh_from_db()
    assert post_mortem.root_cause == ""


def test_adding_and_moving_action_items_on_the_oncall_page(oncall_client, post_mortem, make_user):
    owner = make_user("bruno", "oncall")
    url = reverse("incidents:action_item_add", args=[post_mortem.pk])
    response = oncall_client.post(url, {"description": "", "owner": owner.pk, "due_date": "nope"}, follow=True)
    assert "due date" in response.content.decode() and not ActionItem.objects.exists()
    oncall_client.post(url, {"description": "Alert at 80 % disk", "owner": owner.pk, "due_date": "2026-12-04"})
    item = ActionItem.objects.get()
    assert (item.owner, item.due_date) == (owner, date(2026, 12, 4))
    oncall_client.post(reverse("incidents:action_item_status", args=[item.pk]), {"status": "done"})
    item.refresh_from_db()
    assert item.status == "done"
    response = oncall_client.post(reverse("incidents:action_item_status", args=[item.pk]), {"status": "??"},
                                  follow=True)
    assert "Choose a status" in response.content.decode()


def test_my_action_items_on_the_oncall_pages(oncall_client, post_mortem, responder):
    action_item_add(post_mortem=post_mortem, user=responder, description="Write the disk runbook",
                    owner=responder, due_date=date(2020, 1, 1))
    assert "Write the disk runbook" in oncall_client.get(reverse("incidents:home")).content.decode()
    body = oncall_client.get(reverse("incidents:postmortems")).content.decode()
    assert "Write the disk runbook" in body and "overdue" in body


def test_incident_page_links_runbook_and_suggests_its_review(oncall_client, resolved):
    runbook = Runbook.objects.get(slug="baserow-down")
    detail = reverse("incidents:detail", args=[resolved.pk])
    oncall_client.post(reverse("incidents:runbook_set", args=[resolved.pk]), {"runbook": runbook.pk})
    resolved.refresh_from_db()
    assert resolved.runbook == runbook
    assert resolved.timeline.filter(kind=TimelineEntry.Kind.CHANGE, text="Runbook used: Baserow down").exists()
    body = oncall_client.get(detail).content.decode()
    assert "review the runbook used" in body and "Post-mortem:" in body
    response = oncall_client.post(reverse("incidents:runbook_set", args=[resolved.pk]), {"runbook": "999"},
                                  follow=True)
    assert "runbook" in response.content.decode().lower() and response.status_code == 200


def test_console_suggests_reviewing_the_runbook_until_it_is_reviewed(client, admin_user, resolved):
    runbook = Runbook.objects.get(slug="baserow-down")
    Incident.objects.filter(pk=resolved.pk).update(runbook=runbook)
    client.force_login(admin_user)
    url = reverse("admin:incidents_incident_change", args=[resolved.pk])
    assert "review the runbook used" in client.get(url).content.decode()
    client.post(reverse("admin:incidents_runbook_changelist"),
                {"action": "mark_runbooks_reviewed", "_selected_action": [runbook.pk]})
    runbook.refresh_from_db()
    assert runbook.last_reviewed_at is not None
    assert "review the runbook used" not in client.get(url).content.decode()


def test_console_links_the_runbook_through_the_service(client, admin_user, resolved):
    runbook = Runbook.objects.get(slug="disk-full")
    client.force_login(admin_user)
    url = reverse("admin:incidents_incident_change", args=[resolved.pk])
    response = client.post(url, {
        "title": resolved.title, "description": "", "service": "baserow", "category": "down",
        "runbook": runbook.pk,
        "timeline-TOTAL_FORMS": "0", "timeline-INITIAL_FORMS": "0",
        "status_updates-TOTAL_FORMS": "0", "status_updates-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    resolved.refresh_from_db()
    assert resolved.runbook == runbook
    assert resolved.timeline.filter(text="Runbook used: Disk full").exists()


def test_console_lists_post_mortems_and_action_items_per_owner_and_overdue(
    client, admin_user, make_user, django_assert_max_num_queries
):
    bruno = make_user("bruno", "oncall")
    yesterday = timezone.localdate() - timedelta(days=2)
    for index in range(15):
        ActionItemFactory(description=f"late {index}", owner=bruno, due_date=yesterday)
    ActionItemFactory(description="future item", owner=admin_user, due_date=yesterday + timedelta(days=30))
    ActionItemFactory(description="done item", owner=bruno, due_date=yesterday, status="done")
    PostMortemFactory(title="overdue one", due_at=timezone.now() - timedelta(days=1))
    client.force_login(admin_user)
    items_url = reverse("admin:incidents_actionitem_changelist")
    with django_assert_max_num_queries(14):
        body = client.get(items_url + "?overdue=yes").content.decode()
    assert "late 14" in body and "future item" not in body and "done item" not in body
    body = client.get(items_url + "?mine=yes").content.decode()
    assert "future item" in body and "late 1" not in body
    assert "late 3" in client.get(items_url + f"?owner__id__exact={bruno.pk}").content.decode()
    with django_assert_max_num_queries(14):
        body = client.get(reverse("admin:incidents_postmortem_changelist") + "?overdue=yes").content.decode()
    assert "overdue one" in body


def test_console_actions_move_action_items(client, admin_user):
    item = ActionItemFactory()
    client.force_login(admin_user)
    client.post(reverse("admin:incidents_actionitem_changelist"),
                {"action": "mark_items_done", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == "done"


def test_landing_page_panel_lists_overdue_post_mortems_and_action_items(client, admin_user):
    PostMortemFactory(title="Late post-mortem", due_at=timezone.now() - timedelta(days=1))
    ActionItemFactory(description="Late item", due_date=timezone.localdate() - timedelta(days=3))
    client.force_login(admin_user)
    body = client.get(reverse("admin:index")).content.decode()
    assert "Overdue post-mortems and action items" in body
    assert "Late post-mortem" in body and "Late item" in body
    assert reverse("admin:incidents_postmortem_changelist") + "?overdue=yes" in body
    assert reverse("admin:incidents_actionitem_changelist") + "?overdue=yes" in body


def test_an_admin_acknowledges_an_escalation_in_the_console(client, admin_user, make_user):
    for _ in range(3):
        incident_open(title="Sync stuck", severity="SEV3", source="oncall_form", service="sync", category="stuck")
    escalation = RecurrenceEscalation.objects.get()
    url = reverse("admin:incidents_recurrenceescalation_change", args=[escalation.pk])
    client.force_login(make_user("olga2", "oncall"))
    assert client.post(url, {"decision": "accept", "decision_notes": "meh"}).status_code == 403
    client.force_login(admin_user)
    body = client.get(url).content.decode()
    assert "Sync stuck" in body
    response = client.post(url, {"decision": "", "decision_notes": ""})
    assert response.status_code == 200 and "Choose what was decided" in response.content.decode()
    client.post(url, {"decision": "refactor", "decision_notes": "Rewrite the queue consumer by January."})
    escalation.refresh_from_db()
    assert escalation.state == "acknowledged" and escalation.acknowledged_by == admin_user
    assert client.get(reverse("admin:incidents_recurrenceescalation_changelist")).status_code == 200


def test_runbook_pages(oncall_client):
    assert "Disk full" in oncall_client.get(reverse("incidents:runbooks")).content.decode()
    body = oncall_client.get(reverse("incidents:runbook", args=["disk-full"])).content.decode()
    assert "Symptoms" in body and "Rollback / escalation" in body and "<code>df -h</code>" in body
    assert oncall_client.get(reverse("incidents:runbook", args=["nope"])).status_code == 404


def test_demo_has_a_resolved_sev2_with_its_post_mortem_and_action_items():
    load_demo_users()
    first = load_demo_incidents()
    second = load_demo_incidents()
    assert "post-mortem 'Disk full on the database host' (in review)" in first
    assert "post-mortem" in second
    post_mortem = PostMortem.objects.get()
    assert post_mortem.incident.severity == "SEV2" and post_mortem.incident.runbook.slug == "disk-full"
    assert post_mortem.action_items.count() == 3
    assert post_mortem.action_items.filter(status="open", due_date__lt=timezone.localdate()).count() == 1


def test_rescheduling_an_action_item_on_the_oncall_page(oncall_client, post_mortem, responder):
    item = action_item_add(post_mortem=post_mortem, user=responder, description="Alert", owner=responder,
                           due_date=date(2026, 11, 25))
    url = reverse("incidents:action_item_reschedule", args=[item.pk])
    response = oncall_client.post(url, {"due_date": "2026-12-10"}, follow=True)
    assert "now due 2026-12-10" in response.content.decode()
    item.refresh_from_db()
    assert item.due_date == date(2026, 12, 10)
    assert "Enter a valid date" in oncall_client.post(url, {"due_date": "soon"}, follow=True).content.decode()


def test_landing_page_shows_escalations_only_while_one_waits(client, admin_user):
    client.force_login(admin_user)
    assert "Strategic escalations to acknowledge" not in client.get(reverse("admin:index")).content.decode()
    for _ in range(3):
        incident_open(title="Sync stuck", severity="SEV3", source="oncall_form", service="sync", category="stuck")
    body = client.get(reverse("admin:index")).content.decode()
    assert "Strategic escalations to acknowledge" in body and "3 incidents" in body


def test_correcting_the_category_in_the_console_can_complete_a_pattern(client, admin_user):
    for _ in range(2):
        incident_open(title="Sync stuck", severity="SEV3", source="oncall_form", service="sync", category="stuck")
    odd = incident_open(title="Sync stuck again", severity="SEV3", source="oncall_form", service="sync",
                        category="to triage")
    assert not RecurrenceEscalation.objects.exists()
    client.force_login(admin_user)
    client.post(reverse("admin:incidents_incident_change", args=[odd.pk]), {
        "title": odd.title, "description": "", "service": "sync", "category": "stuck", "runbook": "",
        "timeline-TOTAL_FORMS": "0", "timeline-INITIAL_FORMS": "0",
        "status_updates-TOTAL_FORMS": "0", "status_updates-INITIAL_FORMS": "0",
    })
    assert RecurrenceEscalation.objects.get().incidents.count() == 3
