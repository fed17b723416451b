"""The console's roles: four groups and the permissions their names promise.

The groups are created by a data migration; their permissions are (re)applied after every migrate,
so a model added later gets the right permissions without a new migration.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

ADMIN, ONCALL, RELEASE_APPROVER, VIEWER = "admin", "oncall", "release-approver", "viewer"
ROLES = (ADMIN, ONCALL, RELEASE_APPROVER, VIEWER)

# Models whose rows are evidence: nobody adds, changes or deletes them from the console.
READ_ONLY_MODELS = {("formation_hub", "auditentry")}
# Apps whose rows each role may change, beyond viewing everything.
CHANGE_APPS = {
    ADMIN: None,  # every app
    ONCALL: {"incidents"},
    RELEASE_APPROVER: {"releases"},
    VIEWER: set(),
}
PRODUCT_APPS = {"formation_hub", "sync", "incidents", "releases", "django_q", "auth", "authtoken"}


def permissions_for(role: str):
    allowed_apps = CHANGE_APPS[role]
    permissions = Permission.objects.select_related("content_type").filter(
        content_type__app_label__in=PRODUCT_APPS
    )
    for permission in permissions:
        app_label, model = permission.content_type.app_label, permission.content_type.model
        action = permission.codename.split("_", 1)[0]
        if action == "view":
            yield permission
        elif (app_label, model) in READ_ONLY_MODELS:
            continue
        elif allowed_apps is None or app_label in allowed_apps and action in ("add", "change"):
            yield permission


def ensure_roles(**kwargs) -> None:
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(list(permissions_for(role)))
