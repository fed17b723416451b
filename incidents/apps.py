from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and on-call"
    # The roles (formation_hub.access.roles) that add and change this app's rows; the admin changes every app's.
    role_areas = ("oncall",)
    # The data migration that grants this app's own actions to roles (re-applied after a flush).
    role_grants = "incidents.migrations.0007_role_permissions"

    def ready(self):
        from django_q.models import Schedule

        from formation_hub.console.dashboard import register_panel
        from formation_hub.dev.demo import register_demo_loader
        from formation_hub.gates.decisions import register_gate_type
        from formation_hub.schedules import first_of_next_month, register_calendar_schedule, register_schedule
        from incidents import demo
        from incidents.admin import panels
        from incidents.postmortems import services as postmortems

        register_schedule("incidents: sweep what is due", "incidents.tasks.sweep_due", minutes=1)
        register_calendar_schedule("ritual: monthly DR drill (restore a backup)", "incidents.tasks.open_restore_drill",
                                   schedule_type=Schedule.MONTHLY, first_run=first_of_next_month())
        register_panel(panels.open_incidents_panel)
        register_panel(panels.on_call_panel)
        register_panel(panels.overdue_panel)
        register_panel(panels.escalations_panel)
        register_demo_loader("incidents", demo.load_demo_incidents)
        register_gate_type(postmortems.REVIEW_GATE_TYPE)
