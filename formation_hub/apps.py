import sys

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class OpsAdminConfig(AdminConfig):
    default = False
    default_site = "formation_hub.console.site.OpsAdminSite"


class FormationHubConfig(AppConfig):
    default = True
    name = "formation_hub"
    verbose_name = "Core: audit, gates, notifications"
    # The roles (formation_hub.access.roles) that add and change this app's rows; the admin changes every app's.
    role_areas = ()

    def ready(self):
        from formation_hub import forge, schedules  # noqa: F401
        from formation_hub.access import roles
        from formation_hub.console import dashboard, panels
        from formation_hub.dev import companions, demo

        schedules.register_schedule("core: worker heartbeat", "formation_hub.tasks.heartbeat", minutes=1)
        schedules.register_schedule(
            "core: retry due notifications", "formation_hub.tasks.retry_due_notifications", minutes=1
        )
        dashboard.register_panel(panels.gates_panel)
        dashboard.register_panel(panels.health_panel)
        demo.register_demo_loader("forge", forge.load_demo_forge)
        if settings.DEBUG:
            companions.register_companion_process(
                "forge stand-in",
                [sys.executable, "-m", "sandbox.forge", "--port", str(forge.standin_port()), "--demo"],
            )
        post_migrate.connect(schedules.ensure_schedules, sender=self)
        post_migrate.connect(roles.ensure_roles, sender=self)
