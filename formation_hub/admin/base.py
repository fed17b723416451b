"""The two kinds of console pages every app builds on: evidence (read only, by anyone) and settings rows
(saved and deleted through one audited service)."""

from django.contrib import admin

from formation_hub.console.edits import setting_delete, setting_save


class ReadOnlyEvidenceAdmin(admin.ModelAdmin):
    """Rows that are evidence: listed and read, never added, edited or deleted, by anyone."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedSettingsAdmin(admin.ModelAdmin):
    """A settings row edited in the console: each add, change and delete is an audit entry."""

    def save_model(self, request, obj, form, change):
        setting_save(row=obj, actor=request.user, created=not change,
                     changes={name: form.cleaned_data.get(name) for name in form.changed_data})

    def delete_model(self, request, obj):
        setting_delete(row=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for row in queryset:
            setting_delete(row=row, actor=request.user)
