"""What the database holds, to prove a refused request changed nothing."""

from django.apps import apps
from django.db.models import Count, Max

# Rows a request writes whatever it asks: the session of the signed-in client.
NOT_STATE = {"sessions.Session"}


# What any state change touches besides its own row: its audit entry, a queued job, a notification.
WITNESSES = ("formation_hub.AuditEntry", "django_q.OrmQ", "formation_hub.Notification")


def witness_marks() -> dict[str, dict]:
    """How many rows each witness holds and its newest id: every state change appends an audit entry
    (the trail is append-only), so a change shows here without reading every row."""
    return {label: apps.get_model(label)._base_manager.aggregate(rows=Count("pk"), newest=Max("pk"))
            for label in WITNESSES}


def database_state(*labels: str) -> dict[str, list]:
    """Every row of the named models (default: of every model), as plain values."""
    models = [apps.get_model(label) for label in labels] if labels else apps.get_models()
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in models
        if model._meta.managed and model._meta.label not in NOT_STATE
    }


def changed_models(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]
