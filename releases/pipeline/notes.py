"""Release notes and the changelog: a release's section, its announcement, CHANGELOG.md rendered from the
database and imported into it."""

from django.db import transaction
from django.db.models import Q

from formation_hub.audit import audit_record
from formation_hub.notifications import notify, notify_team
from releases.models import Change, Release
from releases.rules import changelog as keepachangelog
from releases.rules.semver import parse_version
from releases.selectors import existing_versions


def release_notes(release: Release) -> str:
    """The release's changelog section, without its title: the body of the announcement."""
    section = keepachangelog.Section(version=release.version, released_on=release.released_on)
    for change in release.changes.all():
        keepachangelog.add_entry(section, change.type, change.text)
    return keepachangelog.render_entries(section)


def release_announce(*, release: Release):
    """Post the release notes (its changelog section) to the team channel, once."""
    notes = release_notes(release) or "Maintenance release (no user-visible change)."
    title = f" - {release.title}" if release.title else ""
    notification = notify_team(
        kind="release.announced", subject=f"Released v{release.version}{title}",
        body=f"v{release.version} is live in production ({release.sha[:10]}).\n\n{notes}",
        dedupe_key=f"release-{release.pk}-announced", target=release,
    )
    notify(
        kind="release.live", subject=f"New version live: v{release.version}",
        body=f"v{release.version} passed its watch period and is released.\n\n{notes}",
        dedupe_key=f"release-{release.pk}-live", target=release,
    )
    return notification


def changelog_document() -> keepachangelog.Changelog:
    """CHANGELOG.md from the database: Unreleased, then each tagged release, highest version first."""
    document = keepachangelog.Changelog(sections=[])
    unreleased = document.unreleased
    pending = Change.objects.filter(Q(release__isnull=True) | Q(release__released_on__isnull=True))
    for change in pending.order_by("created_at", "id"):
        keepachangelog.add_entry(unreleased, change.type, change.text)
    releases = list(Release.objects.filter(released_on__isnull=False).prefetch_related("changes"))
    releases.sort(key=lambda release: release.semver, reverse=True)
    for release in releases:
        section = keepachangelog.Section(
            version=release.version, released_on=release.released_on,
            yanked=release.status in (Release.Status.ROLLED_BACK, Release.Status.ABORTED),
        )
        for change in release.changes.all():
            keepachangelog.add_entry(section, change.type, change.text)
        document.sections.append(section)
    return document


def changelog_render() -> str:
    return keepachangelog.render(changelog_document())


@transaction.atomic
def changelog_import(*, text: str, user) -> str:
    """Import an existing CHANGELOG.md: each version becomes a released release with its changes, the
    Unreleased entries become unreleased changes. Versions already known are skipped (re-import is a no-op)."""
    document = keepachangelog.parse(text)
    known = existing_versions()
    created_releases = created_changes = 0
    for section in document.sections:
        if section.version is None:
            existing = set(Change.objects.filter(release__isnull=True).values_list("type", "text"))
            for heading, entries in section.entries.items():
                for entry in entries:
                    kind, line = keepachangelog.change_of_entry(heading, entry)
                    if (kind, line) not in existing:
                        Change.objects.create(type=kind, text=line, source=Change.Source.IMPORT, created_by=user)
                        created_changes += 1
            continue
        version = parse_version(section.version)
        if any(version.compare(other) == 0 for other in known):
            continue
        release = Release.objects.create(
            version=section.version, imported=True, released_on=section.released_on, author=None,
            status=Release.Status.ROLLED_BACK if section.yanked else Release.Status.RELEASED,
        )
        created_releases += 1
        for heading, entries in section.entries.items():
            for entry in entries:
                kind, line = keepachangelog.change_of_entry(heading, entry)
                Change.objects.create(release=release, type=kind, text=line, source=Change.Source.IMPORT)
                created_changes += 1
    summary = f"{created_releases} release(s) and {created_changes} change(s) imported."
    audit_record(action="release.changelog_imported", actor=user, message=summary,
                 changes={"releases": created_releases, "changes": created_changes})
    return summary
