from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"
    # The roles (formation_hub.access.roles) that add and change this app's rows; the admin changes every app's.
    role_areas = ("release-approver",)
    # The data migration that grants this app's own actions to roles (re-applied after a flush).
    role_grants = "releases.migrations.0009_role_permissions"

    def ready(self):
        from django_q.models import Schedule

        from formation_hub.console.dashboard import register_panel
        from formation_hub.dev.demo import register_demo_loader
        from formation_hub.gates.decisions import register_gate_type
        from formation_hub.schedules import first_of_next_month, register_calendar_schedule, register_schedule
        from releases import demo, panels
        from releases.admin import gate_context
        from releases.delivery import bump_gates, stories
        from releases.pipeline import gates

        for gate_type in (*gates.GATE_TYPES, *stories.GATE_TYPES, *bump_gates.GATE_TYPES):
            register_gate_type(gate_type)
        gate_context.register()
        register_schedule("releases: watch-period health checks", "releases.tasks.watch_tick", minutes=1)
        register_schedule("ritual: story branch age and commit convention", "releases.tasks.check_stories",
                          minutes=24 * 60)
        register_schedule("ritual: Docmost and Baserow release watch", "releases.tasks.watch_upstream_releases",
                          minutes=360)
        monthly, quarterly = first_of_next_month(), first_of_next_month(months=(1, 4, 7, 10))
        register_calendar_schedule("ritual: monthly dependency review", "releases.tasks.monthly_bump_review",
                                   schedule_type=Schedule.MONTHLY, first_run=monthly)
        register_calendar_schedule("ritual: monthly release reminder", "releases.tasks.monthly_release_reminder",
                                   schedule_type=Schedule.MONTHLY, first_run=monthly)
        register_calendar_schedule("ritual: quarterly majors review", "releases.tasks.quarterly_majors_review",
                                   schedule_type=Schedule.QUARTERLY, first_run=quarterly)
        register_panel(panels.release_in_flight_panel)
        register_panel(panels.delivery_panel)
        register_demo_loader("releases", demo.load_demo_releases)
        register_demo_loader("delivery", demo.load_demo_delivery)
