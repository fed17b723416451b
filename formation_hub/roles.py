"""The console's roles: four groups and the permissions their names promise.

- admin: runs the console; changes everything that is not evidence.
- oncall: adds and changes incidents, rotations, overrides, post-mortems (the incidents app);
  deciding release gates is not theirs (gate decisions go by group, formation_hub.gates).
- release-approver: adds and changes releases and their changes, freeze windows, smoke checks.
- viewer: views, changes nothing.

Every role views every area of the product and the people (user and group lists, which the
incidents forms' user pickers need); API tokens and login-throttling records are the admin's only.
Evidence (the audit trail, and every model whose console page is a ReadOnlyEvidenceAdmin) is never
added or deleted by anyone; the admin keeps "change" and custom permissions on it because console
actions on evidence are keyed to them (resend a notification, replay a sync event). Nobody gets
anything but "view" on the audit trail.

The groups are created by a data migration; their permissions are (re)applied after every migrate,
so a model added later gets the right permissions without a new migration.
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

ADMIN, ONCALL, RELEASE_APPROVER, VIEWER = "admin", "oncall", "release-approver", "viewer"
ROLES = (ADMIN, ONCALL, RELEASE_APPROVER, VIEWER)

AUDIT_TRAIL = ("formation_hub", "auditentry")
# Always evidence, whatever the console registers.
READ_ONLY_MODELS = {AUDIT_TRAIL}
# Apps whose rows each role may add and change, beyond viewing.
CHANGE_APPS = {
    ADMIN: None,  # every app
    ONCALL: {"incidents"},
    RELEASE_APPROVER: {"releases"},
    VIEWER: set(),
}
PRODUCT_APPS = {"formation_hub", "sync", "incidents", "releases", "django_q"}
PEOPLE_MODELS = {("auth", "user"), ("auth", "group")}
ADMIN_ONLY_APPS = {"auth", "authtoken", "axes"}


def evidence_models() -> set[tuple[str, str]]:
    """(app label, model) of the rows nobody may add or delete: the audit trail and every model the
    console shows through a ReadOnlyEvidenceAdmin."""
    # Imported here: formation_hub.admin registers ModelAdmins, which needs the app registry ready,
    # while this module's constants are imported by app modules while it loads.
    from formation_hub.admin import ReadOnlyEvidenceAdmin

    registered = {
        (model._meta.app_label, model._meta.model_name)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ReadOnlyEvidenceAdmin)
    }
    return READ_ONLY_MODELS | registered


def permissions_for(role: str):
    allowed_apps = CHANGE_APPS[role]
    evidence = evidence_models()
    permissions = Permission.objects.select_related("content_type").filter(
        content_type__app_label__in=PRODUCT_APPS | ADMIN_ONLY_APPS
    )
    for permission in permissions:
        key = (permission.content_type.app_label, permission.content_type.model)
        action = permission.codename.split("_", 1)[0]
        if key[0] in ADMIN_ONLY_APPS:
            if role == ADMIN or (action == "view" and key in PEOPLE_MODELS):
                yield permission
        elif action == "view":
            yield permission
        elif key == AUDIT_TRAIL or (key in evidence and action in ("add", "delete")):
            continue
        elif allowed_apps is None or (key[0] in allowed_apps and key not in evidence and action in ("add", "change")):
            yield permission


def ensure_roles(**kwargs) -> None:
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(list(permissions_for(role)))
