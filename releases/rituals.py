"""The delivery rituals of the playbooks, run by django-q2 calendar schedules (releases/apps.py):

- the 1st of each month: the bump review and security audit (bump-deps.md "1er du mois"), and a release
  reminder when nothing shipped for a month (release.md: at least one release a month);
- every quarter: the review of possible majors (bump-deps.md "Trimestriel").

Each sends one e-mail to the release approvers (the admins when there are none) per period: the dedupe key
names the period, so a re-run or a catch-up run never sends it twice.
"""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from formation_hub.access.permissions import holders
from formation_hub.console.timefmt import format_local, organisation_zone
from formation_hub.notifications import notify
from releases.delivery.bumps import NEEDS_MIGRATION_NOTE, Category
from releases.models import DependencyBump, Release
from releases.pipeline.state import DECIDE_RELEASE_GATE
from releases.selectors import unreleased_changes

NOTHING_SHIPPED_FOR = timedelta(days=31)


def _approver_emails() -> list[str] | None:
    emails = list(holders(DECIDE_RELEASE_GATE).exclude(email="").values_list("email", flat=True).distinct())
    return sorted(emails) or None


def _line(bump: DependencyBump) -> str:
    advisories = f" {', '.join(bump.advisories)}" if bump.advisories else ""
    waiting = f" - {bump.waiting_for}" if bump.waiting_for else ""
    return f"- {bump} ({bump.get_category_display()}, {bump.get_state_display()}{advisories}){waiting}"


def monthly_bump_review(*, now: datetime | None = None) -> str:
    now = now or timezone.now()
    period = f"{now.astimezone(organisation_zone()):%Y-%m}"
    bumps = list(DependencyBump.objects.exclude(state__in=DependencyBump.FINAL_STATES).order_by("category", "id"))
    security = [bump for bump in bumps if bump.category == Category.SECURITY or bump.advisories]
    body = "\n".join([
        f"Monthly dependency review ({period}): {len(bumps)} open bump(s), {len(security)} with a security "
        "advisory.", "", "Security first:", *([_line(b) for b in security] or ["- none"]), "",
        "Everything else open:", *([_line(b) for b in bumps if b not in security] or ["- none"]), "",
        f"Review queue: {reverse('admin:releases_dependencybump_review_queue')}",
        "Also on the 1st: capacity planning and the DR drill (Console -> Backup restores).",
    ])
    notify(kind="ritual.bump_review", subject=f"[formation-hub] monthly dependency review {period}", body=body,
           recipients=_approver_emails(), dedupe_key=f"ritual.bump_review:{period}")
    return f"{len(bumps)} open bump(s)"


def quarterly_majors_review(*, now: datetime | None = None) -> str:
    now = now or timezone.now()
    local = now.astimezone(organisation_zone())
    period = f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    majors = list(DependencyBump.objects.filter(category__in=NEEDS_MIGRATION_NOTE)
                  .exclude(state__in=DependencyBump.FINAL_STATES).order_by("created_at", "id"))
    body = "\n".join([
        f"Quarterly review of the possible majors ({period}): decide go / no-go on each, or note why it waits.",
        "", *([_line(b) for b in majors] or ["- no major bump is open: check the upstream changelogs (Node, "
                                             "PostgreSQL, Python, Docmost, Baserow) for one worth planning."]),
    ])
    notify(kind="ritual.majors_review", subject=f"[formation-hub] quarterly majors review {period}", body=body,
           recipients=_approver_emails(), dedupe_key=f"ritual.majors_review:{period}")
    return f"{len(majors)} major(s)"


def monthly_release_reminder(*, now: datetime | None = None) -> str:
    """Remind only when no release reached production for a month."""
    now = now or timezone.now()
    last = Release.objects.filter(released_at__isnull=False).order_by("-released_at").first()
    if last is not None and last.released_at > now - NOTHING_SHIPPED_FOR:
        return f"{last.tag} shipped {format_local(last.released_at)}: no reminder"
    period = f"{now.astimezone(organisation_zone()):%Y-%m}"
    pending = unreleased_changes().count()
    since = f"since {last.tag} ({format_local(last.released_at)})" if last else "yet"
    notify(kind="ritual.release_reminder", subject=f"[formation-hub] nothing shipped {since}",
           body=f"No release reached production {since}. {pending} change(s) wait under Unreleased.\n\n"
                f"Prepare one: {reverse('admin:releases_release_add')}",
           recipients=_approver_emails(), dedupe_key=f"ritual.release_reminder:{period}")
    return f"reminded: {pending} unreleased change(s)"
