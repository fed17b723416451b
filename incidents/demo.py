"""Demo data for `make run`: a weekly rotation of alice and bruno, monitor settings, incidents in several states,
and the resolved SEV2 "Disk full" with its post-mortem in review and three action items."""

from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from formation_hub.console.timefmt import to_local
from incidents.models import ActionItem, Incident, MonitorSetting, PostMortem, Rotation, RotationMember, Runbook
from incidents.postmortems.action_items import action_item_add, action_item_set_status
from incidents.postmortems.services import postmortem_save, postmortem_start, postmortem_submit
from incidents.services import (
    incident_acknowledge,
    incident_add_note,
    incident_open,
    incident_set_runbook,
    incident_transition,
)

DISK_FULL = "Disk full on the database host"
DISK_FULL_POSTMORTEM = {
    "root_cause": "Postgres WAL files filled the data volume: a replication slot left by a removed replica kept "
    "every WAL segment, and nothing watched the slot or the disk trend.",
    "monitoring_gap": "We only alerted when Postgres refused writes. No alert on disk usage above 80 %, none on "
    "replication slot lag: a blind spot of about two days.",
    "lessons_learned": "Watch the trend, not only the outage. Remove replication slots with the replica they "
    "served (add it to the decommissioning checklist).",
    "estimated_cost": "half a day of two people; no data lost",
}
DISK_FULL_ITEMS = (
    # description, owner, due in days (negative: overdue), done
    ("Alert at 80 % disk use on the database host", "bruno", -2, False),
    ("Alert on replication slot lag above 1 GB", "alice", 10, False),
    ("Drop the orphan replication slot", "alice", -1, True),
)

DEMO_INCIDENTS = (
    # title, severity, source, service, category, hours ago, statuses to walk through
    ("Docmost answers 502 on every page", "SEV1", "alert", "docmost", "down", 0.2, []),
    ("Baserow sync lagging 20 minutes", "SEV2", "oncall_form", "sync", "performance", 2, ["triaged", "investigating"]),
    ("PDF export cuts the last page", "SEV3", "staff_report", "docmost", "to triage", 26, []),
    ("Disk full on the database host", "SEV2", "alert", "postgres", "disk", 72,
     ["triaged", "investigating", "mitigated", "resolved"]),
)


def load_demo_incidents() -> str:
    users = {user.username: user for user in get_user_model().objects.filter(username__in=["alice", "bruno"])}
    rotation, _ = Rotation.objects.get_or_create(
        name="Primary on call",
        defaults={"time_zone": "Europe/Paris", "handoff_weekday": 0, "handoff_time": time(10, 0),
                  "start_date": date(2026, 1, 5)},
    )
    for position, username in enumerate(["alice", "bruno"]):
        if username in users:
            RotationMember.objects.get_or_create(
                rotation=rotation, user=users[username], defaults={"position": position}
            )
    MonitorSetting.objects.get_or_create(monitor="docmost-http", defaults={"severity": "SEV1", "service": "docmost"})
    MonitorSetting.objects.get_or_create(monitor="baserow-http", defaults={"severity": "SEV2", "service": "baserow"})
    created = 0
    responder = users.get("alice")
    for title, severity, source, service, category, hours_ago, statuses in DEMO_INCIDENTS:
        if Incident.objects.filter(title=title).exists():
            continue
        incident = incident_open(
            title=title, severity=severity, source=source, service=service, category=category,
            detected_at=timezone.now() - timedelta(hours=hours_ago), reported_by=users.get("bruno"),
            user_facing=severity == "SEV1",
        )
        if statuses and responder is not None:
            incident_acknowledge(incident=incident, user=responder)
            for status in statuses:
                incident = incident_transition(incident=incident, to_status=status, user=responder)
            incident_add_note(incident=incident, user=responder, text="Demo: checked the containers and the logs.")
        created += 1
    post_mortem = _demo_post_mortem(responder, users) if responder is not None else None
    return (
        f"rotation '{rotation.name}' (alice, bruno), {created} incident(s) created"
        + (f", post-mortem '{post_mortem.title}' ({post_mortem.get_state_display()})" if post_mortem else "")
    )


def _demo_post_mortem(responder, users) -> PostMortem | None:
    """The resolved SEV2 gets its post-mortem, written and in review, with action items (one overdue)."""
    incident = Incident.objects.filter(title=DISK_FULL, status="resolved").first()
    if incident is None:
        return None
    runbook = Runbook.objects.filter(slug="disk-full").first()
    if runbook is not None and incident.runbook_id is None:
        incident_set_runbook(incident=incident, user=responder, runbook=runbook)
    post_mortem = postmortem_start(incident=incident, user=responder)
    if post_mortem.state == PostMortem.State.DRAFT and not post_mortem.root_cause:
        post_mortem = postmortem_save(post_mortem=post_mortem, user=responder, **DISK_FULL_POSTMORTEM)
        post_mortem = postmortem_submit(post_mortem=post_mortem, user=responder)
    if not ActionItem.objects.filter(post_mortem=post_mortem).exists():
        today = to_local(timezone.now()).date()
        for description, owner, days, done in DISK_FULL_ITEMS:
            if owner not in users:
                continue
            item = action_item_add(
                post_mortem=post_mortem, user=responder, description=description, owner=users[owner],
                due_date=today + timedelta(days=days),
            )
            if done:
                action_item_set_status(item=item, user=responder, status=ActionItem.Status.DONE)
    return post_mortem
