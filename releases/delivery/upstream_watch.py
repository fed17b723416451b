"""Watch Docmost and Baserow for new releases (bump-deps.md, upstream sequence step 1: "detect new version
via release watch"): each new release becomes an upstream-image bump, which takes the staging-test path.

A schedule reads each image's releases API (UPSTREAM_WATCH). The running version is the last merged bump
of the image, else UPSTREAM_RUNNING_VERSIONS; a release already recorded as a bump is not recorded again.
"""

import requests

from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry
from releases import conf
from releases.delivery.bump_services import bump_create
from releases.models import DependencyBump
from releases.rules.semver import InvalidVersion, parse_version

TIMEOUT = (3.05, 10)


def _latest_tag(url: str) -> str:
    response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    response.raise_for_status()
    data = response.json()
    release = data[0] if isinstance(data, list) and data else data
    if not isinstance(release, dict) or not release.get("tag_name"):
        raise ValueError("no tag_name in the answer")
    return str(release["tag_name"])


def _running_version(image: str) -> str:
    merged = (DependencyBump.objects.filter(package=image, state=DependencyBump.State.MERGED)
              .order_by("-merged_at", "-id").first())
    return merged.to_version if merged else conf.upstream_running_versions().get(image, "")


def _newer(candidate: str, running: str) -> bool:
    try:
        return parse_version(candidate) > parse_version(running)
    except (InvalidVersion, ValueError, DomainError):
        return False


def upstream_releases_watch() -> list[str]:
    """Check every watched image; returns one line per image (what was found or why not)."""
    lines = []
    for image, url in conf.upstream_watch().items():
        try:
            latest = _latest_tag(url)
        except (requests.RequestException, ValueError) as error:
            audit_record(action="bump.upstream_watch_failed", actor_label="releases:upstream-watch",
                         result=AuditEntry.Result.FAILED, changes={"image": image, "url": url}, message=str(error))
            lines.append(f"{image}: could not read {url} ({error})")
            continue
        running = _running_version(image)
        version = latest.removeprefix("v")
        if not running or not _newer(version, running):
            lines.append(f"{image}: {latest} is not newer than {running or 'an unknown version'}")
            continue
        if DependencyBump.objects.filter(package=image, to_version=version).exists():
            lines.append(f"{image}: {version} already recorded")
            continue
        bump = bump_create(package=image, ecosystem="docker", from_version=running, to_version=version,
                           source=DependencyBump.Source.WATCH).bump
        lines.append(f"{image}: {running} -> {version} recorded as bump #{bump.pk} ({bump.get_category_display()})")
    return lines
