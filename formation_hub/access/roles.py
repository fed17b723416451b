"""The console's roles: four groups and the permissions their names promise.

- admin: runs the console; changes every product row that is not evidence.
- oncall, release-approver: add and change the rows of the apps that name them (`role_areas` on
  the app's AppConfig, e.g. incidents names oncall).
- viewer: views, changes nothing.

Actions beyond add/change (respond to an incident, decide a delivery gate, roll back a release...)
are model permissions each app declares in `Meta.permissions` and grants to roles in a data
migration it owns (`grant_role_permissions`); checks go through `formation_hub.access.permissions`.

Every role views every area of the product and the people (user and group lists, which the
incidents forms' user pickers need); only a superuser changes people and groups (whoever edits a
person can reset their password, or make a second account in a deciding role, and so decide alone);
each person makes, sees and revokes their own API tokens (`formation_hub.access.api_tokens`; DRF's
clear-key tokens are gone); login-throttling records and django-q2's rows are not the roles' to
change: schedules are declared in code (formation_hub.schedules) and a console edit of one would run
arbitrary code with no audit entry. Evidence (the audit trail, and every model whose console page is a
ReadOnlyEvidenceAdmin) is never added or deleted by anyone; the admin keeps "change" on it because
console actions on evidence are keyed to it (resend a notification, replay a sync event). Nobody gets
anything but "view" on the audit trail.

The groups are created by a data migration; their add/change/view permissions are (re)applied after
every migrate, so a model added later gets the right permissions without a new migration; the
permissions granted by the apps' migrations are kept.
"""

from importlib import import_module

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

ADMIN, ONCALL, RELEASE_APPROVER, VIEWER = "admin", "oncall", "release-approver", "viewer"
ROLES = (ADMIN, ONCALL, RELEASE_APPROVER, VIEWER)
MODEL_ACTIONS = ("add", "change", "delete", "view")

AUDIT_TRAIL = ("formation_hub", "auditentry")
# Always evidence, whatever the console registers.
READ_ONLY_MODELS = {AUDIT_TRAIL}
# Third-party apps: people are visible to every role; the rest is the admin's to read.
PEOPLE_MODELS = {("auth", "user"), ("auth", "group")}
ADMIN_ONLY_APPS = {"auth", "authtoken", "axes"}
VIEW_ONLY_APPS = {"django_q"}


def evidence_models() -> set[tuple[str, str]]:
    """(app label, model) of the rows nobody may add or delete: the audit trail and every model the
    console shows through a ReadOnlyEvidenceAdmin."""
    # Imported here: formation_hub.admin registers ModelAdmins, which needs the app registry ready,
    # while this module's constants are imported by app modules while it loads.
    from formation_hub.admin.base import ReadOnlyEvidenceAdmin

    registered = {
        (model._meta.app_label, model._meta.model_name)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ReadOnlyEvidenceAdmin)
    }
    return READ_ONLY_MODELS | registered


def product_areas() -> dict[str, set[str]]:
    """App label -> the roles that add and change its rows, for every app that declares `role_areas`."""
    return {
        config.label: set(config.role_areas)
        for config in apps.get_app_configs() if hasattr(config, "role_areas")
    }


def permissions_for(role: str):
    """The add/change/delete/view permissions of the role's general rule."""
    areas = product_areas()
    evidence = evidence_models()
    permissions = Permission.objects.select_related("content_type").filter(
        content_type__app_label__in=set(areas) | ADMIN_ONLY_APPS | VIEW_ONLY_APPS
    )
    for permission in permissions:
        key = (permission.content_type.app_label, permission.content_type.model)
        action = permission.codename.split("_", 1)[0]
        if permission.codename != f"{action}_{key[1]}" or action not in MODEL_ACTIONS:
            continue  # an app's own action: granted by that app's migration
        if key in PEOPLE_MODELS:
            if action == "view":
                yield permission
        elif key[0] in ADMIN_ONLY_APPS:
            if role == ADMIN:
                yield permission
        elif action == "view":
            yield permission
        elif key[0] in VIEW_ONLY_APPS or key == AUDIT_TRAIL or (key in evidence and action in ("add", "delete")):
            continue
        elif role == ADMIN or (role in areas[key[0]] and key not in evidence and action in ("add", "change")):
            yield permission


def _is_own_action(permission) -> bool:
    action = permission.codename.split("_", 1)[0]
    return action not in MODEL_ACTIONS or permission.codename != f"{action}_{permission.content_type.model}"


def ensure_roles(**kwargs) -> None:
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        granted_by_apps = [p for p in group.permissions.select_related("content_type") if _is_own_action(p)]
        group.permissions.set([*permissions_for(role), *granted_by_apps])
    # A flush (tests) empties the groups: the apps' grants come back from their role migrations.
    for app_config in apps.get_app_configs():
        if getattr(app_config, "role_grants", None):
            grant_role_permissions(apps, app_config.label, import_module(app_config.role_grants).GRANTS)


def grant_role_permissions(apps, app_label: str, grants: dict[str, tuple[str, ...]]) -> None:
    """For an app's data migration: give each role its codenames of `app_label` (and no other role)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    app_config = apps.get_app_config(app_label)
    # create_permissions skips an app without a models module, as a migration's app state has.
    app_config.models_module = getattr(app_config, "models_module", None) or True
    create_permissions(app_config, apps=apps, verbosity=0)
    codenames = {codename for granted in grants.values() for codename in granted}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        group.permissions.remove(*permissions)
        group.permissions.add(*permissions.filter(codename__in=grants.get(role, ())))
