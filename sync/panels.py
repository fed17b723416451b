from formation_hub.dashboard import Panel
from sync.selectors import sync_health

sync_health_panel = Panel(
    name="sync_health", title="Sync health", template="admin/panels/sync_health.html",
    context=lambda request: sync_health(), order=200,
)
