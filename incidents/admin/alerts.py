"""Console pages of monitoring: the per-monitor settings and the alerts received, as evidence."""

from django.contrib import admin

from formation_hub.admin.base import AuditedSettingsAdmin, ReadOnlyEvidenceAdmin
from incidents.models import Alert, MonitorSetting


@admin.register(MonitorSetting)
class MonitorSettingAdmin(AuditedSettingsAdmin):
    list_display = ("monitor", "severity", "service", "category")
    search_fields = ("monitor", "service")
    list_filter = ("severity",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("received_at", "source", "monitor", "monitor_name", "state", "incident", "outcome")
    list_filter = ("source", "state")
    search_fields = ("=monitor", "monitor_name")
    list_select_related = ("incident",)
    date_hierarchy = "received_at"
    readonly_fields = [field.name for field in Alert._meta.fields]
