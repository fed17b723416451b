"""Grouped Dependabot pull requests (issue 18, Wrong 2): "Bump the production-deps group with 3 updates" was
refused with 422; it is one bump per package inside one pull request, with one gate for the group."""

import json

import pytest

from formation_hub.errors import DomainError
from formation_hub.gates.decisions import gate_decide, pending_gate
from formation_hub.models import Gate
from releases.delivery.bump_services import bump_ci_report, bump_merge
from releases.models import Change, DependencyBump
from tests.releases.test_bump_intake import SECRET, deliver, fixture

GROUP = "github__pull_request.opened__production_deps_group"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("DEPENDABOT_WEBHOOK_SECRET", SECRET)


def grouped_body(**changes) -> bytes:
    payload = json.loads(fixture(GROUP))
    for name, value in changes.items():
        payload["pull_request"][name] = value
    return json.dumps(payload).encode()


def test_a_grouped_pull_request_makes_one_bump_per_package_and_one_gate(client, secret, db):
    response = deliver(client, GROUP)
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["group"] == "production-deps" and len(answer["bumps"]) == 3
    bumps = list(DependencyBump.objects.order_by("id"))
    assert [(bump.package, bump.from_version, bump.to_version) for bump in bumps] == [
        ("django", "5.1.2", "5.1.4"), ("requests", "2.31.0", "2.32.3"), ("celery", "5.3.6", "5.4.0")]
    lead = bumps[0]
    assert lead.pull_request_url == "https://github.com/acadenice/formation-hub/pull/61"
    assert all(bump.group_lead == lead for bump in bumps[1:])
    gate = Gate.objects.get()
    assert (gate.gate_type, gate.object_id) == ("delivery.bump_review", str(lead.pk))
    assert "requests 2.31.0 -> 2.32.3" in gate.subject and "celery 5.3.6 -> 5.4.0" in gate.subject


def test_release_notes_quoting_a_cve_do_not_make_the_group_a_security_auto_merge(client, secret, db):
    deliver(client, GROUP)
    assert set(DependencyBump.objects.values_list("category", flat=True)) == {"patch", "minor"}
    assert DependencyBump.objects.filter(group_lead__isnull=True).get().path == "review"


def test_the_group_gate_and_one_ci_run_merge_every_package(client, secret, db, people, forge):
    pull = forge.open_pull_request(title="Bump the production-deps group with 3 updates")
    deliver(client, GROUP, body=grouped_body(html_url=pull["html_url"], number=pull["number"]))
    lead = DependencyBump.objects.get(group_lead__isnull=True)
    gate = pending_gate(target=lead, gate_type="delivery.bump_review")
    gate_decide(gate=gate, user=people["approver"], decision="merge", subject=gate.subject)
    bump_ci_report(bump=lead, status="green")
    assert set(DependencyBump.objects.values_list("state", flat=True)) == {"merged"}
    assert sorted(Change.objects.values_list("text", flat=True)) == [
        "Bump celery from 5.3.6 to 5.4.0", "Bump django from 5.1.2 to 5.1.4", "Bump requests from 2.31.0 to 2.32.3"]
    assert set(Change.objects.values_list("reference", flat=True)) == {lead.pull_request_url}
    assert forge.pull(pull["number"])["merged"] is True


def test_a_package_of_a_group_never_merges_alone(client, secret, db, people):
    deliver(client, GROUP)
    member = DependencyBump.objects.filter(group_lead__isnull=False).first()
    with pytest.raises(DomainError, match="merges with its production-deps group"):
        bump_merge(bump=member, user=people["approver"])


def test_a_major_inside_the_group_makes_its_one_gate_a_go_no_go(client, secret, db):
    body = json.loads(fixture(GROUP))["pull_request"]["body"].replace("5.3.6 to 5.4.0", "5.4.0 to 6.0.0")
    deliver(client, GROUP, body=grouped_body(body=body))
    lead = DependencyBump.objects.get(group_lead__isnull=True)
    assert lead.path == "go_no_go"
    assert list(Gate.objects.values_list("gate_type", flat=True)) == ["delivery.bump_go"]


def test_a_group_rebased_on_newer_versions_updates_its_packages_and_asks_its_gate_again(client, secret, db):
    deliver(client, GROUP)
    body = json.loads(fixture(GROUP))["pull_request"]["body"].replace("2.31.0 to 2.32.3", "2.31.0 to 2.32.4")
    response = deliver(client, GROUP, body=grouped_body(body=body, updated_at="2026-12-02T08:00:00Z"))
    assert response.status_code == 200
    assert DependencyBump.objects.get(package="requests").to_version == "2.32.4"
    assert list(Gate.objects.order_by("id").values_list("state", flat=True)) == ["void", "pending"]
    assert "requests 2.31.0 -> 2.32.4" in Gate.objects.get(state="pending").subject


def test_a_grouped_pull_request_closed_on_the_forge_closes_every_package(client, secret, db):
    deliver(client, GROUP)
    closed = json.loads(fixture(GROUP))
    closed["action"] = "closed"
    closed["pull_request"]["updated_at"] = "2026-12-03T08:00:00Z"
    deliver(client, GROUP, body=json.dumps(closed).encode())
    assert set(DependencyBump.objects.values_list("state", flat=True)) == {"closed"}
