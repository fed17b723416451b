"""The Docmost / Baserow release watch (a local receiver plays GitHub's and GitLab's releases API)."""

import json

from releases.delivery.upstream_watch import upstream_releases_watch
from releases.models import DependencyBump
from releases.tasks import watch_upstream_releases


def watch(monkeypatch, receiver, image, body, running="0.95.0"):
    receiver.body = json.dumps(body).encode()
    monkeypatch.setenv("UPSTREAM_WATCH", f"{image}={receiver.url}")
    monkeypatch.setenv("UPSTREAM_RUNNING_VERSIONS", f"{image}={running}")


def test_a_new_docmost_release_becomes_an_upstream_image_bump_once(db, monkeypatch, http_receiver):
    watch(monkeypatch, http_receiver, "docmost/docmost", {"tag_name": "v0.96.0", "name": "0.96.0"})
    [line] = upstream_releases_watch()
    bump = DependencyBump.objects.get()
    assert (bump.package, bump.from_version, bump.to_version, bump.category, bump.source) == (
        "docmost/docmost", "0.95.0", "0.96.0", "upstream_image", "watch")
    assert "recorded as bump" in line
    assert "already recorded" in watch_upstream_releases()
    assert DependencyBump.objects.count() == 1


def test_a_gitlab_release_list_is_read_newest_first(db, monkeypatch, http_receiver):
    watch(monkeypatch, http_receiver, "baserow/baserow", [{"tag_name": "1.36.0"}, {"tag_name": "1.35.3"}],
          running="1.35.3")
    upstream_releases_watch()
    assert DependencyBump.objects.get().to_version == "1.36.0"


def test_nothing_newer_or_an_unreadable_feed_records_nothing(db, monkeypatch, http_receiver):
    watch(monkeypatch, http_receiver, "docmost/docmost", {"tag_name": "v0.95.0"})
    assert "is not newer" in upstream_releases_watch()[0]
    http_receiver.status = 503
    assert "could not read" in upstream_releases_watch()[0]
    assert not DependencyBump.objects.exists()
