"""Demo data for `make run`: two released versions, unreleased changes, a smoke check, a freeze window."""

from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from releases.models import Change, FreezeWindow, PrerequisiteReport, Release, SmokeCheck

DEMO_SHA = "4f1c2a9e7b3d5f60812a4c6e8b0d2f4a6c8e0b1d"
HISTORY = (
    ("0.1.0", date(2026, 9, 14), [("feature", "Ops console with audit trail and gates"),
                                  ("feature", "Baserow to Docmost sync of projets and formations")]),
    ("0.2.0", date(2026, 10, 19), [("feature", "Incidents with response clocks and on-call paging"),
                                   ("fix", "Docmost page links survive a rename")]),
)
UNRELEASED = (
    ("feature", "Release console: prerequisites, gates, deploy, watch and rollback", "chloe"),
    ("fix", "Timesheet export keeps the organisation time zone", "bruno"),
    ("docs", "Runbook for the release watch period", "alice"),
)


def load_demo_releases() -> str:
    users = {user.username: user for user in get_user_model().objects.filter(username__in=["alice", "bruno", "chloe"])}
    for version, released_on, changes in HISTORY:
        release, created = Release.objects.get_or_create(
            version=version,
            defaults={"status": Release.Status.RELEASED, "released_on": released_on, "sha": DEMO_SHA[:12] + version[2],
                      "title": f"Demo release {version}", "released_at": timezone.now() - timedelta(days=30)},
        )
        if created:
            for kind, text in changes:
                Change.objects.create(release=release, type=kind, text=text, source=Change.Source.IMPORT)
    for kind, text, author in UNRELEASED:
        Change.objects.get_or_create(type=kind, text=text, defaults={"author": users.get(author)})
    SmokeCheck.objects.get_or_create(
        name="console health", defaults={"url": "http://127.0.0.1:8000/healthz", "expected_status": 200}
    )
    SmokeCheck.objects.get_or_create(
        name="console login page", defaults={"url": "http://127.0.0.1:8000/accounts/login/", "expected_status": 200,
                                             "expected_text": "Log in"}
    )
    next_monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    FreezeWindow.objects.get_or_create(
        name="Courses in session (demo)",
        defaults={"kind": FreezeWindow.Kind.COURSES, "start_date": next_monday, "start_time": time(9, 0),
                  "end_date": next_monday, "end_time": time(12, 30), "time_zone": "Europe/Paris"},
    )
    if not PrerequisiteReport.objects.exists():
        now = timezone.now()
        PrerequisiteReport.objects.create(kind="ci", outcome="success", sha=DEMO_SHA, observed_at=now,
                                          url="https://ci.example/runs/1", source="demo")
        PrerequisiteReport.objects.create(kind="e2e", outcome="success", sha=DEMO_SHA, observed_at=now,
                                          url="https://ci.example/runs/2", source="demo")
        PrerequisiteReport.objects.create(kind="backup", outcome="success", observed_at=now,
                                          detail="pg_dump restored into a scratch database", source="demo")
    unreleased = Change.objects.filter(release__isnull=True).count()
    return f"{Release.objects.count()} releases, {unreleased} unreleased changes (next SHA for a demo: {DEMO_SHA})"
