"""Post-mortems: created and pre-filled when an incident is resolved, the closing rule, review and publication,
action items and their overdue reminders, the handoff recap."""

from datetime import UTC, date, datetime, timedelta

import pytest

from formation_hub.audit import audit_entries_for
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.models import Notification
from incidents.models import ActionItem, PostMortem, Status
from incidents.oncall.recap import recap_body
from incidents.postmortems.action_items import (
    action_item_add,
    action_item_reschedule,
    action_item_set_status,
    action_items_remind_overdue,
)
from incidents.postmortems.services import (
    BLAMELESS_STATEMENT,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_save,
    postmortem_start,
    postmortem_submit,
    postmortems_remind_overdue,
)
from incidents.services import (
    incident_acknowledge,
    incident_add_note,
    incident_change_severity,
    incident_open,
    incident_transition,
)
from incidents.status.updates import post_mortem_path, status_update_post
from incidents.sweeps import incidents_sweep

pytestmark = pytest.mark.django_db

WRITTEN = {
    "root_cause": "The WAL filled the disk.",
    "monitoring_gap": "No disk alert below 100 %.",
    "lessons_learned": "Watch trends.",
}


def open_incident(severity="SEV2", **fields):
    values = {"title": "Postgres disk full", "severity": severity, "source": "alert", "service": "postgres",
              "category": "disk"}
    return incident_open(**{**values, **fields})


def walk(incident, user, clock, steps):
    """steps: (minutes later, status or 'ack' or a note text)."""
    for minutes, step in steps:
        clock.advance(minutes=minutes)
        if step == "ack":
            incident = incident_acknowledge(incident=incident, user=user)
        elif step in Status.values:
            incident = incident_transition(incident=incident, to_status=step, user=user)
        else:
            incident_add_note(incident=incident, user=user, text=step)
    return incident


@pytest.fixture
def resolved(responder, clock):
    """A SEV2 detected Friday 20 Nov 2026 14:00 Paris, walked through its lifecycle, resolved at 15:30."""
    incident = open_incident(detected_at=clock.now, user_facing=True)
    return walk(incident, responder, clock, [
        (10, "ack"), (0, "triaged"), (15, "investigating"), (15, "Restarted postgres after freeing WAL"),
        (25, "mitigated"), (25, "resolved"),
    ])


def publish(post_mortem, user, reviewer):
    postmortem_save(post_mortem=post_mortem, user=user, **WRITTEN)
    postmortem_submit(post_mortem=post_mortem, user=user)
    return postmortem_publish(post_mortem=post_mortem, user=reviewer)


def test_resolving_a_sev2_creates_its_post_mortem_due_seven_days_later(resolved):
    post_mortem = PostMortem.objects.get(incident=resolved)
    assert post_mortem.state == PostMortem.State.DRAFT
    assert post_mortem.due_at == resolved.resolved_at + timedelta(days=7)
    assert post_mortem.due_at == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert audit_entries_for(post_mortem).get().action == "postmortem.created"
    assert "Post-mortem started" in resolved.timeline.last().text


def test_post_mortem_is_prefilled_from_the_real_timeline_in_local_time(resolved):
    post_mortem = PostMortem.objects.get(incident=resolved)
    day, milestones = post_mortem.timeline.split("\n\n")[:2]
    assert day == "Detected on Fri 20 Nov 2026; later days are named."
    assert milestones.splitlines() == [
        "- 14:00 detection",
        "- 14:10 triage",
        "- 14:25 mitigation start",
        "- 15:05 service restored",
        "- HH:MM root cause confirmed",
    ]
    assert "- 14:40 note (oncall-olga): Restarted postgres after freeing WAL" in post_mortem.timeline
    assert "- 15:30 status change (oncall-olga): mitigated -> resolved" in post_mortem.timeline
    assert post_mortem.downtime == "1h 05m"
    assert post_mortem.users_affected.startswith("Yes, user-facing")
    assert post_mortem.data_loss == "No"
    assert post_mortem.monitoring_gap.startswith("Detected by monitoring")


def test_a_timeline_past_midnight_shows_the_day(responder, clock):
    clock.now = datetime(2026, 11, 20, 22, 50, tzinfo=UTC)  # 23:50 Paris
    incident = open_incident(detected_at=clock.now)
    incident = walk(incident, responder, clock, [(20, "triaged"), (30, "resolved")])
    milestones = PostMortem.objects.get(incident=incident).timeline.splitlines()[2:]
    assert milestones[:2] == ["- 23:50 detection", "- Sat 21 Nov 00:10 triage"]
    assert milestones[3] == "- Sat 21 Nov 00:40 service restored"


def test_root_cause_comes_from_the_resolved_status_update(responder, clock):
    incident = open_incident(detected_at=clock.now)
    incident = walk(incident, responder, clock, [(5, "triaged"), (5, "resolved")])
    PostMortem.objects.filter(incident=incident).delete()
    status_update_post(incident=incident, user=responder, kind="resolved", subject="[SEV2 RESOLVED] back",
                       body="Duration down: 0h10m\nRoot cause: WAL kept by an orphan replication slot\nImpact: none")
    post_mortem = postmortem_start(incident=incident, user=responder)
    assert post_mortem.root_cause == "WAL kept by an orphan replication slot"


def test_data_loss_is_prefilled_from_the_incident(responder, clock):
    incident = open_incident(detected_at=clock.now, data_loss=True)
    incident = walk(incident, responder, clock, [(5, "triaged"), (5, "resolved")])
    assert PostMortem.objects.get(incident=incident).data_loss.startswith("Yes")


def test_sev3_needs_no_post_mortem_and_closes_at_once(responder, clock):
    incident = open_incident(severity="SEV3", detected_at=clock.now)
    incident = walk(incident, responder, clock, [(5, "triaged"), (5, "resolved"), (5, "closed")])
    assert incident.status == Status.CLOSED
    assert not PostMortem.objects.exists()


@pytest.mark.parametrize("state", ["draft", "in_review"])
def test_an_incident_does_not_close_before_its_post_mortem_is_published(resolved, responder, state):
    post_mortem = PostMortem.objects.get(incident=resolved)
    if state == "in_review":
        postmortem_save(post_mortem=post_mortem, user=responder, **WRITTEN)
        postmortem_submit(post_mortem=post_mortem, user=responder)
    label = {"draft": "draft", "in_review": "in review"}[state]
    with pytest.raises(DomainError, match=f"cannot be closed yet: its post-mortem is {label}: publish it first"):
        incident_transition(incident=resolved, to_status="closed", user=responder)
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED


def test_an_incident_closes_once_its_post_mortem_is_published(resolved, responder, reviewer):
    publish(PostMortem.objects.get(incident=resolved), responder, reviewer)
    incident = incident_transition(incident=resolved, to_status="closed", user=responder)
    assert incident.status == Status.CLOSED


def test_a_required_post_mortem_that_was_never_started_blocks_closing(resolved, responder):
    PostMortem.objects.filter(incident=resolved).delete()
    with pytest.raises(DomainError, match="its post-mortem is required"):
        incident_transition(incident=resolved, to_status="closed", user=responder)


def test_raising_a_resolved_sev3_to_sev2_starts_its_post_mortem(responder, clock):
    incident = open_incident(severity="SEV3", detected_at=clock.now)
    incident = walk(incident, responder, clock, [(5, "triaged"), (5, "resolved")])
    assert not PostMortem.objects.exists()
    incident_change_severity(incident=incident, severity="SEV2", user=responder, reason="worse than thought")
    assert PostMortem.objects.filter(incident=incident).exists()


def test_reopening_and_resolving_again_keeps_one_post_mortem(resolved, responder, clock):
    incident = walk(resolved, responder, clock, [(5, "investigating"), (5, "resolved")])
    assert PostMortem.objects.filter(incident=incident).count() == 1


def test_review_needs_the_written_sections(resolved, responder):
    post_mortem = PostMortem.objects.get(incident=resolved)
    with pytest.raises(DomainError, match="Write the root cause, the lessons learned before asking for a review"):
        postmortem_save(post_mortem=post_mortem, user=responder, monitoring_gap="blind spot")
        postmortem_submit(post_mortem=post_mortem, user=responder)


def test_publishing_goes_through_review_and_is_final(resolved, responder, reviewer):
    post_mortem = PostMortem.objects.get(incident=resolved)
    with pytest.raises(DomainError, match="ask for a review first"):
        postmortem_publish(post_mortem=post_mortem, user=responder)
    postmortem_save(post_mortem=post_mortem, user=responder, **WRITTEN)
    postmortem_submit(post_mortem=post_mortem, user=responder)
    postmortem_return_to_draft(post_mortem=post_mortem, user=responder, reason="add the cost")
    postmortem_submit(post_mortem=post_mortem, user=responder)
    post_mortem = postmortem_publish(post_mortem=post_mortem, user=reviewer)
    assert post_mortem.state == PostMortem.State.PUBLISHED and post_mortem.published_by == reviewer
    assert Notification.objects.filter(kind="postmortem.published").count() == 1
    assert "Post-mortem published (on time)." in resolved.timeline.last().text
    with pytest.raises(DomainError, match="published and can no longer change"):
        postmortem_save(post_mortem=post_mortem, user=responder, root_cause="rewritten")
    actions = list(audit_entries_for(post_mortem).order_by("id").values_list("action", flat=True))
    assert actions == [
        "postmortem.created", "postmortem.edited", "postmortem.submitted", "gate.requested", "postmortem.returned",
        "postmortem.submitted", "gate.requested", "gate.decided", "postmortem.published",
    ]


def test_only_responders_write_post_mortems(resolved, make_user):
    with pytest.raises(NotAllowed):
        postmortem_save(post_mortem=PostMortem.objects.get(incident=resolved), user=make_user("vera", "viewer"),
                        root_cause="x")


def test_a_post_mortem_starts_by_hand_only_once_resolved(responder, clock):
    incident = open_incident(severity="SEV3", detected_at=clock.now)
    with pytest.raises(DomainError, match="starts once the incident is resolved"):
        postmortem_start(incident=incident, user=responder)
    incident = walk(incident, responder, clock, [(5, "triaged"), (5, "resolved")])
    first = postmortem_start(incident=incident, user=responder)
    assert postmortem_start(incident=incident, user=responder) == first


def test_the_resolved_update_names_the_exported_file(resolved):
    assert post_mortem_path(resolved) == "docs/post-mortems/2026-11-20-postgres-disk-full.md"


def test_blameless_statement_is_the_playbooks():
    assert BLAMELESS_STATEMENT.startswith("This incident is not the fault of a person.")
    # It is shown before the action items on some pages and after them in the export: it names no place.
    assert "above" not in BLAMELESS_STATEMENT and "below" not in BLAMELESS_STATEMENT


# Action items ---------------------------------------------------------------------------------


@pytest.fixture
def post_mortem(resolved):
    return PostMortem.objects.get(incident=resolved)


def test_action_item_needs_a_description_an_owner_and_a_date(post_mortem, responder):
    with pytest.raises(DomainError, match="needs a description"):
        action_item_add(post_mortem=post_mortem, user=responder, description=" ", owner=responder,
                        due_date=date(2026, 12, 1))
    with pytest.raises(DomainError, match="needs an owner"):
        action_item_add(post_mortem=post_mortem, user=responder, description="Alert at 80 %", owner=None,
                        due_date=date(2026, 12, 1))


def test_overdue_action_item_reminds_its_owner_once_a_day(post_mortem, responder, make_user, clock):
    owner = make_user("bruno", "oncall", email="bruno@formation-hub.test")
    item = action_item_add(post_mortem=post_mortem, user=responder, description="Alert at 80 % disk",
                           owner=owner, due_date=date(2026, 11, 25))
    # Due Wednesday 25th: the first reminder is Thursday 26th 09:00 Paris (08:00 UTC).
    assert item.reminder_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert action_items_remind_overdue(datetime(2026, 11, 26, 7, 59, tzinfo=UTC)) == 0
    assert action_items_remind_overdue(datetime(2026, 11, 26, 8, 0, tzinfo=UTC)) == 1
    assert action_items_remind_overdue(datetime(2026, 11, 26, 8, 1, tzinfo=UTC)) == 0  # same day: no repeat
    assert action_items_remind_overdue(datetime(2026, 11, 26, 17, 0, tzinfo=UTC)) == 0
    assert action_items_remind_overdue(datetime(2026, 11, 27, 8, 0, tzinfo=UTC)) == 1  # next day
    reminders = Notification.objects.filter(kind="action_item.overdue").order_by("id")
    assert [n.dedupe_key for n in reminders] == [
        f"action-item-{item.pk}-overdue-2026-11-26", f"action-item-{item.pk}-overdue-2026-11-27",
    ]
    assert reminders[0].recipients == ["bruno@formation-hub.test"]
    assert "1 day(s) ago" in reminders[0].body


def test_a_late_sweep_sends_one_reminder_not_one_per_missed_day(post_mortem, responder, clock):
    action_item_add(post_mortem=post_mortem, user=responder, description="Alert", owner=responder,
                    due_date=date(2026, 11, 25))
    assert action_items_remind_overdue(datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == 1
    assert action_items_remind_overdue(datetime(2026, 11, 30, 12, 5, tzinfo=UTC)) == 0


def test_done_items_are_not_reminded_and_reopened_ones_are(post_mortem, responder, clock):
    item = action_item_add(post_mortem=post_mortem, user=responder, description="Alert", owner=responder,
                           due_date=date(2026, 11, 19))
    item = action_item_set_status(item=item, user=responder, status="done")
    assert item.done_at is not None and item.reminder_at is None
    assert action_items_remind_overdue(clock.now + timedelta(days=2)) == 0
    item = action_item_set_status(item=item, user=responder, status="open")
    assert item.reminder_at == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # next morning after now
    assert action_items_remind_overdue(clock.now + timedelta(days=2)) == 1


def test_the_owner_may_move_an_item_but_a_stranger_may_not(post_mortem, responder, make_user):
    owner = make_user("stan", "viewer")
    item = action_item_add(post_mortem=post_mortem, user=responder, description="Alert", owner=owner,
                           due_date=date(2026, 12, 1))
    assert action_item_set_status(item=item, user=owner, status="in_progress").status == "in_progress"
    with pytest.raises(NotAllowed):
        action_item_set_status(item=item, user=make_user("vera", "viewer"), status="done")
    with pytest.raises(DomainError, match="already in progress"):
        action_item_set_status(item=item, user=owner, status="in_progress")


def test_rescheduling_moves_the_reminder(post_mortem, responder):
    item = action_item_add(post_mortem=post_mortem, user=responder, description="Alert", owner=responder,
                           due_date=date(2026, 11, 25))
    item = action_item_reschedule(item=item, user=responder, due_date=date(2026, 12, 10))
    assert item.reminder_at == datetime(2026, 12, 11, 8, 0, tzinfo=UTC)


def test_the_one_minute_sweep_sends_overdue_reminders(post_mortem, responder):
    action_item_add(post_mortem=post_mortem, user=responder, description="Alert", owner=responder,
                    due_date=date(2026, 11, 25))
    done = incidents_sweep(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    assert done["overdue action items"] == 1
    assert done["overdue post-mortems"] == 0


def test_an_unpublished_post_mortem_past_due_is_reminded_daily(post_mortem, responder, reviewer):
    post_mortem.incident.commander = responder
    post_mortem.incident.save()
    due = post_mortem.due_at
    assert postmortems_remind_overdue(due - timedelta(minutes=1)) == 0
    assert postmortems_remind_overdue(due) == 1
    assert postmortems_remind_overdue(due + timedelta(hours=1)) == 0
    assert postmortems_remind_overdue(due + timedelta(days=1)) == 1
    notification = Notification.objects.filter(kind="postmortem.overdue").first()
    assert notification.recipients == [responder.email]
    publish(post_mortem, responder, reviewer)
    assert postmortems_remind_overdue(due + timedelta(days=5)) == 0


def test_the_handoff_recap_lists_open_action_items(post_mortem, responder, make_user):
    owner = make_user("bruno", "oncall")
    action_item_add(post_mortem=post_mortem, user=responder, description="Alert at 80 % disk", owner=owner,
                    due_date=date(2026, 11, 18))
    done = action_item_add(post_mortem=post_mortem, user=responder, description="Drop the slot", owner=owner,
                           due_date=date(2026, 11, 18))
    action_item_set_status(item=done, user=responder, status=ActionItem.Status.DONE)
    body = recap_body(since=datetime(2026, 11, 16, 9, tzinfo=UTC), until=datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert (
        "Open action items (1):\n- Alert at 80 % disk - owner bruno, due 2026-11-18 - OVERDUE "
        "(post-mortem: Postgres disk full)"
    ) in body
    assert "Drop the slot" not in body


def test_the_author_cannot_publish_her_own_post_mortem(resolved, responder, reviewer, make_user):
    post_mortem = PostMortem.objects.get(incident=resolved)
    postmortem_save(post_mortem=post_mortem, user=responder, **WRITTEN)
    postmortem_submit(post_mortem=post_mortem, user=responder)
    with pytest.raises(NotAllowed, match="You wrote parts of this post-mortem"):
        postmortem_publish(post_mortem=post_mortem, user=responder)
    co_author = make_user("oncall-carl", "oncall")
    postmortem_save(post_mortem=post_mortem, user=co_author, estimated_cost="two hours of two people")
    with pytest.raises(NotAllowed, match="You wrote parts of this post-mortem"):
        postmortem_publish(post_mortem=post_mortem, user=co_author)
    post_mortem.refresh_from_db()
    assert post_mortem.state == PostMortem.State.IN_REVIEW
    postmortem_publish(post_mortem=post_mortem, user=reviewer)
    assert PostMortem.objects.get(pk=post_mortem.pk).published_by == reviewer
