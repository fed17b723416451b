"""Post-mortems (playbook incident.md, step [7] and "Post-mortem template"); their action items are in
`incidents.postmortems.action_items`.

A post-mortem is required for SEV1 and SEV2, and for a SEV3 that belongs to a recurring pattern. It
is created, pre-filled from the incident, when the incident is resolved, and is due 7 days later.
It goes draft -> in review -> published; the incident closes only once it is published.
"""

import hashlib
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local, to_local
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import GateType, gate_decide, gate_request, gate_void, pending_gate
from formation_hub.models import AuditEntry, Gate, Notification
from formation_hub.notifications import notify, notify_team
from incidents import conf
from incidents.models import Incident, PostMortem, Severity, Status, StatusUpdate, TimelineEntry
from incidents.permissions import RESPOND, actor, require_responder
from incidents.postmortems.action_items import emails_of, next_local_morning
from incidents.response.timeline import timeline_add

# The playbook's "Mention blameless", in English.
BLAMELESS_STATEMENT = (
    "This incident is not the fault of a person. It is a lack of system safeguards. "
    "The action items above aim to add these safeguards."
)
REQUIRED_SEVERITIES = (Severity.SEV1, Severity.SEV2)
EDITABLE_FIELDS = (
    "timeline", "downtime", "users_affected", "data_loss", "estimated_cost", "root_cause", "monitoring_gap",
    "lessons_learned",
)
REQUIRED_TO_REVIEW = {
    "root_cause": "the root cause",
    "monitoring_gap": "why monitoring did not alert earlier",
    "lessons_learned": "the lessons learned",
}
PLACEHOLDER = "HH:MM"
REVIEW_GATE = "incidents.postmortem_review"
PUBLISH, BACK_TO_DRAFT = "publish", "back_to_draft"


def in_recurring_pattern(incident: Incident) -> bool:
    return incident.recurrence_escalations.exists()


def postmortem_required(incident: Incident) -> bool:
    """SEV1 and SEV2 always; a SEV3 only when it belongs to a recurring pattern (playbook, SEV3 step [4])."""
    return incident.severity in REQUIRED_SEVERITIES or in_recurring_pattern(incident)


def format_duration_hm(value: timedelta) -> str:
    minutes = max(int(value.total_seconds() // 60), 0)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def restored_at(incident: Incident) -> datetime | None:
    """Service restored: the mitigation, or the resolution when no mitigation was recorded."""
    return incident.mitigated_at or incident.resolved_at


def _local_time(value: datetime, day: date) -> str:
    local = to_local(value)
    return local.strftime("%H:%M") if local.date() == day else local.strftime("%a %d %b %H:%M")


def prefill_timeline(incident: Incident, entries: list[TimelineEntry]) -> str:
    """The template's five milestones in local HH:MM, then the incident's whole timeline."""
    day = to_local(incident.detected_at).date()
    milestones = [
        (incident.detected_at, "detection"),
        (incident.triaged_at or incident.acknowledged_at, "triage"),
        (incident.investigating_at, "mitigation start"),
        (restored_at(incident), "service restored"),
        (None, "root cause confirmed"),
    ]
    lines = [f"Detected on {to_local(incident.detected_at):%a %d %b %Y}; later days are named.", ""]
    lines += [f"- {_local_time(moment, day) if moment else PLACEHOLDER} {label}" for moment, label in milestones]
    if entries:
        lines += ["", "Full timeline:", ""]
        lines += [
            f"- {_local_time(entry.time, day)} {entry.get_kind_display()} ({entry.author_label}): {entry.text}"
            for entry in entries
        ]
    return "\n".join(lines)


def _root_cause_from_updates(incident: Incident) -> str:
    """The 'Root cause:' line of the latest resolved status update, when someone wrote one."""
    update = incident.status_updates.filter(kind=StatusUpdate.Kind.RESOLVED).order_by("-posted_at").first()
    if update is None:
        return ""
    for line in update.body.splitlines():
        if line.lower().startswith("root cause:"):
            cause = line.split(":", 1)[1].strip()
            return "" if cause.startswith("<") else cause
    return ""


def postmortem_prefill(incident: Incident) -> dict[str, str]:
    """The sections the incident already answers; people write the rest."""
    entries = list(incident.timeline.order_by("time", "id"))
    restored = restored_at(incident)
    if incident.source == "alert":
        detected = f"Detected by monitoring ({incident.monitor or 'alert'}) at {format_local(incident.detected_at)}."
    else:
        detected = (
            f"Detected through the {incident.get_source_display()} at {format_local(incident.detected_at)}, "
            "not by monitoring."
        )
    assessment = getattr(incident, "breach_assessment", None)
    if incident.data_loss:
        data_loss = "Yes: " + (assessment.data_categories if assessment and assessment.data_categories
                               else "how much and what (fill in).")
    else:
        data_loss = "No"
    return {
        "timeline": prefill_timeline(incident, entries),
        "downtime": format_duration_hm(restored - incident.detected_at) if restored else "",
        "users_affected": "Yes, user-facing: how many (fill in)." if incident.user_facing else "None reported",
        "data_loss": data_loss,
        "estimated_cost": "",
        "root_cause": _root_cause_from_updates(incident),
        "monitoring_gap": detected,
        "lessons_learned": "",
    }


def postmortem_slug(incident: Incident) -> str:
    return slugify(incident.title)[:60].strip("-") or f"incident-{incident.pk}"


def _create(incident: Incident, user, now: datetime) -> PostMortem:
    resolved = incident.resolved_at or now
    due_at = resolved + conf.postmortem_due()
    post_mortem = PostMortem.objects.create(
        incident=incident, title=incident.title, slug=postmortem_slug(incident), due_at=due_at, reminder_at=due_at,
        **postmortem_prefill(incident),
    )
    timeline_add(
        incident=incident, kind=TimelineEntry.Kind.CHANGE, user=user, time=now,
        text=f"Post-mortem started (pre-filled from this incident), due {format_local(due_at)}.",
    )
    audit_record(
        action="postmortem.created", target=post_mortem, actor=actor(user),
        changes={"incident": incident.pk, "due_at": due_at},
    )
    return post_mortem


def postmortem_open_if_required(*, incident: Incident, user=None) -> PostMortem | None:
    """Called when an incident is resolved (or becomes one that needs it while resolved): create it once."""
    if incident.status != Status.RESOLVED or not postmortem_required(incident):
        return None
    if PostMortem.objects.filter(incident=incident).exists():
        return None
    return _create(incident, user, timezone.now())


@transaction.atomic
def postmortem_start(*, incident: Incident, user) -> PostMortem:
    """Start a post-mortem by hand, e.g. for a SEV3 worth learning from."""
    require_responder(user)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    existing = PostMortem.objects.filter(incident=incident).first()
    if existing is not None:
        return existing
    if incident.status != Status.RESOLVED:
        raise DomainError(
            f"Incident #{incident.pk} is {incident.status}: a post-mortem starts once the incident is resolved."
        )
    return _create(incident, user, timezone.now())


def _lock(post_mortem: PostMortem) -> PostMortem:
    return PostMortem.objects.select_for_update().select_related("incident").get(pk=post_mortem.pk)


@transaction.atomic
def postmortem_save(*, post_mortem: PostMortem, user, **fields) -> PostMortem:
    """Edit the sections of a draft or a post-mortem in review; a published one is final."""
    require_responder(user)
    post_mortem = _lock(post_mortem)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown post-mortem section(s): {', '.join(sorted(unknown))}.")
    if post_mortem.is_published:
        raise DomainError("This post-mortem is published and can no longer change; add action items instead.")
    changed = {name: value for name, value in fields.items() if (value or "") != getattr(post_mortem, name)}
    if not changed:
        return post_mortem
    for name, value in changed.items():
        setattr(post_mortem, name, value or "")
    post_mortem.save()
    audit_record(action="postmortem.edited", target=post_mortem, actor=actor(user), changes={"sections": list(changed)})
    review = pending_gate(target=post_mortem, gate_type=REVIEW_GATE)
    if review is not None:
        gate_request(target=post_mortem, gate_type=REVIEW_GATE, subject=review_subject(post_mortem),
                     requested_by=review.requested_by)
    return post_mortem


def review_subject(post_mortem: PostMortem) -> str:
    """The text under review: an edit during the review asks for a review of the new text."""
    text = "\x1f".join(getattr(post_mortem, name) for name in EDITABLE_FIELDS)
    return f"text {hashlib.sha256(text.encode()).hexdigest()[:12]}"


@transaction.atomic
def postmortem_submit(*, post_mortem: PostMortem, user) -> PostMortem:
    """Draft -> in review, once the sections people must write are written."""
    require_responder(user)
    post_mortem = _lock(post_mortem)
    if post_mortem.state != PostMortem.State.DRAFT:
        raise DomainError(f"Only a draft goes to review; this post-mortem is {post_mortem.get_state_display()}.")
    missing = [label for name, label in REQUIRED_TO_REVIEW.items() if not getattr(post_mortem, name).strip()]
    if missing:
        raise DomainError(f"Write {', '.join(missing)} before asking for a review.")
    post_mortem.state, post_mortem.submitted_at = PostMortem.State.IN_REVIEW, timezone.now()
    post_mortem.save(update_fields=["state", "submitted_at", "updated_at"])
    audit_record(action="postmortem.submitted", target=post_mortem, actor=actor(user),
                 changes={"state": ["draft", "in_review"]})
    gate_request(target=post_mortem, gate_type=REVIEW_GATE, subject=review_subject(post_mortem),
                 requested_by=actor(user))
    return post_mortem


@transaction.atomic
def postmortem_return_to_draft(*, post_mortem: PostMortem, user, reason: str = "") -> PostMortem:
    """Take a post-mortem out of review (its author withdrawing it, or a reviewer sending it back)."""
    require_responder(user)
    post_mortem = _lock(post_mortem)
    if post_mortem.state != PostMortem.State.IN_REVIEW:
        raise DomainError(f"Only a post-mortem in review goes back to draft; this one is {post_mortem.state}.")
    review = pending_gate(target=post_mortem, gate_type=REVIEW_GATE)
    if review is not None:
        gate_void(gate=review, reason=f"returned to draft by {user.get_username() if user else 'the system'}")
    return _to_draft(post_mortem, user, reason)


def _to_draft(post_mortem: PostMortem, user, reason: str) -> PostMortem:
    post_mortem.state = PostMortem.State.DRAFT
    post_mortem.save(update_fields=["state", "updated_at"])
    audit_record(action="postmortem.returned", target=post_mortem, actor=actor(user),
                 changes={"state": ["in_review", "draft"]}, message=reason)
    return post_mortem


def postmortem_publish(*, post_mortem: PostMortem, user) -> PostMortem:
    """In review -> published (final), as the decision of its review gate: someone other than the person who
    asked for the review and than those who wrote it. Shared with the team; the incident may then be closed."""
    require_responder(user)
    post_mortem.refresh_from_db()
    if post_mortem.state != PostMortem.State.IN_REVIEW:
        raise DomainError(
            f"A post-mortem is published from review; this one is {post_mortem.get_state_display()}: "
            "ask for a review first."
        )
    review = pending_gate(target=post_mortem, gate_type=REVIEW_GATE)
    if review is None:
        raise DomainError("This post-mortem has no review waiting: send it back to draft and ask for a review.")
    gate_decide(gate=review, user=user, decision=PUBLISH, subject=review_subject(post_mortem))
    post_mortem.refresh_from_db()
    return post_mortem


def _check_reviewer(gate: Gate, post_mortem: PostMortem, user) -> None:
    """The reviewer wrote none of it: the review is a second pair of eyes."""
    wrote = AuditEntry.objects.filter(
        action="postmortem.edited", content_type=gate.content_type, object_id=gate.object_id, actor=user
    ).exists()
    if wrote:
        raise NotAllowed("You wrote parts of this post-mortem: another on-call person reviews and publishes it.")


def _on_review_decided(gate: Gate, post_mortem: PostMortem) -> None:
    post_mortem = _lock(post_mortem)
    if post_mortem.state != PostMortem.State.IN_REVIEW:
        raise DomainError(f"This post-mortem is {post_mortem.get_state_display()}, no longer in review.")
    if gate.decision == BACK_TO_DRAFT:
        _to_draft(post_mortem, gate.decided_by, gate.reason)
        return
    _publish(post_mortem, gate.decided_by)


def _publish(post_mortem: PostMortem, user) -> None:
    now = timezone.now()
    post_mortem.state, post_mortem.published_at, post_mortem.published_by = PostMortem.State.PUBLISHED, now, user
    post_mortem.reminder_at = None
    post_mortem.save(update_fields=["state", "published_at", "published_by", "reminder_at", "updated_at"])
    on_time = now <= post_mortem.due_at
    timeline_add(
        incident=post_mortem.incident, kind=TimelineEntry.Kind.CHANGE, user=user, time=now,
        text=f"Post-mortem published ({'on time' if on_time else 'late'}).",
    )
    audit_record(action="postmortem.published", target=post_mortem, actor=actor(user),
                 changes={"state": ["in_review", "published"], "on_time": on_time})
    notify_team(
        kind="postmortem.published", subject=f"Post-mortem published: {post_mortem.title}",
        body=f"Incident #{post_mortem.incident_id}. Read it: "
        f"{conf.base_url()}/oncall/postmortems/{post_mortem.pk}/",
        dedupe_key=f"postmortem-{post_mortem.pk}-published", target=post_mortem,
    )


def publication_notice(post_mortem: PostMortem) -> str:
    """What became of the team notification of a publication, in words for the person who published."""
    notification = Notification.objects.filter(dedupe_key=f"postmortem-{post_mortem.pk}-published").first()
    if notification is None:
        return "Published; no team notification was recorded."
    if notification.state == Notification.State.SKIPPED:
        return f"Published. The team was not notified: {notification.last_error}"
    if notification.state == Notification.State.SENT:
        return "Published and shared with the team channel."
    return "Published; the team channel notification is queued (see Console -> Notifications if it fails)."


REVIEW_GATE_TYPE = GateType(
    name=REVIEW_GATE, label="post-mortem review", decisions=(PUBLISH, BACK_TO_DRAFT), permission=RESPOND,
    current_subject=review_subject, check_decider=_check_reviewer, on_decided=_on_review_decided,
    reason_required_for=(BACK_TO_DRAFT,),
)


def postmortem_close_check(incident: Incident) -> str:
    """The closing rule: a required post-mortem must be published first ('' lets it close)."""
    post_mortem = PostMortem.objects.filter(incident=incident).first()
    if post_mortem is None:
        if postmortem_required(incident):
            return "its post-mortem is required: start it, write it and publish it first"
        return ""
    if not post_mortem.is_published:
        return f"its post-mortem is {post_mortem.get_state_display()}: publish it first"
    return ""


def postmortems_remind_overdue(now: datetime | None = None) -> int:
    """Remind the commander (or whoever acknowledged) of an unpublished post-mortem past due, once a day."""
    now = now or timezone.now()
    sent = 0
    due = PostMortem.objects.filter(
        reminder_at__lte=now, state__in=(PostMortem.State.DRAFT, PostMortem.State.IN_REVIEW)
    ).values_list("pk", "reminder_at")[:200]
    for pk, reminder_at in due:
        with transaction.atomic():
            if not PostMortem.objects.filter(pk=pk, reminder_at=reminder_at).update(
                reminder_at=next_local_morning(now)
            ):
                continue
            post_mortem = PostMortem.objects.select_related("incident__commander", "incident__acknowledged_by").get(
                pk=pk
            )
            incident = post_mortem.incident
            day = to_local(now).date()
            notify(
                kind="postmortem.overdue",
                subject=f"Overdue post-mortem: {post_mortem.title}",
                body=f"It was due {format_local(post_mortem.due_at)} and is still "
                f"{post_mortem.get_state_display()}. Incident #{incident.pk} stays open until it is published: "
                f"{conf.base_url()}/oncall/postmortems/{pk}/",
                recipients=emails_of(incident.commander or incident.acknowledged_by),
                dedupe_key=f"postmortem-{pk}-overdue-{day:%Y-%m-%d}", target=post_mortem,
            )
            audit_record(action="postmortem.reminded", target=post_mortem, changes={"due_at": post_mortem.due_at})
            sent += 1
    return sent
