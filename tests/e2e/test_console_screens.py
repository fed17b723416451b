"""The console as a newcomer meets it, in a browser at desktop width and at 390 px: the landing page of a
fresh install (demo data loaded, as `make run` does), the incidents list and a released release.
Screenshots for docs/console.md (UPDATE_SCREENSHOTS=1)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from formation_hub.access.roles import ensure_roles
from formation_hub.dev.demo import load_demo_data
from releases import clock
from releases.models import Change, SmokeCheck
from releases.pipeline.rollout import release_deploy
from releases.pipeline.state import WATCH_GATE
from tests.incidents.factories import IncidentFactory
from tests.releases.conftest import last_wednesday_morning
from tests.releases.factories import SHA, ReportFactory, watched_for
from tests.releases.test_pipeline import decide, to_approved

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_install(make_user):
    ensure_roles()
    load_demo_data()
    return make_user("ops-admin", "admin", is_superuser=True)


def test_the_landing_page_of_a_fresh_install_raises_no_false_alarm(page, login, fresh_install, shoot):
    login(fresh_install)
    page.wait_for_selector("#panel-sync_health")
    sync = page.locator("#panel-sync_health")
    assert "ops-panel-attention" not in (sync.get_attribute("class") or "")
    assert "No delivery received yet" in sync.inner_text()
    assert "last delivery -" not in sync.inner_text()
    summary = page.locator(".ops-summary")
    if summary.count():
        assert "Sync health" not in summary.inner_text()
    assert page.locator(".ops-tz").count() + page.locator(".ops-footer").count() == 1, "the zone is said once"
    assert page.title() != "Django site admin"
    shoot("landing-fresh-install")


def test_the_incidents_list_fits_and_says_breached_in_words(page, login, fresh_install, shoot):
    now = timezone.now()
    IncidentFactory(title="Wiki 502 on every page of the Formations space since the restart at dawn",
                    severity="SEV1", detected_at=now - timedelta(minutes=40), respond_by=now - timedelta(minutes=25),
                    breached=True)
    IncidentFactory(title="Sync lagging behind", severity="SEV2", detected_at=now, respond_by=now + timedelta(days=1))
    page.set_viewport_size({"width": 1400, "height": 900})
    login(fresh_install, next_path="/admin/incidents/incident/")
    page.wait_for_selector("#result_list")
    breached_row = page.locator("#result_list tbody tr", has_text="Wiki 502 on every page")
    assert breached_row.locator("td.field-breach").inner_text() == "breached"
    assert breached_row.locator("td.field-breach img").count() == 0, "no green tick for a breach"
    calm_row = page.locator("#result_list tbody tr", has_text="Sync lagging behind")
    assert calm_row.locator("td.field-breach").inner_text() == "no"
    last_column = page.locator("#result_list thead th").last.bounding_box()
    results = page.locator("#changelist .results").bounding_box()
    assert last_column["x"] + last_column["width"] <= results["x"] + results["width"] + 1, "no column is clipped"
    line = page.locator("#result_list td.field-severity").first.evaluate(
        "cell => parseFloat(getComputedStyle(cell).lineHeight)")
    title = breached_row.locator("td.field-title a").bounding_box()
    assert title["height"] < 4 * line, "the title does not wrap on four lines"
    shoot("incidents-list")


@pytest.fixture
def shipped_release(monkeypatch, make_user, http_receiver):
    """A release walked through the real services up to its watch: green reports, two approvers, a smoke
    check on a live local server, prerequisites judged on a Wednesday morning."""
    wednesday = last_wednesday_morning()
    monkeypatch.setattr(clock, "now", lambda: wednesday)
    for kind in ("ci", "e2e"):
        ReportFactory(kind=kind, sha=SHA, observed_at=wednesday - timedelta(minutes=10))
    ReportFactory(kind="backup", sha="", observed_at=wednesday - timedelta(hours=2))
    SmokeCheck.objects.create(name="home page", url=http_receiver.url, expected_status=200, expected_text="ok")
    people = {"author": make_user("ana", "release-approver"), "approver": make_user("ben", "release-approver"),
              "coder": make_user("carl", "release-approver")}
    Change.objects.create(type="feature", text="Timesheet export", author=people["author"])
    release = release_deploy(release=to_approved(people), user=people["author"])
    return release, people


BEFORE_DEPLOY_ONLY = ("Prerequisites now", "No gate yet", "No deployment yet", "What if I release at",
                      "Release allowed at", "Check prerequisites", "Abort the release")


def test_a_deployed_and_a_released_release_show_their_state_and_history(page, login, shipped_release, shoot):
    release, people = shipped_release
    login(people["approver"], next_path=f"/admin/releases/release/{release.pk}/change/")
    assert page.locator("#release-status").inner_text() == "watching"
    pipeline = page.locator("#release-pipeline").inner_text()
    for text in BEFORE_DEPLOY_ONLY:
        assert text not in pipeline, f"a deployed release shows {text!r}"
    assert page.locator("#release-approved-prerequisites td.fail").count() == 0

    watched_for(release, 31)
    decide(release, WATCH_GATE, people["approver"], "all_ok")
    page.reload()
    assert page.locator("#release-status").inner_text() == "released"
    pipeline = page.locator("#release-pipeline").inner_text()
    for text in BEFORE_DEPLOY_ONLY:
        assert text not in pipeline, f"a released release shows {text!r}"
    assert page.locator("#release-pipeline td.fail").count() == 0, "no red row on a released release"
    history = page.locator("#release-history tbody tr")
    assert history.count() >= 6, "the history lists each step"
    assert "released" in page.locator("#release-history").inner_text()
    shoot("released-release")
