"""The landing page: panels ordered by what needs the signed-in user, each linked to its list."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from formation_hub.console import dashboard
from formation_hub.console.dashboard import Panel, panels_for
from formation_hub.dev.demo import load_demo_data
from formation_hub.gates import decisions as gates
from formation_hub.gates.decisions import GateType, gate_request, register_gate_type
from formation_hub.observability.health import FAILING, CheckResult


@pytest.fixture
def isolated_panels(monkeypatch):
    """Only the panels a test registers (the apps' panels need their own data)."""
    monkeypatch.setattr(dashboard, "_panels", {})
    return dashboard.register_panel


@pytest.fixture
def review_gate_type():
    before = gates.gate_types()
    register_gate_type(GateType(name="test.review", label="review", decisions=("approve", "deny"),
        permission="releases.decide_release_gate"))
    yield
    gates._gate_types.clear()
    gates._gate_types.update(before)


def _panel(name, order, context):
    return Panel(name=name, title=name.title(), template="admin/panels/health.html", context=context, order=order)


def test_panels_that_need_the_user_come_first_then_in_their_order(rf, admin_user, isolated_panels):
    isolated_panels(_panel("quiet", 10, lambda request: {}))
    isolated_panels(_panel("urgent", 500, lambda request: {"attention": 3}))
    isolated_panels(_panel("also_quiet", 20, lambda request: {"attention": 0}))
    request = rf.get("/admin/")
    request.user = admin_user
    assert [(item.panel.name, item.attention) for item in panels_for(request)] == [
        ("urgent", 3), ("quiet", 0), ("also_quiet", 0),
    ]


def test_a_panel_returning_no_context_is_hidden_from_that_user(rf, admin_user, isolated_panels):
    isolated_panels(_panel("for_others", 10, lambda request: None))
    request = rf.get("/admin/")
    request.user = admin_user
    assert panels_for(request) == []


def test_a_failing_panel_is_shown_as_failed_and_the_others_still_render(admin_client, isolated_panels):
    def broken(request):
        raise RuntimeError("selector exploded")

    isolated_panels(_panel("broken", 10, broken))
    isolated_panels(Panel("ok", "Fine", "admin/panels/health.html", lambda request: {"summary": "1/1 OK"}, 20))
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="panel-broken"' in page and "could not be loaded" in page
    assert 'id="panel-ok"' in page and "1/1 OK" in page
    assert 'Needs you now:</strong>' in page and 'href="#panel-broken"' in page


def test_the_panel_title_links_to_the_list_behind_it(admin_client, isolated_panels):
    isolated_panels(_panel("linked", 10, lambda request: {"list_url": "/admin/formation_hub/gate/?state=pending"}))
    page = admin_client.get("/admin/").content.decode()
    assert '<h2 id="panel-linked-title"><a href="/admin/formation_hub/gate/?state=pending">Linked</a>' in page


def test_health_panel_needs_attention_when_a_check_fails(admin_client, monkeypatch):
    from formation_hub.observability import health

    monkeypatch.setitem(health._checks, "database", lambda: CheckResult(FAILING, "gone"))
    page = admin_client.get("/admin/").content.decode()
    assert 'class="ops-panel ops-panel-attention" id="panel-health"' in page
    assert 'href="#panel-health">Health: ' in page


def test_gates_panel_counts_what_waits_and_says_for_how_long(client, make_user, review_gate_type):
    author, decider = make_user("author", "release-approver"), make_user("decider", "release-approver")
    gate = gate_request(target=Group.objects.create(name="abc123"), gate_type="test.review", subject="abc123",
                        requested_by=author)
    gate.requested_at = timezone.now() - timedelta(hours=2, minutes=14)
    gate.save()
    client.force_login(decider)
    page = client.get("/admin/").content.decode()
    assert 'id="panel-gates"' in page and 'href="#panel-gates">Gates waiting for you: 1 to act on' in page
    assert "waiting for 2 h 14 min" in page
    assert f'/admin/formation_hub/gate/{gate.pk}/decide/' in page


def test_gates_panel_is_hidden_from_users_who_decide_no_kind_of_gate(client, make_user, review_gate_type):
    client.force_login(make_user("ada", "viewer"))  # admins and on-call people decide post-mortem reviews
    page = client.get("/admin/").content.decode()
    assert 'id="panel-gates"' not in page


def test_every_time_on_the_landing_page_carries_the_zone(client, make_user, review_gate_type, settings):
    make_user("decider", "release-approver")
    gate_request(target=Group.objects.create(name="abc123"), gate_type="test.review", subject="abc123",
                 requested_by=make_user("author", "release-approver"))
    client.force_login(make_user("decider"))
    page = client.get("/admin/").content.decode()
    assert "Times are shown in Europe/Paris." in page
    assert "(Europe/Paris) by author" in page


def test_every_console_page_has_the_skip_link_the_clock_script_and_the_server_time(admin_client):
    for url in ("/admin/", "/admin/formation_hub/auditentry/", "/admin/formation_hub/gate/"):
        page = admin_client.get(url).content.decode()
        assert 'href="#content-start" class="skip-to-content-link"' in page, url
        assert "formation_hub/console.js" in page and "formation_hub/console.css" in page, url
        assert '<meta name="ops-server-time" content="' in page, url
        assert 'name="viewport" content="width=device-width' in page, url


def test_the_landing_page_runs_a_bounded_number_of_queries(client, make_user, review_gate_type,
                                                           django_assert_max_num_queries):
    author = make_user("author", "release-approver")
    for index in range(30):
        gate_request(target=Group.objects.create(name=f"g{index}"), gate_type="test.review", subject=f"s{index}",
                     requested_by=author)
    client.force_login(make_user("decider", "release-approver"))
    with django_assert_max_num_queries(60):
        assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("username", ["admin", "bruno", "victor"])
def test_every_time_in_every_apps_panel_carries_the_zone_with_the_demo_data(client, django_user_model, username):
    load_demo_data()
    client.force_login(django_user_model.objects.get(username=username))
    page = client.get("/admin/").content.decode()
    panels = page[page.index('<div class="ops-panels">'):page.index('<details class="ops-apps">')]
    panels = re.sub(r"<svg.*?</svg>", "", panels, flags=re.S)  # chart axes: their caption names the zone
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panels))
    times = list(re.finditer(r"(?<![\d.:])\d{2}:\d{2}(?![\d:])", text))
    assert times
    for time in times:
        assert text[time.end():].startswith(" (Europe/Paris)"), text[max(0, time.start() - 60):time.end() + 30]


def test_a_slow_panel_is_logged_with_its_time(rf, admin_user, isolated_panels, monkeypatch, caplog):
    monkeypatch.setattr(dashboard, "SLOW_PANEL_MS", -1)
    isolated_panels(_panel("sluggish", 10, lambda request: {}))
    request = rf.get("/admin/")
    request.user = admin_user
    [item] = panels_for(request)
    assert item.elapsed_ms >= 0
    assert "console panel sluggish took" in caplog.text
