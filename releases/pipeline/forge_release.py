"""A tagged release exists on the forge too: its annotated tag on the release SHA and a forge release whose
body is the release notes (the changelog section), as the release playbook's tag step says."""

from django.db import transaction

from formation_hub.audit import audit_record
from formation_hub.forge import ForgeError, forge_client, forge_connection
from formation_hub.models import AuditEntry
from formation_hub.notifications import notify
from releases.models import Release
from releases.pipeline.notes import release_notes


@transaction.atomic
def release_publish_on_forge(*, release_id: int) -> str:
    """Create the tag and the forge release once; returns the release's URL ('' without a forge connection or
    when the forge refused: that is audited and admins are told, since the production approval assumes the
    tag exists)."""
    release = Release.objects.select_for_update().get(pk=release_id)
    if release.forge_release_url or release.tagged_at is None or forge_connection() is None:
        return release.forge_release_url
    notes = release_notes(release) or "Maintenance release (no user-visible change)."
    client = forge_client()
    try:
        existing_tags = {tag["name"] for tag in client.tags()}
        if release.tag not in existing_tags:
            client.create_tag(name=release.tag, sha=release.sha, message=f"Release {release.tag}")
        url = client.create_release(tag=release.tag, name=release.tag, body=notes, sha=release.sha)
    except ForgeError as error:
        audit_record(action="release.forge_publish_failed", target=release, actor_label="forge",
                     result=AuditEntry.Result.FAILED, message=error.message)
        notify(kind="release.forge_publish_failed", subject=f"{release.tag}: the forge refused the tag or release",
               body=f"{error.message}\n\nCreate the tag {release.tag} on {release.sha} by hand, or fix the forge "
                    "connection and run the task again.", dedupe_key=f"release-forge:{release.pk}", target=release)
        return ""
    release.forge_release_url = url
    release.save(update_fields=["forge_release_url"])
    audit_record(action="release.published_on_forge", target=release, actor_label="forge",
                 changes={"tag": release.tag, "sha": release.sha, "url": url})
    return url
