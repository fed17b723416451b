"""Every URL the project serves (API, webhooks, on-call forms, post-mortem pages, iCal, healthz and the
console's own pages beyond Django's), as anonymous and as each demo role (issue 17): a GET and a POST
of a broken JSON body get the answer the table gives, never a 500; whoever may not change state
through it is refused (login, 401, 403, 404, 405, or a redirect with the refusal) and changes nothing."""

import pytest
from django.contrib.messages import constants, get_messages
from django.db import transaction

from formation_hub.gates.decisions import get_gate_type
from tests.hostile.matrix.conftest import ROLES
from tests.hostile.matrix.endpoints_table import ENDPOINTS, READ_ONLY
from tests.hostile.matrix.snapshots import changed_models, database_state, witness_marks
from tests.hostile.matrix.urls_walk import addresses, pending_review_gate, served_url_names

BROKEN_JSON = b'{"decision": '
REFUSALS = {400, 401, 403, 404, 405}
# Each sets the client's session anew: the next request signs in again.
SESSION_CHANGING = {"login", "logout"}


def test_every_url_has_a_row_in_the_table(in_world):
    assert served_url_names() == sorted(ENDPOINTS)


def test_no_answer_in_the_table_is_a_server_error_but_the_health_checks():
    for name, (get, post, _writers) in ENDPOINTS.items():
        codes = {int(code) for cell in f"{get} {post}".split() for code in cell.split("|")}
        assert not {code for code in codes if code >= 500} - ({503} if name == "healthz" else set()), name


def _expected(cells: str, role: str) -> set[int]:
    return {int(code) for code in cells.split()[ROLES.index(role)].split("|")}


def _refused(response, role: str) -> bool:
    """A refusal status, the login page, or a page (or redirect) that shows the refusal as an error."""
    if response.status_code == 302 and (role == "anonymous" or "login" in response["Location"]):
        return True
    if response.status_code in (200, 302):
        return any(message.level == constants.ERROR for message in get_messages(response.wsgi_request))
    return response.status_code in REFUSALS


@pytest.mark.parametrize("role", ROLES)
def test_each_url_answers_each_role_as_the_table_says(in_world, client, role):
    in_world.client_for(role, client)
    wrong = []
    served = addresses()
    before_reading = witness_marks()
    for name, address in served.items():
        response = client.get(address)
        if response.status_code not in _expected(ENDPOINTS[name][0], role):
            wrong.append((name, "GET", response.status_code))
    wrong += [("GET", "changed", label) for label in changed_models(before_reading, witness_marks())]
    for name, address in served.items():
        _get_answers, post_answers, writers = ENDPOINTS[name]
        with transaction.atomic():
            before = witness_marks()
            response = client.generic("POST", address, BROKEN_JSON, content_type="application/json")
            changed = changed_models(before, witness_marks())
            transaction.set_rollback(True)
        if response.status_code not in _expected(post_answers, role):
            wrong.append((name, "POST", response.status_code))
        turned_away = name in WELL_FORMED or _refused(response, role)  # WELL_FORMED: proven below
        if writers is not READ_ONLY and role not in writers and not turned_away:
            wrong.append((name, "POST", "not refused", response.status_code))
        if changed and (writers is READ_ONLY or role not in writers):
            wrong.append((name, "POST", "changed", changed))
        if name in SESSION_CHANGING:
            in_world.client_for(role, client)
    assert wrong == []


def _gate_decision() -> dict:
    gate = pending_review_gate()
    return {"decision": get_gate_type(gate.gate_type).decisions[0], "subject": gate.subject, "reason": "matrix"}


# Where a broken body is turned away before the permission is asked: a well-formed request too. A refused
# decision is itself recorded in the audit trail, so these compare the rows a decision would change.
DECISION_STATE = ("formation_hub.Gate", "incidents.PostMortem", "incidents.ActionItem", "formation_hub.Notification",
                  "django_q.OrmQ")
WELL_FORMED = {
    "admin:formation_hub_gate_decide": lambda: (_gate_decision(), "application/x-www-form-urlencoded"),
    "api-gate-decide": lambda: (_gate_decision(), "application/json"),
    "incidents:action_item_status": lambda: ({"status": "done"}, "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_a_well_formed_request_from_a_role_without_the_permission_is_refused(in_world, client, role):
    in_world.client_for(role, client)
    wrong = []
    served = addresses()
    for name, request_body in WELL_FORMED.items():
        if role in ENDPOINTS[name][2]:
            continue
        body, content_type = request_body()
        with transaction.atomic():
            before = database_state(*DECISION_STATE)
            if content_type == "application/json":
                response = client.post(served[name], body, content_type=content_type)
            else:
                response = client.post(served[name], body)
            changed = changed_models(before, database_state(*DECISION_STATE))
            transaction.set_rollback(True)
        if changed or not _refused(response, role):
            wrong.append((name, response.status_code, changed))
    assert wrong == []
