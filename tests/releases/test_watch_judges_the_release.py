"""The watch judges the release, not its peers: it checks the app's own health, names the failed check,
and ending the watch all OK closes the page it opened; the landing page asks for the proposed rollback."""

import json

import pytest

from formation_hub.observability import health
from formation_hub.observability.health import CheckResult, register_check
from incidents.models import Page
from releases.demo import load_demo_releases
from releases.models import Release, SmokeCheck
from releases.pipeline.rollout import release_deploy, release_watch_tick
from releases.pipeline.state import WATCH_GATE
from tests.releases.factories import watched_for
from tests.releases.test_pipeline import decide, to_approved

HEALTHZ_DOWN = {"status": "failing", "summary": "3/4 OK", "checks": {
    "database": {"status": "ok", "detail": "sqlite"},
    "task_queue": {"status": "failing", "detail": "last worker heartbeat 400 s ago"},
}}


@pytest.fixture
def peer_check():
    yield
    health._checks.pop("peer-under-test", None)
    health._peers.discard("peer-under-test")


def test_healthz_scope_app_leaves_the_peer_services_out(client, db, peer_check):
    register_check("peer-under-test", lambda: CheckResult("failing", "answered 503"), peer=True)
    everything = client.get("/healthz")
    assert "peer-under-test" in everything.json()["checks"] and "docmost" in everything.json()["checks"]
    own = client.get("/healthz?scope=app").json()
    assert own["scope"] == "app"
    assert set(own["checks"]) == {"database", "task_queue"}


def test_a_failing_watch_check_names_the_failing_health_check(people, some_changes, green, smoke_ok):
    release = release_deploy(release=to_approved(people), user=people["author"])
    smoke_ok.status, smoke_ok.body = 503, json.dumps(HEALTHZ_DOWN).encode()
    release_watch_tick(release=release)
    release.refresh_from_db()
    assert "failing: task_queue (last worker heartbeat 400 s ago)" in release.rollback_proposal
    page = Page.objects.get(dedupe_key=f"release-{release.pk}-rollback-proposed")
    assert page.subject == f"Release v{release.version}: rollback proposed (home failed)"


def test_all_ok_at_the_end_of_the_watch_closes_the_rollback_page(people, some_changes, green, smoke_ok,
                                                                 client):
    release = release_deploy(release=to_approved(people), user=people["author"])
    smoke_ok.status = 503
    release_watch_tick(release=release)
    client.force_login(people["approver"])
    landing = client.get("/admin/").content.decode()
    needs = landing.split('class="ops-summary"')[1].split("</p>")[0]
    assert "Release in flight" in needs
    assert 'id="rollback-proposed"' in landing
    smoke_ok.status = 200
    watched_for(release, 31)
    decide(release, WATCH_GATE, people["approver"], "all_ok")
    assert Release.objects.get().status == Release.Status.RELEASED
    page = Page.objects.get(dedupe_key=f"release-{release.pk}-rollback-proposed")
    assert page.state == Page.State.ACKNOWLEDGED
    assert page.acknowledged_by == people["approver"]


def test_the_demo_watches_the_app_without_its_peers(db):
    load_demo_releases()
    assert SmokeCheck.objects.get(name="console health").url.endswith("/healthz?scope=app")
