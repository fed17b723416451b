"""A release's tag gate creates its tag and its forge release with the notes (forge stand-in, both shapes)."""

from formation_hub.models import Notification
from releases.models import Release
from tests.releases.factories import SHA
from tests.releases.test_pipeline import to_tagged


def test_the_tag_gate_creates_the_tag_and_the_forge_release_with_the_notes(forge, people, some_changes, green,
                                                                             run_tasks_inline):
    release = run_tasks_inline(to_tagged, people)
    release.refresh_from_db()
    state = forge.state()
    assert state["tags"][release.tag]["commit"]["sha"] == SHA
    published = state["releases"][0]
    assert published["tag_name"] == release.tag and published["target_commitish"] == SHA
    assert all(change.text in published["body"] for change in release.changes.all())
    assert release.forge_release_url == published["html_url"]


def test_a_refused_release_is_told_to_admins_and_the_pipeline_goes_on(forge, people, some_changes, green,
                                                                        run_tasks_inline, settings):
    settings.OPS_ADMIN_EMAILS = ["ops@example.org"]
    prefix = "/api/v1" if forge.kind == "forgejo" else ""
    forge.fault(status=500, path_prefix=f"{prefix}/repos/{forge.repository}/releases", count=None)
    run_tasks_inline(to_tagged, people)
    release = Release.objects.get()
    assert release.status == Release.Status.TAGGED and release.forge_release_url == ""
    assert Notification.objects.filter(kind="release.forge_publish_failed").exists()
