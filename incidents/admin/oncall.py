"""Console pages of on-call: the rotation with its 8-week preview, overrides (refusing primary == backup),
pages and handoff recaps as evidence."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.utils import timezone

from formation_hub.admin.base import ReadOnlyEvidenceAdmin
from incidents.models import HandoffRecap, Override, Page, Rotation, RotationMember
from incidents.oncall.rotation import override_problems, preview
from incidents.oncall.schedule_edits import override_save, rotation_save, schedule_records_delete


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 1
    autocomplete_fields = ("user",)
    ordering = ("position",)


class OverrideForm(forms.ModelForm):
    """Refuses an override that makes one person both primary and backup; keeps gap warnings for the page."""

    warnings: list[str] = []

    class Meta:
        model = Override
        fields = ("rotation", "role", "user", "starts_at", "ends_at", "reason")

    def clean(self):
        cleaned = super().clean()
        rotation = cleaned.get("rotation") or (self.instance.rotation if self.instance.rotation_id else None)
        needed = ("role", "user", "starts_at", "ends_at")
        if self.errors or rotation is None or cleaned.get("DELETE") or not all(cleaned.get(n) for n in needed):
            return cleaned
        if cleaned["ends_at"] <= cleaned["starts_at"]:
            raise forms.ValidationError("The override must end after it starts.")
        candidate = Override(pk=self.instance.pk, rotation=rotation, **{name: cleaned[name] for name in needed})
        errors, self.warnings = override_problems(candidate)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


class OverrideInlineForm(OverrideForm):
    class Meta(OverrideForm.Meta):
        fields = ("role", "user", "starts_at", "ends_at", "reason")


class OverrideInline(admin.TabularInline):
    model = Override
    form = OverrideInlineForm
    extra = 0
    autocomplete_fields = ("user",)
    verbose_name_plural = "overrides (current and future)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(ends_at__gt=timezone.now()).select_related("user")


class ScheduleAdmin(admin.ModelAdmin):
    """Deleting a rotation or an override changes who is paged: audited, through the service."""

    def delete_model(self, request, obj):
        schedule_records_delete(records=[obj], user=request.user)

    def delete_queryset(self, request, queryset):
        schedule_records_delete(records=queryset, user=request.user)


@admin.register(Rotation)
class RotationAdmin(ScheduleAdmin):
    list_display = ("name", "active", "priority", "handoff", "time_zone", "start_date")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = [RotationMemberInline, OverrideInline]
    readonly_fields = ("next_weeks",)
    fields = ("name", "active", "priority", "time_zone", "handoff_weekday", "handoff_time", "start_date", "next_weeks")

    @admin.display(description="handoff")
    def handoff(self, rotation):
        return f"{rotation.get_handoff_weekday_display()} {rotation.handoff_time:%H:%M} local"

    @admin.display(description="next 8 weeks")
    def next_weeks(self, rotation):
        if rotation.pk is None:
            return "Saved rotations show who is on call for the next 8 weeks here."
        return render_to_string("admin/incidents/rotation_preview.html", {"weeks": preview(rotation, timezone.now())})

    def save_model(self, request, obj, form, change):
        """Saved with its members and overrides, by rotation_save in save_related."""

    def save_related(self, request, form, formsets, change):
        rotation = rotation_save(rotation=form.instance, user=request.user,
                                 members_save=partial(super().save_related, request, form, formsets, change))
        warnings = [warning for week in preview(rotation, timezone.now()) for warning in week.warnings]
        for warning in warnings[:5]:
            self.message_user(request, f"Gap in the next 8 weeks: {warning}", messages.WARNING)


@admin.register(Override)
class OverrideAdmin(ScheduleAdmin):
    form = OverrideForm
    list_display = ("user", "role", "rotation", "starts_at", "ends_at", "reason")
    list_filter = ("rotation", "role")
    list_select_related = ("user", "rotation")
    search_fields = ("user__username", "reason")
    autocomplete_fields = ("user",)
    date_hierarchy = "starts_at"

    def save_model(self, request, obj, form, change):
        override_save(override=obj, user=request.user)
        for warning in getattr(form, "warnings", []):
            self.message_user(request, warning, messages.WARNING)


@admin.register(Page)
class PageAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("paged_at", "subject", "primary", "backup", "state", "escalate_at", "acknowledged_by")
    list_filter = ("state",)
    search_fields = ("subject", "=dedupe_key")
    list_select_related = ("primary", "backup", "acknowledged_by")
    date_hierarchy = "paged_at"
    readonly_fields = [field.name for field in Page._meta.fields]


@admin.register(HandoffRecap)
class HandoffRecapAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("handoff_at", "rotation", "incoming", "sent_at")
    list_select_related = ("rotation", "incoming")
    date_hierarchy = "handoff_at"
    readonly_fields = [field.name for field in HandoffRecap._meta.fields]
