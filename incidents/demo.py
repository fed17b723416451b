"""Demo data for `make run`: a weekly rotation of alice and bruno, monitor settings, incidents in several states."""

from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import Incident, MonitorSetting, Rotation, RotationMember
from incidents.services import incident_acknowledge, incident_add_note, incident_open, incident_transition

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
    return f"rotation '{rotation.name}' (alice, bruno), {created} incident(s) created"
