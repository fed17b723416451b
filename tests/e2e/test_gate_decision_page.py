"""A gate is decided from its one page: the requester's reason, the evidence, the release, no default decision."""

import pytest

from releases.models import Change, PrerequisiteOverride, Release
from releases.pipeline.prepare import release_create
from releases.pipeline.prerequisite_reports import override_request
from tests.releases.factories import SHA, ReportFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def override_waiting(make_user, monkeypatch):
    """v0.1.0 whose CI run failed on its SHA; its author asks to pass CI with a reason."""
    author = make_user("ana", "release-approver")
    approver = make_user("ben", "release-approver")
    Change.objects.create(type="feature", text="Timesheet export", author=author)
    ReportFactory(kind="ci", outcome="failure", url="https://ci.example.test/runs/4242", detail="flaky test_export")
    release = release_create(user=author, sha=SHA, title="Timesheet export")
    override = override_request(release=release, prerequisite="ci", reason="CI runner lost its cache; green locally",
                                user=author)
    return {"release": release, "override": override, "approver": approver}


def test_an_override_is_decided_from_one_page_that_shows_what_is_approved(page, login, override_waiting, shoot):
    release = override_waiting["release"]
    login(override_waiting["approver"], next_path="/admin/formation_hub/gate/?waiting=me")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    header = page.locator("#result_list thead").inner_text().lower()
    assert "object repr" not in header
    assert "prerequisite override" in rows.first.inner_text()
    assert "releases.override" not in rows.first.inner_text()
    assert "prerequisite override" in page.locator("#changelist-filter").inner_text()

    with page.expect_navigation():
        rows.first.locator("a.gate-decide").click()
    assert page.locator("h1").inner_text() == "Decide the passing 'CI green on main for the SHA' for v0.1.0"
    assert "override on override" not in page.title()
    assert "CI runner lost its cache; green locally" in page.locator("#gate-reason").inner_text()
    assert "ana" in page.locator("#gate-reason").inner_text()
    evidence = page.locator("#gate-evidence")
    assert SHA in evidence.inner_text()
    failing_ci = evidence.locator("tr.ops-failing", has_text="CI green on main")
    assert "flaky test_export" in failing_ci.inner_text()
    assert failing_ci.locator("a").get_attribute("href") == "https://ci.example.test/runs/4242"
    assert page.locator("#gate-subject-link").get_attribute("href") == f"/admin/releases/release/{release.pk}/change/"
    assert page.locator("#id_decision").input_value() == "", "no decision is chosen for the person"
    shoot("gate-decision")

    page.click("input[value='Record decision']")
    assert page.locator("#id_decision").evaluate("select => select.validity.valueMissing")
    assert PrerequisiteOverride.objects.get().state == PrerequisiteOverride.State.REQUESTED

    page.select_option("#id_decision", "approve")
    with page.expect_navigation():
        page.click("input[value='Record decision']")
    assert page.url.endswith(f"/admin/releases/release/{release.pk}/change/"), "back on the release, not the gate row"
    assert "Decision 'approve'" in page.locator(".messagelist").inner_text()
    assert PrerequisiteOverride.objects.get().state == PrerequisiteOverride.State.APPROVED
    assert Release.objects.get().pk == release.pk
