"""Overrides need a reason and a second approver; hotfixes patch the last stable tag; the database changelog."""

from datetime import date, timedelta

import pytest

from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import gate_decide, gate_types, pending_gate
from formation_hub.models import Gate
from formation_hub.schedules import _schedules
from releases.demo import load_demo_releases
from releases.models import Change, PrerequisiteOverride, Release
from releases.pipeline.notes import changelog_import, changelog_render
from releases.pipeline.prepare import release_create, release_set_sha
from releases.pipeline.prerequisite_reports import override_request, release_check_prerequisites
from releases.pipeline.state import OVERRIDE_GATE
from releases.selectors import release_evaluation
from releases.tasks import watch_tick
from tests.releases.factories import NEW_SHA, SHA, ChangeFactory, ReportFactory, StableReleaseFactory
from tests.releases.test_pipeline import to_tagged


def decide_override(override, user, decision):
    gate = pending_gate(target=override, gate_type=OVERRIDE_GATE)
    gate_decide(gate=gate, user=user, decision=decision, subject=gate.subject)
    override.refresh_from_db()


def test_a_missing_backup_passes_only_once_a_second_approver_approves_the_override(people, some_changes):
    ReportFactory(kind="ci")
    ReportFactory(kind="e2e")
    release = release_create(user=people["author"], sha=SHA)
    with pytest.raises(DomainError, match="No verified backup"):
        release_check_prerequisites(release=release, user=people["author"])
    override = override_request(release=release, prerequisite="backup", reason="Backup host migrating tonight",
                                user=people["author"])
    with pytest.raises(NotAllowed, match="no self-approval"):
        decide_override(override, people["author"], "approve")
    assert release_evaluation(release).result("backup").status == "fail"
    decide_override(override, people["approver"], "approve")
    assert override.state == PrerequisiteOverride.State.APPROVED
    assert release_evaluation(release).result("backup").status == "overridden"
    release_check_prerequisites(release=release, user=people["author"])


def test_an_override_needs_a_written_reason(people, some_changes):
    release = release_create(user=people["author"], sha=SHA)
    with pytest.raises(DomainError, match="written reason"):
        override_request(release=release, prerequisite="ci", reason="  ", user=people["author"])


def test_a_normal_release_cannot_override_the_calendar(people, some_changes):
    release = release_create(user=people["author"], sha=SHA)
    with pytest.raises(DomainError, match="Only a hotfix"):
        override_request(release=release, prerequisite="calendar", reason="urgent", user=people["author"])


def test_an_override_is_bound_to_the_sha_it_was_asked_for(people, some_changes):
    release = release_create(user=people["author"], sha=SHA)
    override = override_request(release=release, prerequisite="ci", reason="CI runner down", user=people["author"])
    release_set_sha(release=release, sha=NEW_SHA, user=people["author"])
    with pytest.raises(DomainError, match="moved on"):
        decide_override(override, people["approver"], "approve")
    assert Gate.objects.get(gate_type=OVERRIDE_GATE).state == Gate.State.VOID


def test_a_hotfix_patches_the_last_stable_release(people, db):
    StableReleaseFactory(version="1.2.3")
    StableReleaseFactory(version="1.2.4")
    StableReleaseFactory(version="1.2.4-rollback")
    ChangeFactory(type="fix", text="Hours saved twice")
    hotfix = release_create(user=people["author"], sha=SHA, kind=Release.Kind.HOTFIX)
    assert (hotfix.version, hotfix.base_version, hotfix.kind) == ("1.2.5", "1.2.4", "hotfix")


def test_a_hotfix_refuses_features(people, db):
    StableReleaseFactory(version="1.2.4")
    ChangeFactory(type="feature")
    with pytest.raises(DomainError, match="patch release"):
        release_create(user=people["author"], sha=SHA, kind=Release.Kind.HOTFIX)


def test_a_hotfix_may_pass_a_freeze_with_a_reason_and_a_second_approval(people, wednesday, monkeypatch):
    StableReleaseFactory(version="1.2.4")
    ChangeFactory(type="security", text="Rotate the Baserow token")
    saturday = wednesday + timedelta(days=3)
    ReportFactory(kind="ci", observed_at=saturday - timedelta(minutes=5))
    ReportFactory(kind="e2e", observed_at=saturday - timedelta(minutes=5))
    ReportFactory(kind="backup", sha="", observed_at=saturday - timedelta(hours=1))
    monkeypatch.setattr("releases.pipeline.clock.now", lambda: saturday)
    hotfix = release_create(user=people["author"], sha=SHA, kind=Release.Kind.HOTFIX)
    with pytest.raises(DomainError, match="Friday 16:00 to Monday 00:00"):
        release_check_prerequisites(release=hotfix, user=people["author"])
    override = override_request(release=hotfix, prerequisite="calendar", reason="Token leaked", user=people["author"])
    decide_override(override, people["approver"], "approve")
    release_check_prerequisites(release=hotfix, user=people["author"])
    hotfix.refresh_from_db()
    assert hotfix.status == Release.Status.PREREQUISITES_MET


def test_the_database_changelog_round_trips_an_imported_file(people, db):
    text = """# Changelog

All notable changes to this project are documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).

## [Unreleased]

### Fixed

- Sync retries keep their order

## [0.2.0] - 2026-10-19

### Added

- Incidents

### Changed

- **BREAKING:** Webhook secrets move to a header

## [0.1.0] - 2026-09-14

### Added

- Ops console
"""
    assert changelog_import(text=text, user=people["author"]) == "2 release(s) and 4 change(s) imported."
    assert changelog_render() == text
    assert changelog_import(text=text, user=people["author"]) == "0 release(s) and 0 change(s) imported."
    imported = Release.objects.get(version="0.2.0")
    assert (imported.status, imported.imported, imported.released_on) == ("released", True, date(2026, 10, 19))
    assert Change.objects.get(text="Webhook secrets move to a header").type == "breaking"


def test_tagging_promotes_the_changes_from_unreleased_to_the_version_section(people, some_changes, green):
    before = changelog_render()
    assert "## [Unreleased]\n\n### Added\n\n- Release console" in before
    release = to_tagged(people)
    after = changelog_render()
    assert f"## [Unreleased]\n\n## [{release.version}] - {release.released_on.isoformat()}" in after


def test_the_app_registers_its_gates_and_its_minute_schedule():
    names = set(gate_types())
    assert {"releases.staging", "releases.tag", "releases.approval", "releases.watch", "releases.override"} <= names
    assert _schedules["releases: watch-period health checks"].func == "releases.tasks.watch_tick"
    assert _schedules["releases: watch-period health checks"].minutes == 1


def test_the_scheduled_tick_runs_without_releases(db):
    assert watch_tick() == "0 watch check(s), 0 approval(s) expired"


def test_the_demo_loader_is_idempotent(db):
    first = load_demo_releases()
    counts = (Release.objects.count(), Change.objects.count())
    assert load_demo_releases() == first
    assert (Release.objects.count(), Change.objects.count()) == counts


def test_a_passing_prerequisite_needs_no_override(people, some_changes, green):
    release = release_create(user=people["author"], sha=SHA)
    with pytest.raises(DomainError, match="passes now"):
        override_request(release=release, prerequisite="ci", reason="just in case", user=people["author"])
