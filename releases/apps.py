from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from formation_hub.dashboard import register_panel
        from formation_hub.demo import register_demo_loader
        from formation_hub.gates import register_gate_type
        from formation_hub.schedules import register_schedule
        from releases import bump_services, demo, gate_context, panels, services, stories

        for gate_type in (*services.GATE_TYPES, *stories.GATE_TYPES, *bump_services.GATE_TYPES):
            register_gate_type(gate_type)
        gate_context.register()
        register_schedule("releases: watch-period health checks", "releases.tasks.watch_tick", minutes=1)
        register_panel(panels.release_in_flight_panel)
        register_panel(panels.delivery_panel)
        register_demo_loader("releases", demo.load_demo_releases)
        register_demo_loader("delivery", demo.load_demo_delivery)
