import pytest
from django.contrib.auth.models import Group

from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates import decisions as gates
from formation_hub.gates.decisions import (
    GateType,
    gate_decide,
    gate_request,
    gate_types,
    gates_waiting_for,
    register_gate_type,
)
from formation_hub.models import AuditEntry, Gate

# The object under review is a Group whose name plays the SHA: renaming it "moves" the subject.
decided = []


@pytest.fixture(autouse=True)
def review_gate_type():
    before = gate_types()
    register_gate_type(
        GateType(
            name="test.review", label="review", decisions=("approve", "deny"),
        permission="releases.decide_release_gate",
            current_subject=lambda target: target.name, on_decided=lambda gate, target: decided.append(gate.decision),
            reason_required_for=("deny",),
        )
    )
    decided.clear()
    yield
    gates._gate_types.clear()
    gates._gate_types.update(before)


@pytest.fixture
def reviewed(db):
    return Group.objects.create(name="abc123")


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("author", "release-approver"),
        "approver": make_user("approver", "release-approver"),
        "outsider": make_user("outsider", "oncall"),
    }


def test_approver_decides_and_the_decision_is_bound_to_the_subject(reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    gate_decide(gate=gate, user=people["approver"], decision="approve", subject="abc123")
    gate.refresh_from_db()
    assert (gate.state, gate.decision, gate.decided_by) == ("decided", "approve", people["approver"])
    assert gate.subject == "abc123"
    assert decided == ["approve"]
    assert AuditEntry.objects.filter(action="gate.decided", object_id=str(reviewed.pk)).exists()


def test_the_requester_cannot_decide_their_own_gate(reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    with pytest.raises(NotAllowed, match="no self-approval"):
        gate_decide(gate=gate, user=people["author"], decision="approve", subject="abc123")
    gate.refresh_from_db()
    assert gate.state == Gate.State.PENDING
    assert AuditEntry.objects.filter(action="gate.decision_refused", result="refused").count() == 1


def test_a_member_of_another_group_cannot_decide(reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    with pytest.raises(NotAllowed, match="Decide release gates"):
        gate_decide(gate=gate, user=people["outsider"], decision="approve", subject="abc123")


def test_deciding_twice_is_refused(reviewed, people, make_user):
    second = make_user("second", "release-approver")
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    gate_decide(gate=gate, user=people["approver"], decision="approve", subject="abc123")
    with pytest.raises(DomainError, match="already decided"):
        gate_decide(gate=gate, user=second, decision="deny", subject="abc123", reason="changed my mind")
    assert decided == ["approve"]


def test_a_decision_on_what_was_not_reviewed_is_refused(reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    with pytest.raises(DomainError, match="reload and review again"):
        gate_decide(gate=gate, user=people["approver"], decision="approve", subject="def456")


def test_a_gate_whose_object_moved_on_is_void(reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    reviewed.name = "def456"
    reviewed.save()
    with pytest.raises(DomainError, match="gate is void"):
        gate_decide(gate=gate, user=people["approver"], decision="approve", subject="abc123")
    gate.refresh_from_db()
    assert gate.state == Gate.State.VOID and "def456" in gate.void_reason


def test_unknown_decision_and_missing_reason_are_refused(reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    with pytest.raises(DomainError, match="allowed: approve, deny"):
        gate_decide(gate=gate, user=people["approver"], decision="maybe", subject="abc123")
    with pytest.raises(DomainError, match="written reason"):
        gate_decide(gate=gate, user=people["approver"], decision="deny", subject="abc123", reason="  ")


def test_a_new_request_on_a_new_subject_voids_the_old_one(reviewed, people):
    first = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    again = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    assert again.pk == first.pk
    reviewed.name = "def456"
    reviewed.save()
    second = gate_request(target=reviewed, gate_type="test.review", subject="def456", requested_by=people["author"])
    first.refresh_from_db()
    assert first.state == Gate.State.VOID and second.state == Gate.State.PENDING


def test_gates_waiting_for_lists_only_what_the_user_may_decide(reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    assert gates_waiting_for(people["approver"]) == [gate]
    assert gates_waiting_for(people["author"]) == []
    assert gates_waiting_for(people["outsider"]) == []


def test_console_decide_page_records_the_decision(client, reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    people["approver"].is_superuser = True
    people["approver"].save()
    client.force_login(people["approver"])
    url = f"/admin/formation_hub/gate/{gate.pk}/decide/"
    assert b"abc123" in client.get(url).content
    response = client.post(url, {"decision": "approve", "subject": "abc123", "reason": ""})
    assert response.status_code == 302
    gate.refresh_from_db()
    assert gate.decision == "approve"


def test_console_decide_page_shows_the_refusal(client, reviewed, people):
    gate = gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    people["author"].is_superuser = True
    people["author"].save()
    client.force_login(people["author"])
    response = client.post(f"/admin/formation_hub/gate/{gate.pk}/decide/", {"decision": "approve", "subject": "abc123"})
    assert response.status_code == 200
    assert "no self-approval" in response.content.decode()
    gate.refresh_from_db()
    assert gate.state == Gate.State.PENDING


def test_landing_page_lists_the_gates_waiting_for_the_signed_in_user(client, reviewed, people):
    gate_request(target=reviewed, gate_type="test.review", subject="abc123", requested_by=people["author"])
    client.force_login(people["approver"])
    panel = client.get("/admin/").content.decode()
    assert 'id="panel-gates"' in panel and "abc123" in panel
    client.force_login(people["author"])
    assert "Nothing waits for your decision." in client.get("/admin/").content.decode()
