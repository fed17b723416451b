"""The releases console: pages render, actions are logged-in POSTs calling the services, the preview writes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse

from formation_hub.models import AuditEntry, Gate
from releases.models import Change, FreezeWindow, Release
from tests.releases.factories import SHA, ChangeFactory, ReleaseFactory, StableReleaseFactory
from tests.releases.test_changelog import EXISTING
from tests.releases.test_pipeline import watching


@pytest.fixture
def approver_client(client, people):
    client.force_login(people["author"])
    return client


def test_the_add_page_shows_the_proposed_version_and_why(approver_client, some_changes):
    StableReleaseFactory(version="1.2.3")
    response = approver_client.get(reverse("admin:releases_release_add"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "1.3.0" in text and "Release console" in text and "minor" in text


def test_adding_a_release_from_the_console_calls_release_create(approver_client, some_changes, people):
    response = approver_client.post(
        reverse("admin:releases_release_add"), {"kind": "normal", "sha": SHA, "title": "Console", "version": "",
                                                "version_reason": ""},
    )
    assert response.status_code == 302
    release = Release.objects.get()
    assert (release.version, release.author, release.changes.count()) == ("0.1.0", people["author"], 2)


def test_the_release_prepared_message_keeps_the_version_lower_case(approver_client, some_changes):
    response = approver_client.post(
        reverse("admin:releases_release_add"), {"kind": "normal", "sha": SHA, "title": "Console"}, follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["Release v0.1.0 prepared as a draft."]
    assert "V0.1.0" not in response.content.decode()  # the console capitalises the first letter of a message


def test_a_refused_hotfix_is_said_once(approver_client, some_changes):
    response = approver_client.post(reverse("admin:releases_release_add"), {"kind": "hotfix", "sha": SHA})
    body = response.content.decode()
    assert body.count("A hotfix patches the last stable release, and there is none yet.") == 1
    assert not Release.objects.exists()


def test_an_invalid_hand_chosen_version_is_shown_as_an_error(approver_client, some_changes):
    response = approver_client.post(
        reverse("admin:releases_release_add"),
        {"kind": "normal", "sha": SHA, "title": "", "version": "0.3.0", "version_reason": ""}, follow=True,
    )
    assert "skips a number" in response.content.decode()
    assert not Release.objects.exists()


def test_the_release_page_shows_pipeline_prerequisites_and_gates(approver_client, some_changes, green):
    release = ReleaseFactory(version="0.1.0")
    response = approver_client.get(reverse("admin:releases_release_change", args=[release.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Check prerequisites" in text
    assert "CI on main green for 0123456789" in text


def test_the_check_action_is_a_post_calling_the_service(approver_client, some_changes, green):
    release = ReleaseFactory(version="0.1.0")
    url = reverse("admin:releases_release_check", args=[release.pk])
    assert approver_client.get(url).status_code == 302
    release.refresh_from_db()
    assert release.status == Release.Status.DRAFT
    approver_client.post(url)
    release.refresh_from_db()
    assert release.status == Release.Status.PREREQUISITES_MET
    assert Gate.objects.filter(gate_type="releases.staging", state="pending").exists()


def test_a_refused_action_shows_the_services_message(approver_client, some_changes):
    release = ReleaseFactory(version="0.1.0")
    response = approver_client.post(reverse("admin:releases_release_check", args=[release.pk]), follow=True)
    assert "No CI on main result reported" in response.content.decode()


def test_a_viewer_cannot_run_an_action(client, people, some_changes, green):
    client.force_login(people["viewer"])
    release = ReleaseFactory(version="0.1.0")
    response = client.post(reverse("admin:releases_release_check", args=[release.pk]))
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.status == Release.Status.DRAFT


def test_the_preview_evaluates_another_instant_and_writes_nothing(approver_client, some_changes, green, wednesday):
    release = ReleaseFactory(version="0.1.0")
    friday = (wednesday + timedelta(days=2)).replace(hour=15, minute=59)
    FreezeWindow.objects.create(name="Exams", start_date=wednesday.date(), start_time=wednesday.time(),
                                end_date=wednesday.date(), end_time=(wednesday + timedelta(hours=1)).time())
    audit_before, gates_before = AuditEntry.objects.count(), Gate.objects.count()
    response = approver_client.get(
        reverse("admin:releases_release_change", args=[release.pk]), {"at": friday.strftime("%Y-%m-%dT%H:%M")}
    )
    text = response.content.decode()
    assert "Preview only" in text
    assert "Friday 16:00 to Monday 00:00" in text
    assert (AuditEntry.objects.count(), Gate.objects.count()) == (audit_before, gates_before)
    release.refresh_from_db()
    assert release.status == Release.Status.DRAFT


def test_a_malformed_preview_instant_is_an_error_not_a_crash(approver_client):
    release = ReleaseFactory(version="0.1.0")
    response = approver_client.get(reverse("admin:releases_release_change", args=[release.pk]), {"at": "tomorrow"})
    assert response.status_code == 200
    assert "YYYY-MM-DDTHH:MM" in response.content.decode()


def test_changelog_renders_downloads_and_imports(approver_client):
    response = approver_client.post(reverse("admin:releases_release_changelog"), {"text": EXISTING}, follow=True)
    assert "2 release(s) and 6 change(s) imported" in response.content.decode()
    download = approver_client.get(reverse("admin:releases_release_changelog_download"))
    assert download["Content-Disposition"] == 'attachment; filename="CHANGELOG.md"'
    assert "## [1.1.0] - 2026-10-02" in download.content.decode()


def test_a_junk_changelog_import_is_refused_with_the_line(approver_client):
    response = approver_client.post(reverse("admin:releases_release_changelog"), {"text": "## [x.y] - 2026-01-01\n"},
                                    follow=True)
    assert "Import refused: Line 1" in response.content.decode()


def test_the_landing_page_shows_the_release_in_flight_and_its_next_step(approver_client, some_changes):
    ReleaseFactory(version="0.1.0")
    response = approver_client.get(reverse("admin:index"))
    text = response.content.decode()
    assert "Release in flight" in text
    assert "v0.1.0" in text and "Check the prerequisites" in text


def test_the_release_list_runs_a_bounded_number_of_queries(approver_client, django_assert_max_num_queries):
    for number in range(30):
        ReleaseFactory(version=f"0.{number + 1}.0", author=None)
    with django_assert_max_num_queries(12):
        assert approver_client.get(reverse("admin:releases_release_changelist")).status_code == 200


def test_the_change_list_runs_a_bounded_number_of_queries(approver_client, django_assert_max_num_queries, people):
    release = ReleaseFactory(version="0.1.0")
    for _ in range(30):
        ChangeFactory(release=release, author=people["coder"])
    with django_assert_max_num_queries(12):
        assert approver_client.get(reverse("admin:releases_change_changelist")).status_code == 200


def test_a_change_added_in_the_console_goes_under_unreleased(approver_client):
    approver_client.post(reverse("admin:releases_change_add"), {"type": "fix", "text": "Export works", "author": "",
                                                               "reference": "S-12"})
    change = Change.objects.get()
    assert change.release is None and change.reference == "S-12"
    assert AuditEntry.objects.filter(action="release.change_added").exists()


def test_on_call_people_may_roll_back_from_the_console(client, make_user, people, some_changes, green, smoke_ok):
    StableReleaseFactory(version="0.0.9", sha="aaaaaaa")
    release = watching(people, smoke_ok)
    client.force_login(make_user("olga", "oncall"))
    assert client.post(reverse("admin:releases_release_deploy", args=[release.pk])).status_code == 403
    client.post(reverse("admin:releases_release_rollback", args=[release.pk]), {"reason": "500s everywhere"})
    release.refresh_from_db()
    assert release.status == Release.Status.ROLLED_BACK
