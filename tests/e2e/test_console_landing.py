"""The landing page in a browser: its panels, a gate decided from it, a phone's width, the keyboard
and the counting-down clocks."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from formation_hub.access.roles import ensure_roles
from formation_hub.console import dashboard
from formation_hub.console.dashboard import Panel
from formation_hub.console.panels import countdown
from formation_hub.gates import decisions as gates
from formation_hub.gates.decisions import GateType, gate_request, register_gate_type
from formation_hub.models import Gate

PHONE = {"width": 375, "height": 740}


def sign_in(login, user):
    """Sign in and wait for the landing page, its deferred script run (login() does not wait)."""
    page = login(user)
    page.wait_for_url(lambda url: "/login/" not in url)
    page.wait_for_function("window.opsConsole !== undefined")
    return page


@pytest.fixture
def roles():
    ensure_roles()  # the live server's database is flushed between tests: give the groups their permissions


@pytest.fixture
def review_gate(roles, make_user):
    before = gates.gate_types()
    register_gate_type(
        GateType(name="e2e.review", label="review", decisions=("approve", "deny"),
        permission="releases.decide_release_gate",
                 current_subject=lambda target: target.name)
    )
    author = make_user("ana", "release-approver")
    gate = gate_request(target=Group.objects.create(name="abc123def"), gate_type="e2e.review", subject="abc123def",
                        requested_by=author)
    yield gate
    gates._gate_types.clear()
    gates._gate_types.update(before)


def test_landing_page_shows_each_apps_panel_and_what_needs_the_user_first(page, login, make_user, review_gate):
    sign_in(login, make_user("ben", "release-approver"))
    titles = page.locator(".ops-panel h2").all_inner_texts()
    assert titles[0].startswith("Gates waiting for you")  # the one thing waiting for ben comes first
    for panel in ("gates", "incidents_open", "incidents_oncall", "sync_health", "releases", "health"):
        assert page.locator(f"#panel-{panel}").is_visible(), panel
    assert "Gates waiting for you: 1 to act on" in page.locator(".ops-summary").inner_text()
    assert "(Europe/Paris)" in page.locator("#panel-gates").inner_text()
    columns = {round(panel.bounding_box()["x"]) for panel in page.locator(".ops-panel").all()}
    assert len(columns) >= 3  # a wide screen uses its width (not Django's 600 px dashboard column)


def test_a_release_approver_decides_a_gate_from_the_landing_page(page, login, make_user, review_gate):
    sign_in(login, make_user("ben", "release-approver"))
    with page.expect_navigation():
        page.locator("#panel-gates a", has_text="review").click()
    assert page.locator("#gate-subject").inner_text() == "abc123def"
    page.select_option("#id_decision", "approve")
    with page.expect_navigation():
        page.click("input[value='Record decision']")
    assert "Decision 'approve' on the review of abc123def recorded." in page.locator(".messagelist").inner_text()
    review_gate.refresh_from_db()
    assert (review_gate.state, review_gate.decision, review_gate.decided_by.username) == ("decided", "approve", "ben")
    page.goto("/admin/")
    assert "Nothing waits for your decision." in page.locator("#panel-gates").inner_text()
    assert Gate.objects.filter(state="pending").count() == 0


def test_landing_page_fits_a_phone_without_sideways_scrolling(browser, live_server, make_user, roles, review_gate):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    phone = context.new_page()
    try:
        phone.goto("/admin/login/?next=/admin/")
        phone.fill("#id_username", make_user("ben", "release-approver").username)
        phone.fill("#id_password", "pw-for-tests")
        phone.click("input[type=submit]")
        phone.wait_for_selector("#panel-health")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        boxes = [panel.bounding_box() for panel in phone.locator(".ops-panel").all()]
        assert len({round(box["x"]) for box in boxes}) == 1  # one column
        assert all(box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] for box in boxes)
        phone.goto("/admin/formation_hub/gate/")
        assert phone.locator("#result_list").is_visible()
    finally:
        context.close()


def test_the_keyboard_reaches_the_content_first_and_sees_where_it_is(page, login, make_user, roles):
    sign_in(login, make_user("vera", "viewer"))
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.innerText]")
    assert focused == ["skip-to-content-link", "Skip to main content"]
    assert page.locator(".skip-to-content-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content-start"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


def test_clocks_count_down_in_the_browser_and_turn_red(page, login, make_user, roles, monkeypatch):
    deadline = timezone.now() + timedelta(minutes=50)
    monkeypatch.setitem(dashboard._panels, "e2e_clock", Panel(
        name="e2e_clock", title="A clock", template="admin/panels/console_countdown.html", order=1,
        context=lambda request: {"countdown": countdown(deadline, prefix="update due, ")},
    ))
    sign_in(login, make_user("vera", "viewer"))
    clock = page.locator("#panel-e2e_clock [data-deadline]")
    assert clock.inner_text() in ("update due, 50 min left", "update due, 49 min left")
    assert "ops-amber" in clock.get_attribute("class")
    past = (timezone.now() - timedelta(minutes=5, seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page.evaluate(f"document.querySelector('[data-deadline]').setAttribute('data-deadline', '{past}')")
    page.evaluate("window.opsConsole.refresh()")
    assert clock.inner_text() == "update due, 5 min overdue"
    assert "ops-red" in clock.get_attribute("class") and "ops-amber" not in clock.get_attribute("class")
    assert page.evaluate("window.opsConsole.describe((2 * 60 + 14) * 60000 + 5000)") == {
        "text": "2 h 14 min left", "css": ""
    }


@pytest.mark.parametrize("path", ["gate_decide", "/oncall/incidents/new/", "/admin/incidents/incident/",
                                  "/admin/incidents/override/add/"])
def test_console_and_oncall_forms_fit_a_phone(browser, live_server, make_user, roles, review_gate, path):
    if path == "gate_decide":
        path = f"/admin/formation_hub/gate/{review_gate.pk}/decide/"
    user = make_user("olga", "oncall", "release-approver")
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    phone = context.new_page()
    try:
        phone.goto(f"/admin/login/?next={path}")
        phone.fill("#id_username", user.username)
        phone.fill("#id_password", "pw-for-tests")
        with phone.expect_navigation():
            phone.click("input[type=submit]")
        assert phone.url.endswith(path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        submit = phone.locator("main [type=submit], #content [type=submit]").first
        box = submit.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], path
    finally:
        context.close()
