"""Every gate's decision page carries its context; a decision is never taken by default."""

import pytest

from formation_hub.gates.decisions import pending_gate
from releases.delivery.bump_services import REVIEW_GATE, bump_create
from releases.models import Change, PrerequisiteOverride
from releases.pipeline.prepare import release_create
from releases.pipeline.prerequisite_reports import override_request
from releases.pipeline.state import OVERRIDE_GATE
from tests.releases.factories import SHA


@pytest.fixture
def approvers(make_user):
    return make_user("ana", "release-approver"), make_user("ben", "release-approver")


def test_a_decision_posted_without_choosing_is_refused_with_a_reason(client, approvers, db):
    author, approver = approvers
    Change.objects.create(type="fix", text="Login works again")
    release = release_create(user=author, sha=SHA)
    override = override_request(release=release, prerequisite="backup", reason="Backup host moving", user=author)
    gate = pending_gate(target=override, gate_type=OVERRIDE_GATE)
    client.force_login(approver)
    answer = client.post(f"/admin/formation_hub/gate/{gate.pk}/decide/", {"subject": gate.subject, "decision": ""})
    assert answer.status_code == 200
    assert "Choose a decision." in answer.content.decode()
    override.refresh_from_db()
    assert override.state == PrerequisiteOverride.State.REQUESTED


def test_a_bump_review_page_shows_the_pull_request_and_the_category(client, approvers, db):
    author, approver = approvers
    intake = bump_create(package="django", ecosystem="pip", from_version="5.2.1", to_version="5.2.2", user=author,
                         pull_request_url="https://forge.example.test/org/app/pulls/12")
    gate = pending_gate(target=intake.bump, gate_type=REVIEW_GATE)
    client.force_login(approver)
    page = client.get(f"/admin/formation_hub/gate/{gate.pk}/decide/").content.decode()
    assert "Decide the review of django 5.2.1 -&gt; 5.2.2" in page
    assert 'href="https://forge.example.test/org/app/pulls/12"' in page
    assert f'href="/admin/releases/dependencybump/{intake.bump.pk}/change/"' in page
    assert '<option value="" selected>- choose a decision -</option>' in page


def test_the_gates_list_reads_labels_and_links_each_decision(client, approvers, db, django_assert_max_num_queries):
    author, approver = approvers
    for number in range(5):
        bump_create(package=f"pkg{number}", ecosystem="pip", from_version="1.0.0", to_version="1.0.1", user=author)
    client.force_login(approver)
    with django_assert_max_num_queries(12):
        page = client.get("/admin/formation_hub/gate/").content.decode()
    assert "delivery.bump_review" not in page.split('id="changelist-filter"')[0]
    assert "Object repr" not in page
    assert page.count('class="gate-decide"') == 5
