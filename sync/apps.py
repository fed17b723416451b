import sys
from importlib import import_module

from django.apps import AppConfig
from django.conf import settings


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync: Baserow <-> Docmost"
    # The roles (formation_hub.access.roles) that add and change this app's rows; the admin changes every app's.
    role_areas = ()
    # The data migration that grants this app's own actions to roles (re-applied after a flush).
    role_grants = "sync.migrations.0006_role_permissions"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from formation_hub import schedules
        from formation_hub.console import dashboard
        from formation_hub.dev import companions, demo
        from formation_hub.observability import health
        from sync import conf
        from sync.admin.panels import sync_events_per_hour_panel, sync_health_panel
        from sync.clients import health as sync_health_checks
        from sync.config_cache import CACHED_MODELS, config_forget
        from sync.demo import load_demo_sync

        import_module("sync.rules")
        for model in CACHED_MODELS:
            post_save.connect(config_forget, sender=model, dispatch_uid=f"sync-config-{model.__name__}-saved")
            post_delete.connect(config_forget, sender=model, dispatch_uid=f"sync-config-{model.__name__}-deleted")
        schedules.register_schedule(
            "sync: sweep stored events", "sync.tasks.sweep_events", minutes=conf.sweep_minutes()
        )
        schedules.register_schedule(
            "sync: poll Docmost pages and shares", "sync.tasks.poll_docmost", minutes=conf.docmost_poll_minutes()
        )
        schedules.register_schedule(
            "sync: Baserow webhook watchdog", "sync.tasks.watch_baserow_webhooks", minutes=conf.watchdog_minutes()
        )
        schedules.register_schedule("sync: alert admins of dead rows", "sync.tasks.alert_dead_items", minutes=5)
        dashboard.register_panel(sync_health_panel)
        dashboard.register_panel(sync_events_per_hour_panel())
        health.register_check("baserow", sync_health_checks.check_baserow, peer=True)
        health.register_check("docmost", sync_health_checks.check_docmost, peer=True)
        demo.register_demo_loader("sync", load_demo_sync)
        if settings.DEBUG:
            baserow_port, docmost_port = conf.standin_baserow_port(), conf.standin_docmost_port()
            # The stand-ins keep their rows and pages in var/ so a restart of `make run` keeps them in
            # step with the page links stored in the app's database.
            state_dir = settings.BASE_DIR / "var"
            companions.register_companion_process(
                "baserow stand-in",
                [
                    sys.executable, "-m", "sandbox.baserow", "--port", str(baserow_port), "--demo",
                    "--state", str(state_dir / "baserow-standin.json"),
                    "--webhook-url", f"{conf.dev_app_url()}/api/webhooks/baserow/",
                    "--webhook-header", f"{conf.webhook_secret_header()}={conf.webhook_secrets()[0]}",
                ],
            )
            companions.register_companion_process(
                "docmost stand-in",
                [
                    sys.executable, "-m", "sandbox.docmost", "--port", str(docmost_port), "--demo",
                    "--state", str(state_dir / "docmost-standin.json"),
                ],
            )
