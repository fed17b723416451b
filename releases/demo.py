"""Demo data for `make run`: two released versions, unreleased changes, a smoke check, a freeze window; stories at
different steps of the build playbook and a dependency bump of each category."""

from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from formation_hub.gates.decisions import gate_decide, pending_gate
from releases.delivery import bump_services, stories
from releases.models import Change, DependencyBump, FreezeWindow, PrerequisiteReport, Release, SmokeCheck, Story

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
        name="console health", defaults={"url": "http://127.0.0.1:8000/healthz?scope=app", "expected_status": 200}
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


DEMO_STORIES = (
    # title, steps to walk (see load_demo_delivery), user story
    ("Setup Baserow tables", "completed", "As ops, I want the personne, projet and formation tables, so that the "
                                          "sync has somewhere to write."),
    ("Timesheet export", "review", "As a trainer, I want to export my hours as CSV, so that I can invoice."),
    ("Capacity alerts", "ci", "As a coordinator, I want an alert when a trainer is over capacity, so that I can "
                              "reassign sessions."),
    ("Docmost page per projet", "rework", "As a trainer, I want a wiki page per projet, so that material is found."),
    ("Single sign-on", "blocked", "As staff, I want one login for Docmost and Baserow, so that I stop juggling."),
    ("Session calendar feed", "preflight", "As a trainer, I want my sessions in my calendar, so that I plan ahead."),
)
DEMO_CRITERIA = (
    "Scenario: the happy path\n  Given a trainer with two sessions this week\n  When they open the page\n"
    "  Then both sessions are listed\n  And the total of hours is shown"
)
DEMO_BUMPS = (
    # package, ecosystem, from, to, severity, advisories, scope, pull request
    ("lodash", "npm", "4.17.20", "4.17.21", "critical", ["GHSA-35jh-r3h4-6jhm"], "production", 41),
    ("django", "pip", "5.2.18", "5.2.19", "none", [], "production", 42),
    ("vitest", "npm", "1.2.0", "1.3.0", "none", [], "development", 43),
    ("hono", "npm", "3.12.8", "4.0.0", "none", [], "production", 44),
    ("docmost/docmost", "docker", "0.8.4", "0.9.0", "none", [], "production", 0),
    ("postgres", "docker", "15-alpine", "16-alpine", "none", [], "production", 0),
    ("node", "docker", "20-alpine", "22-alpine", "none", [], "production", 0),
)
DEMO_PR = "https://forgejo.formation-hub.local/ops/formation-hub/pulls/{}"


def _walk(story, target: str, dev, lead) -> None:
    """Move a demo story through the playbook with the real services, up to where the demo wants it."""
    def decide(gate_type, decision, reason=""):
        gate = pending_gate(target=story, gate_type=gate_type)
        gate_decide(gate=gate, user=lead, decision=decision, subject=gate.subject, reason=reason)

    if target == "preflight":
        return
    stories.story_advance(story=story, user=dev)
    if target == "rework":
        stories.story_advance(story=story, user=dev, head_sha=DEMO_SHA)
        stories.story_advance(story=story, user=dev, coverage=76)
        decide(stories.REVIEW_GATE, stories.NEEDS_REWORK, "Link the page from the projet row too.")
        return
    stories.story_advance(story=story, user=dev, head_sha=DEMO_SHA)
    stories.story_advance(story=story, user=dev, coverage=87)
    if target == "review":
        return
    if target == "blocked":
        decide(stories.REVIEW_GATE, stories.BLOCKED, "Waits for the identity provider choice.")
        return
    decide(stories.REVIEW_GATE, stories.APPROVED)
    stories.story_advance(story=story, user=dev, pull_request_url=DEMO_PR.format(story.number))
    if target == "ci":
        return
    stories.story_ci_report(story=story, status="green")
    decide(stories.MERGE_GATE, stories.APPROVED)
    stories.story_advance(story=story, user=dev)
    decide(stories.VALIDATION_GATE, stories.APPROVED, "Tried on staging with Yan.")


def load_demo_delivery() -> str:
    """Stories at different steps of the build playbook and a bump of each category (idempotent)."""
    users = {user.username: user for user in get_user_model().objects.filter(username__in=["bruno", "chloe"])}
    dev, lead = users.get("bruno"), users.get("chloe")
    if not Story.objects.exists() and dev is not None and lead is not None:
        for title, target, user_story in DEMO_STORIES:
            story = stories.story_create(title=title, user_story=user_story, acceptance_criteria=DEMO_CRITERIA,
                                         sprint="sprint-1", author=dev, user=dev)
            _walk(story, target, dev, lead)
    if not DependencyBump.objects.exists():
        for package, ecosystem, old, new, severity, advisories, scope, number in DEMO_BUMPS:
            bump_services.bump_create(
                package=package, ecosystem=ecosystem, from_version=old, to_version=new, severity=severity,
                advisories=advisories, scope=scope, pull_request_url=DEMO_PR.format(number) if number else "",
                source=DependencyBump.Source.DEPENDABOT if number else DependencyBump.Source.MANUAL,
            )
    return f"{Story.objects.count()} stories, {DependencyBump.objects.count()} dependency bumps"
