"""Console pages for the Baserow and Docmost connections and the table mappings (with reconciliation)."""

from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from formation_hub.admin.base import AuditedSettingsAdmin
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from sync.clients.connections import connection_save
from sync.clients.errors import PermanentFailure, ServiceError
from sync.models import (
    BaserowConnection,
    DocmostConnection,
    TableMapping,
)
from sync.processing.routing import handled_event_types
from sync.selectors import (
    mapping_is_silent,
    mappings_with_last_delivery,
)
from sync.upkeep.reconciliation import reconciliation_run


def _env_status(variable: str, value: str) -> str:
    if not variable:
        return "-"
    return f"{variable}: {'set' if value else 'NOT SET'}"


class AuditedConnectionAdmin(admin.ModelAdmin):
    """A connection says where the app sends a secret: every change of it is an audit entry."""

    # A URL typed without a scheme means https (Django 6's default, without its deprecation warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        connection_save(connection=obj, user=request.user, changed=form.changed_data)


@admin.register(BaserowConnection)
class BaserowConnectionAdmin(AuditedConnectionAdmin):
    list_display = ("url", "token_status", "admin_email", "send_webhook_events_on_write", "updated_at")
    readonly_fields = ("token_status", "updated_at")

    @admin.display(description="token")
    def token_status(self, connection):
        return _env_status(connection.token_env_var, connection.token())


@admin.register(DocmostConnection)
class DocmostConnectionAdmin(AuditedConnectionAdmin):
    list_display = ("url", "space_slug", "bot_email", "auth_status", "updated_at")
    readonly_fields = ("auth_status", "updated_at")

    @admin.display(description="authentication")
    def auth_status(self, connection):
        if connection.api_key():
            return f"API key from {connection.api_key_env_var}"
        return _env_status(connection.bot_password_env_var, connection.bot_password())


def _reconcile(modeladmin, request, *, dry_run: bool) -> None:
    try:
        run = reconciliation_run(dry_run=dry_run, trigger="console", actor=request.user)
    except (ServiceError, PermanentFailure) as error:
        modeladmin.message_user(request, f"Baserow could not be read: {error}", messages.ERROR)
        return
    except DomainError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return
    rows = ", ".join(f"{row['logical_table']} {row['row_id']} ({row['title'] or 'no name'})"
                     for row in run.rows_found[:50])
    if not run.rows_found:
        modeladmin.message_user(request, "Every projet and formation row has its Docmost page.", messages.SUCCESS)
    elif dry_run:
        modeladmin.message_user(
            request, f"Dry run: {len(run.rows_found)} row(s) without a Docmost page would be synced: {rows}",
            messages.WARNING,
        )
    else:
        modeladmin.message_user(
            request, f"{len(run.rows_found)} row(s) queued for sync (reconciliation #{run.pk}): {rows}",
            messages.SUCCESS,
        )


@admin.action(description="Reconciliation, dry run: list projet/formation rows without a Docmost page",
              permissions=["replay"])
def reconcile_dry_run(modeladmin, request, queryset):
    _reconcile(modeladmin, request, dry_run=True)


@admin.action(description="Reconciliation: sync every projet/formation row without a Docmost page",
              permissions=["replay"])
def reconcile_for_real(modeladmin, request, queryset):
    _reconcile(modeladmin, request, dry_run=False)


@admin.register(TableMapping)
class TableMappingAdmin(AuditedSettingsAdmin):
    list_display = ("logical_table", "baserow_table_id", "enabled", "webhook_events", "last_delivery", "silence")
    list_filter = ("enabled",)
    search_fields = ("=baserow_table_id", "logical_table")
    actions = [reconcile_dry_run, reconcile_for_real]

    def has_replay_permission(self, request):
        return request.user.has_perm("sync.replay_event")

    def get_queryset(self, request):
        return mappings_with_last_delivery()

    @admin.display(description="webhook events to subscribe")
    def webhook_events(self, mapping):
        return ", ".join(handled_event_types(mapping.logical_table)) or "none: no webhook needed"

    @admin.display(description="last delivery received", ordering="last_delivery_at")
    def last_delivery(self, mapping):
        return format_local(mapping.last_delivery_at) if mapping.last_delivery_at else "never"

    @admin.display(description="silence")
    def silence(self, mapping):
        if mapping_is_silent(mapping):
            return format_html('<strong class="ops-bad">silent for more than {}</strong>', mapping.silence_alert_after)
        return "ok"
