"""django-q2 entry points of the releases app: thin, each loads rows and calls a service."""

from formation_hub.context import correlation
from releases.models import Release
from releases.services import approvals_expire, release_watch_tick


def watch_tick() -> str:
    """Every minute: the watch-period health checks of each watched release, and approval expiry."""
    checked = 0
    with correlation():
        for release in Release.objects.filter(status=Release.Status.WATCHING):
            checked += len(release_watch_tick(release=release))
        voided = approvals_expire()
    return f"{checked} watch check(s), {voided} approval(s) expired"
