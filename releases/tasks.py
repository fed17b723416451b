"""django-q2 entry points of the releases app: thin, each loads rows and calls a service."""

from formation_hub.models import Gate
from formation_hub.observability.correlation import correlation
from releases import rituals
from releases.delivery.forge import review_write
from releases.delivery.story_checks import stories_check
from releases.delivery.upstream_watch import upstream_releases_watch
from releases.models import Release
from releases.pipeline.approvals import approvals_expire
from releases.pipeline.forge_release import release_publish_on_forge
from releases.pipeline.rollout import release_watch_tick


def watch_tick() -> str:
    """Every minute: the watch-period health checks of each watched release, and approval expiry."""
    checked = 0
    with correlation():
        for release in Release.objects.filter(status=Release.Status.WATCHING):
            checked += len(release_watch_tick(release=release))
        voided = approvals_expire()
    return f"{checked} watch check(s), {voided} approval(s) expired"


def write_story_review(gate_id: int, pull_request_url: str, head_sha: str) -> int | None:
    with correlation():
        return review_write(gate=Gate.objects.get(pk=gate_id), pull_request_url=pull_request_url, head_sha=head_sha)


def publish_release_on_forge(release_id: int) -> str:
    with correlation():
        return release_publish_on_forge(release_id=release_id)


def monthly_bump_review() -> str:
    return rituals.monthly_bump_review()


def quarterly_majors_review() -> str:
    return rituals.quarterly_majors_review()


def monthly_release_reminder() -> str:
    return rituals.monthly_release_reminder()


def watch_upstream_releases() -> str:
    with correlation():
        return "; ".join(upstream_releases_watch())


def check_stories() -> str:
    with correlation():
        return "; ".join(stories_check()) or "every story is fine"
