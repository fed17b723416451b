"""A release from draft to released in the console, by two release approvers (the author cannot approve)."""

from datetime import timedelta

import pytest

from formation_hub.gates.decisions import gate_decide, pending_gate
from releases.models import Change, Deployment, Release, SmokeCheck
from releases.pipeline import clock
from releases.pipeline.prepare import release_create
from releases.pipeline.prerequisite_reports import release_check_prerequisites
from releases.pipeline.rollout import release_deploy
from tests.releases.conftest import last_wednesday_morning
from tests.releases.factories import SHA, ReportFactory, watched_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def release_world(monkeypatch, make_user, http_receiver):
    """Green CI, E2E and backup, a smoke check on a live local server, prerequisites judged on a Wednesday."""
    wednesday = last_wednesday_morning()
    monkeypatch.setattr(clock, "now", lambda: wednesday)
    for kind in ("ci", "e2e"):
        ReportFactory(kind=kind, sha=SHA, observed_at=wednesday - timedelta(minutes=10))
    ReportFactory(kind="backup", sha="", observed_at=wednesday - timedelta(hours=2))
    SmokeCheck.objects.create(name="home page", url=http_receiver.url, expected_status=200, expected_text="ok")
    author = make_user("ana", "release-approver")
    approver = make_user("ben", "release-approver")
    Change.objects.create(type="feature", text="Timesheet export", author=author)
    Change.objects.create(type="fix", text="Login works again")
    return {"author": author, "approver": approver, "receiver": http_receiver}


def open_release(page, release):
    page.goto(f"/admin/releases/release/{release.pk}/change/")


def submit(page, selector):
    """Click a button that posts a form, and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


def decide_gate(page, gate_type, decision, reason=""):
    with page.expect_navigation():
        page.locator(f"tr[data-gate='{gate_type}'][data-state='pending'] a.gate-decide").click()
    page.select_option("#id_decision", decision)
    if reason:
        page.fill("#id_reason", reason)
    submit(page, "input[value='Record decision']")
    assert page.locator(".messagelist .success").is_visible(), page.locator(".messagelist").inner_text()


def test_a_release_goes_from_draft_to_released_with_two_people(page, login, release_world):
    author, approver = release_world["author"], release_world["approver"]

    login(author, next_path="/admin/releases/release/add/")
    assert page.locator("#proposed-version").inner_text() == "0.1.0"
    page.fill("#id_sha", SHA)
    page.fill("#id_title", "Timesheet export")
    submit(page, "#release-create")
    release = Release.objects.get()
    assert page.locator("#release-status").inner_text() == "draft"

    submit(page, "#action-check")
    assert page.locator("#release-status").inner_text() == "prerequisites met"
    staging = page.locator("tr[data-gate='releases.staging'][data-state='pending'] a.gate-decide")
    assert staging.inner_text() == "View (not yours to decide)"  # the author decides no gate of her release

    page.context.clear_cookies()
    login(approver, next_path="/admin/")
    open_release(page, release)
    decide_gate(page, "releases.staging", "ok")
    open_release(page, release)
    decide_gate(page, "releases.tag", "release")
    page.goto("/admin/")
    assert "Production approval" in page.locator("#panel-releases").inner_text()
    open_release(page, release)
    assert page.locator("#release-status").inner_text() == "tagged"
    decide_gate(page, "releases.approval", "approve")
    open_release(page, release)
    assert page.locator("#release-status").inner_text() == "approved for production"

    submit(page, "#action-deploy")
    assert page.locator("#release-status").inner_text() == "watching"
    assert Deployment.objects.get().result == "succeeded"
    assert release_world["receiver"].requests, "the smoke test reached the local server"

    watched_for(release, 31)
    open_release(page, release)
    decide_gate(page, "releases.watch", "all_ok")
    open_release(page, release)
    assert page.locator("#release-status").inner_text() == "released"
    release.refresh_from_db()
    assert release.status == Release.Status.RELEASED
    page.goto("/admin/releases/release/changelog/")
    assert "## [0.1.0]" in page.locator("#changelog-text").inner_text()


def test_the_console_refuses_to_end_the_watch_before_30_minutes(page, login, release_world):
    author, approver = release_world["author"], release_world["approver"]
    release = release_create(user=author, sha=SHA)
    release_check_prerequisites(release=release, user=author)
    for gate_type, decision, who in (("releases.staging", "ok", approver), ("releases.tag", "release", approver),
                                     ("releases.approval", "approve", approver)):
        gate = pending_gate(target=release, gate_type=gate_type)
        gate_decide(gate=gate, user=who, decision=decision, subject=gate.subject)
    release_deploy(release=release, user=approver)

    login(approver, next_path=f"/admin/releases/release/{release.pk}/change/")
    assert page.locator("#release-status").inner_text() == "watching"
    with page.expect_navigation():
        page.locator("tr[data-gate='releases.watch'][data-state='pending'] a.gate-decide").click()
    page.select_option("#id_decision", "all_ok")
    submit(page, "input[value='Record decision']")
    assert "cannot be passed early" in page.locator(".messagelist").inner_text()
    release.refresh_from_db()
    assert release.status == Release.Status.WATCHING
