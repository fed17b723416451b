"""Every console model's add, change and delete pages, as each demo role (issue 17): only the roles the
table names may use them; any other role's POST is refused (403, or the login page) and changes nothing.
Nobody but a superuser edits django-q2 schedules, people or groups."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from tests.hostile.matrix.conftest import ROLES
from tests.hostile.matrix.roles_table import EDITORS, SUPERUSER
from tests.hostile.matrix.snapshots import changed_models, database_state

OPERATIONS = ("add", "change", "delete")
# The methods a ModelAdmin overrides to serve a page its own way (then the page itself is tried).
PAGE_METHODS = {
    "add": ("add_view", "changeform_view", "_changeform_view"),
    "change": ("change_view", "changeform_view", "_changeform_view"),
    "delete": ("delete_view", "_delete_view"),
}
ALWAYS_TRIED = {"django_q.Schedule", "auth.User", "auth.Group"}


def _permission(model_admin, user, operation: str) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    return getattr(model_admin, f"has_{operation}_permission")(request)


def _serves_its_own_page(model_admin, operation: str) -> bool:
    """Whether a class between the ModelAdmin and Django's own overrides the page: Django's pages check
    exactly the has_*_permission the matrix asks first, so only an overridden page needs a request."""
    own_classes = type(model_admin).__mro__[: type(model_admin).__mro__.index(admin.ModelAdmin)]
    return any(name in vars(klass) for klass in own_classes for name in PAGE_METHODS[operation])


def _page(model, operation: str) -> str:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{operation}"
    if operation == "add":
        return reverse(name)
    # A list without rows still proves the refusal: the permission is checked before the row is looked up.
    pk = model._default_manager.values_list("pk", flat=True).first() or 0
    return reverse(name, args=[pk])


def test_schedules_people_and_groups_are_a_superusers_alone():
    for label in ("django_q.Schedule", "auth.User", "auth.Group"):
        assert EDITORS[label] == (SUPERUSER, SUPERUSER, SUPERUSER), label


@pytest.mark.parametrize("role", ROLES)
def test_each_role_adds_changes_and_deletes_exactly_what_the_table_gives_it(in_world, client, role):
    user = in_world.users.get(role, AnonymousUser())
    in_world.client_for(role, client)
    before = database_state()
    wrong = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        for operation, allowed_roles in zip(OPERATIONS, EDITORS[label], strict=True):
            allowed = role in allowed_roles
            if _permission(model_admin, user, operation) != allowed:
                wrong.append((label, operation, "granted" if not allowed else "refused"))
            if allowed or not (label in ALWAYS_TRIED or _serves_its_own_page(model_admin, operation)):
                continue
            response = client.post(_page(model, operation), {"post": "yes"})
            refused = 302 if role == "anonymous" else 403
            if response.status_code != refused:
                wrong.append((label, operation, response.status_code))
    assert wrong == []
    assert changed_models(before, database_state()) == []
