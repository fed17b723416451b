"""Console pages for the health of the sync: service circuits, loop alerts, reconciliation runs."""

from django.contrib import admin, messages

from formation_hub.admin.base import ReadOnlyEvidenceAdmin
from formation_hub.errors import DomainError
from sync.admin.display import local_time
from sync.clients.circuits import circuits_probe_now
from sync.models import (
    LoopAlert,
    Reconciliation,
    ServiceCircuit,
)
from sync.upkeep.loop_alerts import loop_alerts_resolve


@admin.action(description="Probe the selected services now", permissions=["replay"])
def probe_now(modeladmin, request, queryset):
    try:
        back = circuits_probe_now(circuits=list(queryset), user=request.user)
    except DomainError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return
    modeladmin.message_user(request, f"Back: {', '.join(back)}." if back else "Still down (or already closed).",
                            messages.SUCCESS if back else messages.WARNING)


@admin.register(ServiceCircuit)
class ServiceCircuitAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("service", "state", "opened", "next_probe", "probes", "last_error")
    actions = [probe_now]
    opened = local_time("opened_at", "opened")
    next_probe = local_time("next_probe_at", "next probe")

    def has_replay_permission(self, request):
        return request.user.has_perm("sync.replay_event")


@admin.action(description="Mark the selected loop alerts resolved", permissions=["replay"])
def resolve_loop_alerts(modeladmin, request, queryset):
    try:
        resolved = loop_alerts_resolve(alerts=list(queryset), user=request.user)
    except DomainError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
    else:
        modeladmin.message_user(request, f"{resolved} loop alert(s) resolved.", messages.SUCCESS)


@admin.register(LoopAlert)
class LoopAlertAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("entity_key", "event_count", "first_event", "detected", "resolved")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter),)
    search_fields = ("=entity_key",)
    date_hierarchy = "detected_at"
    actions = [resolve_loop_alerts]
    first_event = local_time("first_event_at", "first event")
    detected = local_time("detected_at", "detected")
    resolved = local_time("resolved_at", "resolved")

    def has_replay_permission(self, request):
        return request.user.has_perm("sync.replay_event")


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("started", "dry_run", "trigger", "actor_label", "row_count", "event")
    list_filter = ("dry_run", "trigger")
    date_hierarchy = "started_at"
    list_select_related = ("event",)
    started = local_time("started_at", "started")

    @admin.display(description="rows without a page")
    def row_count(self, run):
        return len(run.rows_found)
