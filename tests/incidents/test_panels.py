"""The incidents panels of the landing page: the list behind each, and what needs someone now."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from formation_hub.console.panels import countdown
from tests.incidents.factories import ActionItemFactory, IncidentFactory, PostMortemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("root", "admin", is_superuser=True))
    return client


def landing(admin_client, name):
    response = admin_client.get(reverse("admin:index"))
    panel = next(item for item in response.context["panels"] if item.panel.name == name)
    section = re.search(rf'<section [^>]*id="panel-{name}".*?</section>', response.content.decode(), re.S).group(0)
    return panel, section


def test_open_incidents_panel_needs_attention_for_red_or_breached_clocks_and_late_updates(admin_client):
    now = timezone.now()
    breached = IncidentFactory(title="Wiki down", severity="SEV1", detected_at=now - timedelta(minutes=20),
                               respond_by=now - timedelta(minutes=5))
    IncidentFactory(title="Sync stuck", severity="SEV1", detected_at=now, respond_by=now + timedelta(minutes=10))
    calm = IncidentFactory(title="Calm", severity="SEV1", detected_at=now, respond_by=now + timedelta(hours=2))
    IncidentFactory(title="Slow pages", severity="SEV2", detected_at=now, respond_by=now + timedelta(days=10))
    late = IncidentFactory(title="Acknowledged, update late", severity="SEV1", detected_at=now - timedelta(hours=1),
                           respond_by=now - timedelta(minutes=45), acknowledged_at=now - timedelta(minutes=50),
                           next_update_due_at=now - timedelta(minutes=5))
    IncidentFactory(title="Closed long ago", severity="SEV1", status="closed", detected_at=now - timedelta(days=3),
                    respond_by=now - timedelta(days=3))

    panel, html = landing(admin_client, "incidents_open")

    assert panel.attention == 3  # breached, red (10 min left), the late update; not "Calm", not the SEV2
    assert panel.list_url == reverse("admin:incidents_incident_changelist") + "?open=yes"
    assert f'<a href="{panel.list_url}">Open incidents</a>' in html
    assert 'title="needs you now">3</span><span class="ops-badge-label"> to act on</span>' in html
    assert "5 open; 3 to act on (a red or breached response clock, an overdue update)." in html
    assert f'data-deadline="{countdown(calm.respond_by).iso}"' in html  # a SEV1 clock counts down in the browser
    assert f'data-deadline="{countdown(breached.respond_by).iso}"' in html
    assert f'data-deadline="{countdown(late.next_update_due_at).iso}"' in html
    assert "min overdue" in html and "next update by" in html
    slow_row = re.search(r"Slow pages.*?</tr>", html, re.S).group(0)
    assert "data-deadline" not in slow_row and "of business time left" in slow_row  # business hours: server text


def test_open_incidents_panel_needs_nothing_when_every_clock_is_calm(admin_client):
    now = timezone.now()
    IncidentFactory(severity="SEV1", detected_at=now, respond_by=now + timedelta(hours=2),
                    next_update_due_at=now + timedelta(minutes=40))
    panel, html = landing(admin_client, "incidents_open")
    assert panel.attention == 0
    assert "needs you now" not in html


def test_on_call_panel_links_the_on_call_home_and_counts_its_problems(admin_client):
    panel, html = landing(admin_client, "incidents_oncall")
    assert panel.list_url == reverse("incidents:home")
    assert panel.attention == 1
    assert f'<a href="{reverse("incidents:home")}">On call</a>' in html
    assert "No active on-call rotation." in html


def test_on_call_panel_needs_nothing_with_a_primary_and_a_backup(admin_client, rotation):
    panel, html = landing(admin_client, "incidents_oncall")
    assert panel.attention == 0
    assert "needs you now" not in html


def test_overdue_panel_counts_overdue_post_mortems_and_action_items_and_links_their_lists(admin_client):
    now = timezone.now()
    PostMortemFactory(due_at=now - timedelta(days=1))
    PostMortemFactory(due_at=now - timedelta(days=2), state="published")
    ActionItemFactory(due_date=timezone.localdate() - timedelta(days=3))
    ActionItemFactory(due_date=timezone.localdate() + timedelta(days=3))

    panel, html = landing(admin_client, "incidents_overdue")

    post_mortems_url = reverse("admin:incidents_postmortem_changelist") + "?overdue=yes"
    action_items_url = reverse("admin:incidents_actionitem_changelist") + "?overdue=yes"
    assert panel.attention == 2
    assert panel.list_url == post_mortems_url
    assert 'title="needs you now">2</span>' in html
    assert f'<a href="{post_mortems_url}"><strong>1</strong> overdue post-mortem</a>' in html
    assert f'<a href="{action_items_url}"><strong>1</strong> overdue action item</a>' in html


def test_overdue_panel_title_opens_the_action_items_when_only_they_are_late(admin_client):
    ActionItemFactory(due_date=timezone.localdate() - timedelta(days=3))
    panel, _ = landing(admin_client, "incidents_overdue")
    assert panel.attention == 1
    assert panel.list_url == reverse("admin:incidents_actionitem_changelist") + "?overdue=yes"


def test_overdue_panel_needs_nothing_when_nothing_is_late(admin_client):
    panel, html = landing(admin_client, "incidents_overdue")
    assert panel.attention == 0
    assert "Nothing overdue." in html


def test_needs_you_now_says_its_figure_counts_what_to_act_on_not_what_is_listed(admin_client):
    now = timezone.now()
    IncidentFactory(title="Wiki down", severity="SEV1", detected_at=now - timedelta(minutes=20),
                    respond_by=now - timedelta(minutes=5))
    IncidentFactory(title="Calm", severity="SEV1", detected_at=now, respond_by=now + timedelta(hours=2))
    text = admin_client.get(reverse("admin:index")).content.decode()
    summary = re.search(r'<p class="ops-summary">.*?</p>', text, re.S).group(0)
    assert "Open incidents: 1 to act on" in summary
    assert "Open incidents (1)" not in summary
