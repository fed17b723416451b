"""Dependency bumps: each category's path, the merge rules (CI, Friday, backup), the open limit and its queue."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import gate_decide, pending_gate
from releases.delivery.bump_services import (
    FRIDAY_GATE,
    GO_GATE,
    MAJOR_STAGING_GATE,
    REVIEW_GATE,
    STAGING_GATE,
    bump_ask_again,
    bump_ci_report,
    bump_close,
    bump_create,
    bump_merge,
    bump_request_friday_override,
    bump_set_migration_note,
    bump_set_severity,
    merge_blockers,
)
from releases.delivery.bumps import UnclearVersion
from releases.models import Change, DependencyBump
from releases.pipeline import clock
from tests.releases.factories import ReportFactory

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def lead(people):
    return people["approver"]


@pytest.fixture
def dev(people):
    return people["coder"]


def make(package="lodash", ecosystem="npm", old="4.17.20", new="4.17.21", user=None, **fields):
    return bump_create(package=package, ecosystem=ecosystem, from_version=old, to_version=new, user=user,
                       **fields).bump


def decide(bump, gate_type, user, decision, reason=""):
    gate = pending_gate(target=bump, gate_type=gate_type)
    assert gate is not None, f"no pending {gate_type}"
    gate_decide(gate=gate, user=user, decision=decision, subject=gate.subject, reason=reason)
    bump.refresh_from_db()
    return bump


def on(monkeypatch, day: datetime):
    monkeypatch.setattr(clock, "now", lambda: day)


def test_a_security_bump_merges_by_itself_once_ci_is_green(db):
    bump = make(severity="critical", advisories=["ghsa-35jh-r3h4-6jhm"])
    assert (bump.category, bump.path, bump.state) == ("security", "auto_merge", "open")
    assert pending_gate(target=bump, gate_type=REVIEW_GATE) is None
    assert "CI has not run" in bump.waiting_for
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert bump.state == "merged"
    change = Change.objects.get()
    assert (change.type, change.source, change.release) == ("security", Change.Source.BUMP, None)
    assert change.text == "Bump lodash from 4.17.20 to 4.17.21 (GHSA-35JH-R3H4-6JHM)"


def test_a_security_bump_with_red_ci_waits(db):
    bump = make(severity="high")
    bump_ci_report(bump=bump, status="red")
    bump.refresh_from_db()
    assert bump.state == "open" and "CI is red" in bump.waiting_for


def test_advisories_without_severity_are_flagged_not_taken_for_security(db):
    bump = make(advisories=["CVE-2024-12345"])
    assert (bump.severity, bump.category) == ("unknown", "patch")
    assert "unknown severity" in bump.explanation


@pytest.mark.parametrize("new", ["4.17.21", "4.18.0"])
def test_patch_and_minor_wait_for_a_review_then_merge_on_green_ci(db, lead, dev, new):
    bump = make(new=new, user=dev)
    assert bump.category in ("patch", "minor")
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert bump.state == "open" and "bump review gate" in bump.waiting_for
    decide(bump, REVIEW_GATE, lead, "merge")
    assert bump.state == "merged"
    assert Change.objects.get().type == "chore"


def test_an_approved_review_waits_for_green_ci(db, lead):
    bump = make()
    decide(bump, REVIEW_GATE, lead, "merge")
    assert bump.state == "approved"
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert bump.state == "merged"


def test_review_hold_then_ask_again(db, lead):
    bump = make()
    decide(bump, REVIEW_GATE, lead, "hold", "Changelog mentions a behaviour change")
    assert bump.state == "held" and "Changelog mentions" in bump.waiting_for
    bump_ask_again(bump=bump, user=lead)
    bump.refresh_from_db()
    assert bump.state == "open" and pending_gate(target=bump, gate_type=REVIEW_GATE) is not None


def test_review_close_closes_the_bump(db, lead):
    bump = make()
    decide(bump, REVIEW_GATE, lead, "close", "Superseded")
    assert bump.state == "closed" and bump.closed_at is not None


def test_the_person_who_recorded_the_bump_may_not_review_it(db, dev):
    bump = make(user=dev)
    gate = pending_gate(target=bump, gate_type=REVIEW_GATE)
    with pytest.raises(DomainError, match="no self-approval"):
        gate_decide(gate=gate, user=dev, decision="merge", subject=gate.subject)


def test_a_major_needs_a_migration_note_before_its_go(db, lead):
    bump = make(old="4.17.21", new="5.0.0")
    assert (bump.category, bump.path) == ("major", "go_no_go")
    with pytest.raises(DomainError, match="migration note"):
        decide(bump, GO_GATE, lead, "go")
    bump_set_migration_note(bump=bump, note="_.pluck is gone: use _.map", user=lead)
    bump_ci_report(bump=bump, status="green")
    decide(bump, GO_GATE, lead, "go")
    assert bump.state == "open" and merge_blockers(bump) == ["Waits for its major bump staging validation gate."]
    decide(bump, MAJOR_STAGING_GATE, lead, "ok")
    assert bump.state == "merged"


def test_a_major_back_from_staging_is_held(db, lead):
    bump = make(old="4.17.21", new="5.0.0")
    bump_set_migration_note(bump=bump, note="_.pluck is gone: use _.map", user=lead)
    decide(bump, GO_GATE, lead, "go")
    decide(bump, MAJOR_STAGING_GATE, lead, "back", "The export flow breaks on staging")
    assert bump.state == "held" and "export flow breaks" in bump.waiting_for


def test_a_no_go_holds_the_major(db, lead):
    bump = make(old="4.17.21", new="5.0.0")
    decide(bump, GO_GATE, lead, "no_go", "Wait for the 5.0.1 fixes")
    assert bump.state == "held"


def test_a_runtime_line_change_takes_the_go_no_go_path(db, lead):
    bump = make(package="python", ecosystem="docker", old="3.11-slim", new="3.12-slim")
    assert bump.category == "runtime_lts"
    assert pending_gate(target=bump, gate_type=GO_GATE) is not None


def test_an_upstream_image_needs_its_staging_test(db, lead):
    bump = make(package="docmost/docmost", ecosystem="docker", old="0.8.1", new="0.8.2")
    assert (bump.category, bump.path) == ("upstream_image", "staging_test")
    bump_ci_report(bump=bump, status="green")
    decide(bump, STAGING_GATE, lead, "ok")
    assert bump.state == "merged"
    assert Change.objects.get().type == "change"


def test_an_upstream_image_back_from_staging_is_held(db, lead):
    bump = make(package="baserow/baserow", ecosystem="docker", old="1.29.2", new="1.30.0")
    decide(bump, STAGING_GATE, lead, "back", "Formula fields broken on the clone")
    assert bump.state == "held"


def test_a_database_major_needs_a_verified_backup_first(db, lead, wednesday):
    bump = make(package="postgres", ecosystem="docker", old="15-alpine", new="16-alpine")
    assert bump.category == "database_major"
    bump_set_migration_note(bump=bump, note="pg_upgrade, then restore test", user=lead)
    bump_ci_report(bump=bump, status="green")
    with pytest.raises(DomainError, match="verified backup first: No verified backup reported"):
        decide(bump, GO_GATE, lead, "go")
    ReportFactory(kind="backup", sha="", observed_at=wednesday - timedelta(hours=30))
    with pytest.raises(DomainError, match="30.0 h old"):
        decide(bump, GO_GATE, lead, "go")
    ReportFactory(kind="backup", sha="", observed_at=wednesday - timedelta(hours=2))
    decide(bump, GO_GATE, lead, "go")
    decide(bump, MAJOR_STAGING_GATE, lead, "ok")
    assert bump.state == "merged"


def test_a_critical_cve_on_friday_merges_with_a_second_approver(db, people, monkeypatch):
    on(monkeypatch, datetime(2026, 11, 27, 17, 30, tzinfo=PARIS))
    bump = make(severity="critical", advisories=["CVE-2026-1234"])
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert "No production bump on Friday" in bump.waiting_for
    with pytest.raises(DomainError, match="Say why"):
        bump_request_friday_override(bump=bump, user=people["author"], reason=" ")
    gate = bump_request_friday_override(bump=bump, user=people["author"], reason="Exploited in the wild")
    with pytest.raises(DomainError, match="no self-approval"):
        gate_decide(gate=gate, user=people["author"], decision="allow", subject=gate.subject, reason="me")
    decide(bump, FRIDAY_GATE, people["approver"], "allow", "Exposure confirmed, watching it tonight")
    assert bump.state == "merged"


def test_only_a_critical_security_bump_may_ask_for_a_friday_override(db, lead, monkeypatch):
    on(monkeypatch, datetime(2026, 11, 27, 10, 0, tzinfo=PARIS))
    with pytest.raises(DomainError, match="not a critical security bump"):
        bump_request_friday_override(bump=make(severity="high"), user=lead, reason="soon")
    on(monkeypatch, datetime(2026, 11, 25, 10, 0, tzinfo=PARIS))
    with pytest.raises(DomainError, match="no override needed"):
        bump_request_friday_override(bump=make(package="react", severity="critical"), user=lead, reason="x")


def test_no_production_bump_on_friday(db, lead, monkeypatch):
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
    on(monkeypatch, friday)
    bump = make(severity="critical")
    bump_ci_report(bump=bump, status="green")
    bump.refresh_from_db()
    assert bump.state == "open"
    assert "No production bump on Friday" in bump.waiting_for
    assert "Mon 30 Nov 2026 00:00" in bump.waiting_for
    with pytest.raises(DomainError, match="No production bump on Friday"):
        bump_merge(bump=bump, user=lead)
    on(monkeypatch, datetime(2026, 11, 30, 8, 0, tzinfo=PARIS))
    bump_merge(bump=bump, user=lead)
    bump.refresh_from_db()
    assert bump.state == "merged"


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (datetime(2026, 11, 26, 23, 58, tzinfo=PARIS), True),  # Thursday night
        (datetime(2026, 11, 27, 0, 0, tzinfo=PARIS), False),  # Friday starts
        (datetime(2026, 11, 27, 17, 0, tzinfo=PARIS), False),
        (datetime(2026, 11, 28, 12, 0, tzinfo=PARIS), False),  # the weekend after
        (datetime(2026, 11, 30, 0, 0, tzinfo=PARIS), True),  # Monday
        (datetime(2026, 3, 27, 12, 0, tzinfo=PARIS), False),  # a Friday before the DST change
        (datetime(2026, 3, 30, 9, 0, tzinfo=PARIS), True),
    ],
)
def test_the_friday_rule_in_the_organisation_zone(db, monkeypatch, moment, allowed):
    bump = make()
    bump.state, bump.ci_status = "approved", "green"
    blockers = merge_blockers(bump, at=moment)
    assert (not blockers) == allowed, blockers


def test_a_development_bump_may_merge_on_friday(db, lead, monkeypatch):
    on(monkeypatch, datetime(2026, 11, 27, 10, 0, tzinfo=PARIS))
    bump = make(package="vitest", scope="development")
    bump_ci_report(bump=bump, status="green")
    decide(bump, REVIEW_GATE, lead, "merge")
    assert bump.state == "merged"
    assert not Change.objects.exists()


def test_the_friday_cut_off_is_configurable(db, monkeypatch):
    monkeypatch.setenv("BUMP_FRIDAY_CUTOFF", "16:00")
    bump = make()
    bump.state, bump.ci_status = "approved", "green"
    assert not merge_blockers(bump, at=datetime(2026, 11, 27, 10, 0, tzinfo=PARIS))
    assert merge_blockers(bump, at=datetime(2026, 11, 27, 16, 30, tzinfo=PARIS))


def test_unclear_versions_create_nothing(db):
    with pytest.raises(UnclearVersion, match="different precisions"):
        make(package="postgres", ecosystem="docker", old="15", new="15.4")
    assert not DependencyBump.objects.exists()


def test_at_most_ten_open_bumps_per_ecosystem_and_the_rest_queue(db, lead, monkeypatch):
    bumps = [make(package=f"pkg-{index}") for index in range(12)]
    other = make(package="requests", ecosystem="pip", old="2.32.2", new="2.32.3")
    states = [DependencyBump.objects.get(pk=bump.pk).state for bump in bumps]
    assert states == ["open"] * 10 + ["queued"] * 2
    assert other.state == "open"
    assert pending_gate(target=bumps[10], gate_type=REVIEW_GATE) is None
    assert "Queued" in merge_blockers(DependencyBump.objects.get(pk=bumps[10].pk))[0]
    bump_close(bump=bumps[0], user=lead, reason="not needed")
    promoted = DependencyBump.objects.get(pk=bumps[10].pk)
    assert promoted.state == "open" and pending_gate(target=promoted, gate_type=REVIEW_GATE) is not None
    assert DependencyBump.objects.get(pk=bumps[11].pk).state == "queued"


def test_a_queued_security_bump_promoted_merges_when_ci_is_green(db, lead, monkeypatch):
    monkeypatch.setenv("BUMP_OPEN_LIMIT", "1")
    first = make(package="a")
    second = make(package="b", severity="critical", ci_status="green")
    assert second.state == "queued"
    decide(first, REVIEW_GATE, lead, "close", "duplicate")
    second.refresh_from_db()
    assert second.state == "merged"


def test_closing_twice_is_refused(db, lead):
    bump = make()
    bump_close(bump=bump, user=lead, reason="no")
    with pytest.raises(DomainError, match="already closed"):
        bump_close(bump=bump, user=lead, reason="no")


def test_the_same_pull_request_never_makes_two_bumps(db):
    url = "https://github.com/org/app/pull/7"
    first = bump_create(package="lodash", ecosystem="npm", from_version="4.17.20", to_version="4.17.21",
                        pull_request_url=url)
    again = bump_create(package="lodash", ecosystem="npm", from_version="4.17.20", to_version="4.17.21",
                        pull_request_url=url)
    assert first.created and not again.created and again.bump.pk == first.bump.pk
    assert DependencyBump.objects.count() == 1


def test_the_database_constraint_refuses_a_second_bump_for_one_pull_request(db):
    url = "https://github.com/org/app/pull/8"
    make(pull_request_url=url)
    with pytest.raises(IntegrityError), transaction.atomic():
        DependencyBump.objects.create(package="x", ecosystem="npm", from_version="1.0.0", to_version="1.0.1",
                                      pull_request_url=url, category="patch", path="review", explanation="-")
    make(package="manual-one")
    make(package="manual-two")
    assert DependencyBump.objects.filter(pull_request_url="").count() == 2


def test_a_critical_severity_set_by_hand_makes_a_security_bump_that_a_second_person_confirms(db, lead, dev):
    bump = make(advisories=["CVE-2024-12345"], ci_status="green")
    review = pending_gate(target=bump, gate_type=REVIEW_GATE)
    bump_set_severity(bump=bump, severity="critical", user=lead)
    bump.refresh_from_db()
    review.refresh_from_db()
    assert (bump.category, bump.path, bump.state, review.state) == ("security", "review", "open", "void")
    assert "set by hand (ben)" in bump.explanation
    with pytest.raises(NotAllowed, match="no self-approval"):
        decide(bump, REVIEW_GATE, lead, "merge")
    assert decide(bump, REVIEW_GATE, dev, "merge").state == "merged"


def test_a_critical_severity_typed_in_the_console_does_not_merge_alone(db, lead):
    bump = make(severity="critical", advisories=["CVE-2024-1"], ci_status="green", user=lead)
    assert (bump.category, bump.path, bump.state) == ("security", "review", "open")
    assert pending_gate(target=bump, gate_type=REVIEW_GATE).requested_by == lead


def test_a_merged_bump_keeps_its_category(db, lead):
    bump = make(severity="critical", ci_status="green")
    assert bump.state == "merged"
    with pytest.raises(DomainError, match="settled"):
        bump_set_severity(bump=DependencyBump.objects.get(pk=bump.pk), severity="low", user=lead)
