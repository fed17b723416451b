"""Every changelist action of the console, as each demo role (issue 17): a role the table does not name is
neither offered the action nor able to run it by posting it; a mutating action declares its permission."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse

from tests.hostile.matrix.conftest import ROLES
from tests.hostile.matrix.roles_table import ACTIONS, EDITORS, READ_ONLY_ACTIONS, action_roles
from tests.hostile.matrix.snapshots import changed_models, database_state, witness_marks


def registered_actions() -> dict[tuple[str, str], tuple]:
    """(model label, action name) -> (model, model admin, action function), before any permission filter."""
    found = {}
    for model, model_admin in admin.site._registry.items():
        for function, name, _description in model_admin._get_base_actions():
            found[(model._meta.label, name)] = (model, model_admin, function)
    return found


def _request_for(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def offered_actions(model_admin, user) -> set[str]:
    """The actions of the changelist's menu (none when the list itself is refused)."""
    request = _request_for(user)
    return set(model_admin.get_actions(request)) if model_admin.has_view_or_change_permission(request) else set()


def test_every_console_model_and_action_has_an_entry_in_the_tables(in_world):
    assert {label for label, _name in registered_actions()} == set(EDITORS)
    assert {key for key in registered_actions() if key[1] != "delete_selected"} == set(ACTIONS)


def test_every_mutating_console_action_declares_its_permission(in_world):
    undeclared = [key for key, (_model, _admin, function) in registered_actions().items()
                  if key not in READ_ONLY_ACTIONS and not getattr(function, "allowed_permissions", None)]
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_offered_exactly_the_actions_the_table_gives_it(in_world, role):
    user = in_world.users.get(role, AnonymousUser())
    wrong = []
    for (label, name), (_model, model_admin, _function) in registered_actions().items():
        offered = name in offered_actions(model_admin, user)
        if offered != (role in action_roles(label, name)):
            wrong.append((label, name, "offered" if offered else "missing"))
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_a_role_without_the_action_cannot_run_it_by_posting_it(in_world, client, role):
    in_world.client_for(role, client)
    failures = []
    everything_before = database_state()
    for (label, name), (model, _model_admin, _function) in registered_actions().items():
        if role in action_roles(label, name) or (name == "delete_selected" and not EDITORS[label][2]):
            continue  # "delete selected" offered to nobody: the offer test proves it (Django runs only what it offers)
        # A list without rows still proves the refusal: the action is refused before it runs.
        selected = [str(pk) for pk in model._default_manager.values_list("pk", flat=True)[:5]] or ["0"]
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        concrete = model._meta.concrete_model._meta.label
        before = {**database_state(concrete), **witness_marks()}
        response = client.post(url, {"action": name, "index": "0", "_selected_action": selected, "post": "yes"})
        changed = changed_models(before, {**database_state(concrete), **witness_marks()})
        said = [str(message) for message in get_messages(response.wsgi_request)]
        if response.status_code >= 500 or changed:
            failures.append((label, name, response.status_code, changed))
        elif response.status_code == 302 and role != "anonymous" and not said:
            failures.append((label, name, "redirected without a message"))
        elif response.status_code not in (200, 302, 403):
            failures.append((label, name, response.status_code))
    assert failures == []
    assert changed_models(everything_before, database_state()) == []
