from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and on-call"

    def ready(self):
        from formation_hub.schedules import register_schedule

        register_schedule("incidents: sweep what is due", "incidents.tasks.sweep_due", minutes=1)
