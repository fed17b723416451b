"""Daily checks of the build playbook's habits on stories: a feature branch lives at most 3 days before it
merges (STORY_BRANCH_MAX_DAYS), and commits follow `type(scope): description`. Each finding is written in
the story's history and e-mailed to its author once (the release approvers when it has none)."""

import hashlib
import re
from datetime import datetime, timedelta

from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.forge import ForgeError, forge_client, forge_connection, pull_request_ref
from formation_hub.models import AuditEntry
from formation_hub.notifications import notify
from releases import conf
from releases.models import Story, StoryEvent

COMMIT_TYPES = ("feat", "fix", "refactor", "test", "docs", "chore", "perf", "sec", "build", "ci", "style", "revert")
CONVENTIONAL = re.compile(rf"^({'|'.join(COMMIT_TYPES)})(\([\w.\-/ ]+\))?!?: \S")
UNMERGED_STEPS = (Story.Step.CODE, Story.Step.TESTS, Story.Step.REVIEW, Story.Step.PULL_REQUEST, Story.Step.CI,
                  Story.Step.MERGE)


def commit_problems(commits: list[tuple[str, str]]) -> list[str]:
    """'<short sha> <first line>' of every commit whose first line is not `type(scope): description`."""
    bad = []
    for sha, message in commits:
        first = message.splitlines()[0] if message else ""
        if first.startswith(("Merge ", "Revert \"")) or CONVENTIONAL.match(first):
            continue
        bad.append(f"{sha[:10]} {first[:100]}")
    return bad


def _branch_started_at(story: Story) -> datetime:
    started = (StoryEvent.objects.filter(story=story, from_step=Story.Step.PREFLIGHT)
               .order_by("at").values_list("at", flat=True).first())
    return started or story.created_at


def _tell(story: Story, *, kind: str, subject: str, body: str, key: str) -> None:
    StoryEvent.objects.create(story=story, at=timezone.now(), kind=kind, note=body[:2000])
    audit_record(action=f"story.{kind}", target=story, actor_label="releases:story-checks",
                 result=AuditEntry.Result.REFUSED, message=body[:500])
    recipients = [story.author.email] if story.author and story.author.email else None
    notify(kind=f"story.{kind}", subject=subject, body=body, recipients=recipients, dedupe_key=key, target=story)


def stories_check(*, now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    limit = timedelta(days=conf.story_branch_max_days())
    found = []
    stories = Story.objects.filter(state=Story.State.ACTIVE, step__in=UNMERGED_STEPS).select_related("author")
    for story in stories:
        started = _branch_started_at(story)
        if now - started > limit and not StoryEvent.objects.filter(story=story, kind="branch_too_old").exists():
            days = (now - started).days
            _tell(story, kind="branch_too_old", key=f"story.branch_too_old:{story.pk}",
                  subject=f"{story.key}: {story.branch} is {days} days old",
                  body=(f"The branch {story.branch} was started {days} days ago and is not merged yet; the build "
                        f"playbook keeps a story to 1-3 days. Split it, or get it reviewed and merged."))
            found.append(f"{story.key}: branch {days} days old")
        found += _check_commits(story)
    return found


def _check_commits(story: Story) -> list[str]:
    ref = pull_request_ref(story.pull_request_url)
    if ref is None or forge_connection() is None:
        return []
    try:
        bad = commit_problems(forge_client().pull_request_commits(ref))
    except ForgeError as error:
        return [f"{story.key}: commits not read ({error.message})"]
    if not bad:
        return []
    digest = hashlib.sha256("\n".join(bad).encode()).hexdigest()[:16]
    key = f"story.commit_convention:{story.pk}:{digest}"
    if not StoryEvent.objects.filter(story=story, kind="commit_convention", note__contains=bad[0]).exists():
        _tell(story, kind="commit_convention", key=key,
              subject=f"{story.key}: {len(bad)} commit(s) outside the convention",
              body="Commits are written `type(scope): description` (types: " + ", ".join(COMMIT_TYPES) + "). "
                   "These are not:\n" + "\n".join(bad))
    return [f"{story.key}: {len(bad)} commit(s) outside the convention"]
