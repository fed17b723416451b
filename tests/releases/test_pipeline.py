"""The release pipeline through its services and gates: draft to released, and every refusal on the way."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import gate_decide, pending_gate
from formation_hub.models import AuditEntry, Gate, Notification
from incidents.models import Incident, Page
from releases.models import Change, CheckRun, Deployment, Release
from releases.pipeline.approvals import approvals_expire
from releases.pipeline.prepare import change_add, release_abort, release_create, release_set_sha
from releases.pipeline.prerequisite_reports import release_check_prerequisites
from releases.pipeline.rollout import release_deploy, release_rollback, release_watch_tick
from releases.pipeline.state import APPROVAL_GATE, STAGING_GATE, TAG_GATE, WATCH_GATE
from tests.releases.factories import NEW_SHA, SHA, ChangeFactory, ReportFactory, StableReleaseFactory, watched_for


def hook_calls(receiver):
    return [json.loads(request["body"]) for request in receiver.requests if request["method"] == "POST"]


def decide(release, gate_type, user, decision, reason=""):
    gate = pending_gate(target=release, gate_type=gate_type)
    assert gate is not None, f"no pending {gate_type}"
    gate_decide(gate=gate, user=user, decision=decision, subject=gate.subject, reason=reason)
    release.refresh_from_db()
    return gate


def to_tagged(people):
    release = release_create(user=people["author"], sha=SHA, title="Console")
    release_check_prerequisites(release=release, user=people["author"])
    release.refresh_from_db()
    decide(release, STAGING_GATE, people["coder"], "ok")
    decide(release, TAG_GATE, people["coder"], "release")
    return release


def to_approved(people):
    release = to_tagged(people)
    decide(release, APPROVAL_GATE, people["approver"], "approve")
    return release


@pytest.fixture
def previous(db):
    return StableReleaseFactory(version="0.3.0", sha="aaaaaaa")


def test_create_gathers_the_unreleased_changes_at_the_proposed_version(people, some_changes, previous):
    release = release_create(user=people["author"], sha=SHA)
    assert release.version == "0.4.0"
    assert release.status == Release.Status.DRAFT
    assert set(release.changes.all()) == set(some_changes)
    assert AuditEntry.objects.filter(action="release.created", object_id=str(release.pk)).exists()


def test_create_refuses_when_only_docs_changed(people):
    ChangeFactory(type="docs")
    with pytest.raises(DomainError, match="nothing to release"):
        release_create(user=people["author"], sha=SHA)


def test_a_hand_chosen_version_must_be_a_valid_successor(people, some_changes, previous):
    with pytest.raises(DomainError, match="skips a number"):
        release_create(user=people["author"], sha=SHA, version="0.6.0")
    with pytest.raises(DomainError, match="explicit choice"):
        release_create(user=people["author"], sha=SHA, version="1.0.0")
    release = release_create(user=people["author"], sha=SHA, version="1.0.0", version_reason="Phase 3 done")
    assert release.version == "1.0.0"


def test_a_second_normal_release_waits_for_the_one_in_flight(people, some_changes):
    release_create(user=people["author"], sha=SHA)
    ChangeFactory(type="fix")
    with pytest.raises(DomainError, match="still in flight"):
        release_create(user=people["author"], sha=SHA)


def test_prerequisites_not_met_keep_the_draft_and_say_why(people, some_changes):
    release = release_create(user=people["author"], sha=SHA)
    with pytest.raises(DomainError, match="No CI on main result reported"):
        release_check_prerequisites(release=release, user=people["author"])
    release.refresh_from_db()
    assert release.status == Release.Status.DRAFT
    assert AuditEntry.objects.filter(action="release.prerequisites_failed", result="refused").exists()


def test_pipeline_reaches_tagged_with_a_staging_and_a_tag_gate(people, some_changes, green):
    release = to_tagged(people)
    assert release.status == Release.Status.TAGGED
    assert release.released_on is not None
    approval = pending_gate(target=release, gate_type=APPROVAL_GATE)
    assert approval.subject == SHA
    assert approval.requested_by == people["author"]


def test_back_to_fix_returns_the_release_to_draft(people, some_changes, green):
    release = release_create(user=people["author"], sha=SHA)
    release_check_prerequisites(release=release, user=people["author"])
    with pytest.raises(DomainError, match="needs a written reason"):
        decide(release, STAGING_GATE, people["approver"], "back_to_fix")
    decide(release, STAGING_GATE, people["approver"], "back_to_fix", reason="Login broken on staging")
    assert release.status == Release.Status.DRAFT


def test_the_release_author_cannot_approve_production(people, some_changes, green):
    release = to_tagged(people)
    gate = pending_gate(target=release, gate_type=APPROVAL_GATE)
    gate.requested_by = None
    gate.save(update_fields=["requested_by"])
    with pytest.raises(NotAllowed, match="author of v"):
        decide(release, APPROVAL_GATE, people["author"], "approve")


def test_the_author_of_an_included_change_cannot_approve_production(people, some_changes, green):
    release = to_tagged(people)
    with pytest.raises(NotAllowed, match="authored a change"):
        decide(release, APPROVAL_GATE, people["coder"], "approve")
    release.refresh_from_db()
    assert release.status == Release.Status.TAGGED


def test_a_viewer_cannot_approve(people, some_changes, green):
    release = to_tagged(people)
    with pytest.raises(NotAllowed, match="release-approver"):
        decide(release, APPROVAL_GATE, people["viewer"], "approve")


def test_approval_records_the_prerequisites_the_approver_saw(people, some_changes, green):
    release = to_approved(people)
    assert release.status == Release.Status.APPROVED
    assert release.approval_evidence["sha"] == SHA
    assert release.approval_evidence["results"]["backup"]["status"] == "pass"


def test_approval_is_refused_when_a_prerequisite_fails_at_that_moment(people, some_changes, green, wednesday):
    release = to_tagged(people)
    ReportFactory(kind="ci", outcome="failure", observed_at=wednesday - timedelta(seconds=1))
    with pytest.raises(DomainError, match="Cannot approve now"):
        decide(release, APPROVAL_GATE, people["approver"], "approve")
    assert pending_gate(target=release, gate_type=APPROVAL_GATE) is not None


def test_a_new_sha_voids_the_pending_approval(people, some_changes, green):
    release = to_tagged(people)
    gate = pending_gate(target=release, gate_type=APPROVAL_GATE)
    release_set_sha(release=release, sha=NEW_SHA, user=people["author"])
    gate.refresh_from_db()
    release.refresh_from_db()
    assert gate.state == Gate.State.VOID
    assert release.status == Release.Status.DRAFT


def test_an_approval_given_on_another_sha_is_refused_and_voided_at_deploy(people, some_changes, green):
    release = to_approved(people)
    Release.objects.filter(pk=release.pk).update(sha=NEW_SHA)
    with pytest.raises(DomainError, match="approval was for 0123456789"):
        release_deploy(release=release, user=people["author"])
    release.refresh_from_db()
    assert release.status == Release.Status.TAGGED
    assert not Deployment.objects.exists()
    assert pending_gate(target=release, gate_type=APPROVAL_GATE).subject == NEW_SHA


def test_a_decision_on_a_moved_sha_is_refused_by_the_gate(people, some_changes, green):
    release = to_tagged(people)
    Release.objects.filter(pk=release.pk).update(sha=NEW_SHA)
    with pytest.raises(DomainError, match="moved on"):
        decide(release, APPROVAL_GATE, people["approver"], "approve")


def test_an_expired_approval_is_voided_at_deploy(people, some_changes, green, wednesday):
    release = to_approved(people)
    Gate.objects.filter(gate_type=APPROVAL_GATE).update(decided_at=wednesday - timedelta(hours=4, minutes=1))
    with pytest.raises(DomainError, match="approval expired"):
        release_deploy(release=release, user=people["author"])
    release.refresh_from_db()
    assert release.status == Release.Status.TAGGED


def test_a_backup_lapsing_after_the_approval_voids_it_at_deploy(people, some_changes, wednesday, monkeypatch):
    ReportFactory(kind="ci")
    ReportFactory(kind="e2e")
    ReportFactory(kind="backup", sha="", observed_at=wednesday - timedelta(hours=23, minutes=50))
    release = to_approved(people)
    monkeypatch.setattr("releases.pipeline.clock.now", lambda: wednesday + timedelta(minutes=15))
    with pytest.raises(DomainError, match="prerequisite lapsed"):
        release_deploy(release=release, user=people["author"])
    assert AuditEntry.objects.filter(action="release.deploy_refused", result="refused").exists()


def test_deploy_runs_the_smoke_tests_and_starts_the_watch(people, some_changes, green, smoke_ok):
    release = to_approved(people)
    release = release_deploy(release=release, user=people["author"])
    assert release.status == Release.Status.WATCHING
    deployment = Deployment.objects.get()
    assert (deployment.result, deployment.version, deployment.sha, deployment.started_by) == (
        "succeeded", release.version, SHA, people["author"])
    run = CheckRun.objects.get()
    assert (run.phase, run.ok, run.status_code) == ("smoke", True, 200)
    assert smoke_ok.requests[0]["method"] == "GET"
    assert pending_gate(target=release, gate_type=WATCH_GATE) is not None


def test_deploying_twice_is_refused_and_keeps_one_deployment(people, some_changes, green, smoke_ok):
    release = to_approved(people)
    release_deploy(release=release, user=people["author"])
    with pytest.raises(DomainError, match="you can deploy only when it is approved"):
        release_deploy(release=release, user=people["author"])
    assert Deployment.objects.count() == 1


def test_a_failing_smoke_test_proposes_the_rollback_and_pages_on_call(people, some_changes, green, smoke_ok):
    smoke_ok.status = 502
    release = to_approved(people)
    release = release_deploy(release=release, user=people["author"])
    assert release.status == Release.Status.DEPLOYING
    assert release.rollback_proposed_at is not None
    assert "HTTP 502, expected 200" in release.rollback_proposal
    assert CheckRun.objects.get().ok is False
    assert Page.objects.filter(dedupe_key=f"release-{release.pk}-rollback-proposed").count() == 1


def test_a_smoke_test_missing_its_text_fails(people, some_changes, green, smoke_ok):
    smoke_ok.body = b"maintenance"
    release = release_deploy(release=to_approved(people), user=people["author"])
    assert "lacks 'ok'" in CheckRun.objects.get().detail
    assert release.status == Release.Status.DEPLOYING


def test_the_deploy_hook_is_called_and_its_answer_recorded(people, some_changes, green, smoke_ok, monkeypatch,
                                                           http_receiver):
    monkeypatch.setenv("RELEASE_DEPLOY_HOOK_URL", smoke_ok.url)
    monkeypatch.setenv("RELEASE_DEPLOY_HOOK_TOKEN", "hook-secret")
    release = release_deploy(release=to_approved(people), user=people["author"])
    hook_call = hook_calls(smoke_ok)[0]
    assert hook_call["version"] == release.version and hook_call["sha"] == SHA and hook_call["action"] == "deploy"
    assert [request["headers"]["Authorization"] for request in smoke_ok.requests if request["method"] == "POST"] == [
        "Bearer hook-secret"]
    deployment = Deployment.objects.get()
    assert (deployment.hook_status, deployment.hook_response) == (200, "ok")


def test_a_failing_deploy_hook_keeps_the_release_approved(people, some_changes, green, http_receiver, monkeypatch):
    http_receiver.status = 500
    monkeypatch.setenv("RELEASE_DEPLOY_HOOK_URL", http_receiver.url)
    release = release_deploy(release=to_approved(people), user=people["author"])
    assert release.status == Release.Status.APPROVED
    assert Deployment.objects.get().result == Deployment.Result.FAILED


def watching(people, smoke_ok):
    return release_deploy(release=to_approved(people), user=people["author"])


def test_the_watch_gate_cannot_be_passed_before_30_minutes(people, some_changes, green, smoke_ok):
    release = watching(people, smoke_ok)
    with pytest.raises(DomainError, match="cannot be passed early"):
        decide(release, WATCH_GATE, people["approver"], "all_ok")
    Release.objects.filter(pk=release.pk).update(watch_started_at=timezone.now() - timedelta(minutes=29))
    with pytest.raises(DomainError, match="cannot be passed early"):
        decide(release, WATCH_GATE, people["approver"], "all_ok")
    assert release.status == Release.Status.WATCHING


def test_after_30_minutes_all_ok_releases_and_announces(people, some_changes, green, smoke_ok, settings):
    settings.TEAM_CHANNEL_WEBHOOK_URL = smoke_ok.url
    release = watching(people, smoke_ok)
    watched_for(release, 30)
    decide(release, WATCH_GATE, people["approver"], "all_ok")
    assert release.status == Release.Status.RELEASED
    announcement = Notification.objects.get(kind="release.announced")
    assert announcement.subject == f"Released v{release.version} - Console"
    assert "### Added\n\n- Release console" in announcement.body
    assert "### Fixed\n\n- Login works again" in announcement.body


def test_watch_ticks_record_health_checks_once_a_minute(people, some_changes, green, smoke_ok):
    release = watching(people, smoke_ok)
    assert len(release_watch_tick(release=release)) == 1
    assert release_watch_tick(release=release) == []
    CheckRun.objects.filter(phase="watch").update(ran_at=timezone.now() - timedelta(seconds=61))
    assert len(release_watch_tick(release=release)) == 1


def test_a_failing_watch_check_proposes_the_rollback_and_pages_once(people, some_changes, green, smoke_ok):
    release = watching(people, smoke_ok)
    smoke_ok.status = 500
    release_watch_tick(release=release)
    CheckRun.objects.filter(phase="watch").update(ran_at=timezone.now() - timedelta(seconds=61))
    release_watch_tick(release=release)
    release.refresh_from_db()
    assert release.rollback_proposed_at is not None
    assert Page.objects.filter(dedupe_key=f"release-{release.pk}-rollback-proposed").count() == 1


def test_rollback_redeploys_the_previous_stable_release_and_opens_an_incident(
    people, some_changes, green, smoke_ok, previous
):
    release = watching(people, smoke_ok)
    decide(release, WATCH_GATE, people["approver"], "roll_back", reason="Timesheets fail to save")
    assert release.status == Release.Status.ROLLED_BACK
    rollback = Deployment.objects.get(action="rollback")
    assert (rollback.version, rollback.sha, rollback.result) == ("0.3.0", "aaaaaaa", "succeeded")
    incident = Incident.objects.get()
    assert (incident.source, incident.related_object) == ("release", release)
    assert "Timesheets fail to save" in incident.description


def test_rollback_from_the_console_action_needs_a_reason_and_happens_once(
    people, some_changes, green, smoke_ok, previous
):
    release = watching(people, smoke_ok)
    with pytest.raises(DomainError, match="written reason"):
        release_rollback(release=release, user=people["author"], reason=" ")
    release_rollback(release=release, user=people["author"], reason="Errors in the logs")
    with pytest.raises(DomainError, match="rolled back"):
        release_rollback(release=release, user=people["author"], reason="again")
    assert Deployment.objects.filter(action="rollback").count() == 1
    assert Incident.objects.count() == 1
    assert pending_gate(target=release, gate_type=WATCH_GATE) is None


def test_rollback_calls_the_hook_with_the_rollback_tag(people, some_changes, green, smoke_ok, previous, monkeypatch):
    release = watching(people, smoke_ok)
    monkeypatch.setenv("RELEASE_DEPLOY_HOOK_URL", smoke_ok.url)
    release_rollback(release=release, user=people["author"], reason="Errors")
    call = hook_calls(smoke_ok)[-1]
    assert (call["action"], call["version"], call["tag"]) == ("rollback", "0.3.0", f"v{release.version}-rollback")


def test_rollback_without_a_previous_stable_release_is_refused(people, some_changes, green, smoke_ok):
    release = watching(people, smoke_ok)
    with pytest.raises(DomainError, match="no stable release before"):
        release_rollback(release=release, user=people["author"], reason="Errors")


def test_abort_returns_untagged_changes_to_unreleased(people, some_changes):
    release = release_create(user=people["author"], sha=SHA)
    release_abort(release=release, user=people["author"], reason="Wrong scope")
    release.refresh_from_db()
    assert release.status == Release.Status.ABORTED
    assert all(change.release_id is None for change in some_changes for change in [change.__class__.objects.get(
        pk=change.pk)])


def test_a_normal_release_cannot_take_the_version_of_a_hotfix_in_flight(people, db):
    StableReleaseFactory(version="1.2.4")
    ChangeFactory(type="fix", text="Urgent")
    release_create(user=people["author"], sha=SHA, kind=Release.Kind.HOTFIX)
    ChangeFactory(type="fix", text="Less urgent")
    with pytest.raises(DomainError, match="already taken"):
        release_create(user=people["author"], sha=SHA)


def test_every_watch_tick_is_audited(people, some_changes, green, smoke_ok):
    release = watching(people, smoke_ok)
    release_watch_tick(release=release)
    entry = AuditEntry.objects.get(action="release.watch_checked")
    assert (entry.actor_label, entry.result, entry.changes["checks"]) == ("releases:watch", "ok", {"home": True})


def test_the_release_after_a_rollback_follows_the_rolled_back_version(people, some_changes, green, smoke_ok, previous):
    release = watching(people, smoke_ok)
    release_rollback(release=release, user=people["author"], reason="Errors")
    ChangeFactory(type="fix", text="The fix")
    assert release_create(user=people["author"], sha=SHA).version == "0.4.1"


@pytest.mark.parametrize("sha", ["not-a-sha", "ABC", "12345"])
def test_a_malformed_sha_is_refused(people, some_changes, sha):
    with pytest.raises(DomainError, match="hexadecimal"):
        release_create(user=people["author"], sha=sha)


def test_the_minute_schedule_voids_an_expired_approval_and_asks_again(people, some_changes, green, wednesday):
    release = to_approved(people)
    Gate.objects.filter(gate_type=APPROVAL_GATE).update(decided_at=wednesday - timedelta(hours=5))
    assert approvals_expire() == 1
    release.refresh_from_db()
    assert release.status == Release.Status.TAGGED
    assert pending_gate(target=release, gate_type=APPROVAL_GATE) is not None
    assert Notification.objects.filter(kind="release.approval_requested").count() == 2


def test_thirty_minutes_without_health_checks_do_not_pass_the_watch(people, some_changes, green, smoke_ok):
    release = watching(people, smoke_ok)
    Release.objects.filter(pk=release.pk).update(watch_started_at=timezone.now() - timedelta(minutes=40))
    with pytest.raises(DomainError, match="Only 0 minute"):
        decide(release, WATCH_GATE, people["approver"], "all_ok")
    watched_for(release, 26)
    Release.objects.filter(pk=release.pk).update(watch_started_at=timezone.now() - timedelta(minutes=31))
    with pytest.raises(DomainError, match="Only 26 minute"):
        decide(release, WATCH_GATE, people["approver"], "all_ok")
    release_watch_tick(release=release)
    decide(release, WATCH_GATE, people["approver"], "all_ok")
    assert release.status == Release.Status.RELEASED


def test_a_version_aborted_before_its_tag_can_be_used_again(people, some_changes):
    first = release_create(user=people["author"], sha=SHA)
    release_abort(release=first, user=people["author"], reason="Wrong SHA")
    assert release_create(user=people["author"], sha=SHA).version == first.version


def test_a_version_aborted_after_its_tag_stays_taken(people, some_changes, green):
    tagged = to_tagged(people)
    release_abort(release=tagged, user=people["author"], reason="Found a bug")
    ChangeFactory(type="fix", text="The bug")
    assert release_create(user=people["author"], sha=SHA).version == "0.1.1"


def test_the_author_decides_no_gate_the_pipeline_opens_on_her_release(people, some_changes, green):
    release = release_create(user=people["author"], sha=SHA, title="Console")
    release_check_prerequisites(release=release, user=people["author"])
    release.refresh_from_db()
    with pytest.raises(NotAllowed, match="no self-approval"):
        decide(release, STAGING_GATE, people["author"], "ok")
    decide(release, STAGING_GATE, people["coder"], "ok")
    with pytest.raises(NotAllowed, match="no self-approval"):
        decide(release, TAG_GATE, people["author"], "release")


def test_the_production_approval_is_requested_for_the_author_not_by_the_tag_decider(people, some_changes, green):
    release = to_tagged(people)
    approval = pending_gate(target=release, gate_type=APPROVAL_GATE)
    assert approval.requested_by == people["author"]
    with pytest.raises(NotAllowed, match="You are the author of v"):
        decide(release, APPROVAL_GATE, people["author"], "approve")


def test_whoever_adds_a_change_is_its_default_author_and_may_not_approve_it(people, green):
    change = change_add(type="fix", text="Quiet fix", user=people["approver"], author=None)
    assert (change.author, change.created_by) == (people["approver"], people["approver"])
    other = change_add(type="fix", text="Typed for ana", author=people["author"], user=people["approver"])
    assert (other.author, other.created_by) == (people["author"], people["approver"])
    release = to_tagged(people)
    with pytest.raises(NotAllowed, match="authored a change|added a change"):
        decide(release, APPROVAL_GATE, people["approver"], "approve")


def test_editing_a_change_author_in_the_console_is_audited(client, people):
    client.force_login(people["approver"])
    add_page = client.get(reverse("admin:releases_change_add")).content.decode()
    assert 'class="vForeignKeyRawIdAdminField"' not in add_page and "admin-autocomplete" in add_page
    client.post(reverse("admin:releases_change_add"), {"type": "fix", "text": "Mine", "author": people["approver"].pk,
                                                       "reference": ""})
    change = Change.objects.get(text="Mine")
    assert change.created_by == people["approver"]
    client.post(reverse("admin:releases_change_change", args=[change.pk]),
                {"type": "fix", "text": "Mine", "author": people["viewer"].pk, "reference": ""})
    change.refresh_from_db()
    assert change.author == people["viewer"]
    entry = AuditEntry.objects.get(action="release.change_edited")
    assert entry.changes["old"]["author"] == "ben" and entry.changes["new"]["author"] == "vic"
