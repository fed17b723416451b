"""The incidents part of the ops console: incidents with their clocks and timeline, the rotation with
its 8-week preview, overrides (refusing primary == backup), alerts, pages and recaps as evidence."""

from django import forms
from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from formation_hub.admin import ReadOnlyEvidenceAdmin
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from incidents.clock import clock_view
from incidents.models import (
    OPEN_STATUSES,
    Alert,
    BreachAssessment,
    HandoffRecap,
    Incident,
    MonitorSetting,
    Override,
    Page,
    Rotation,
    RotationMember,
    StatusUpdate,
    TimelineEntry,
)
from incidents.oncall import override_problems, preview
from incidents.services import incident_acknowledge


class OpenFilter(admin.SimpleListFilter):
    title = "open"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "open"), ("no", "resolved or closed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "no":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    fields = ("time", "kind", "author_label", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatusUpdateInline(admin.StackedInline):
    model = StatusUpdate
    fields = ("posted_at", "posted_by", "kind", "subject", "body", "emailed")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Acknowledge the selected incidents (stops their response clocks)")
def acknowledge_incidents(modeladmin, request, queryset):
    done = 0
    for incident in queryset:
        try:
            incident_acknowledge(incident=incident, user=request.user)
            done += 1
        except DomainError as error:
            modeladmin.message_user(request, f"#{incident.pk}: {error.message}", messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{done} incident(s) acknowledged.", messages.SUCCESS)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = (
        "id", "severity", "title", "status", "response_clock", "breached", "service", "source", "commander",
        "detected_at",
    )
    list_display_links = ("id", "title")
    list_filter = (OpenFilter, "severity", "status", "breached", "source", "user_facing", "data_loss")
    search_fields = ("title", "service", "category", "=monitor")
    list_select_related = ("commander",)
    date_hierarchy = "detected_at"
    inlines = [TimelineInline, StatusUpdateInline]
    actions = [acknowledge_incidents]
    editable = ("title", "description", "service", "category")
    fieldsets = (
        (None, {"fields": ("oncall_page", "title", "description", "service", "category")}),
        ("State", {"fields": ("severity", "status", "source", "commander", "user_facing", "data_loss", "monitor",
                              "related_link")}),
        ("Response clock", {"fields": ("response_clock", "detected_at", "respond_by", "acknowledged_at",
                                       "acknowledged_by", "breached", "breached_at")}),
        ("Lifecycle", {"fields": ("triaged_at", "investigating_at", "mitigated_at", "resolved_at", "closed_at",
                                  "last_update_at", "next_update_due_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        editable = set(self.editable)
        return [
            name for fieldset in self.fieldsets for name in fieldset[1]["fields"] if name not in editable
        ]

    def has_add_permission(self, request):
        # Incidents are filed through the on-call form, the API or an alert, which start the clock and page.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="response clock")
    def response_clock(self, incident):
        view = clock_view(incident, timezone.now())
        return format_html('<span class="ops-clock-{0} {1}">{2}</span>', view.level, _css(view.level), view.text)

    @admin.display(description="on-call page")
    def oncall_page(self, incident):
        url = reverse("incidents:detail", args=[incident.pk])
        return format_html('<a href="{}">Acknowledge, move, add notes and post updates on the on-call page</a>', url)

    @admin.display(description="related to")
    def related_link(self, incident):
        return str(incident.related_object) if incident.related_object_id else "-"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.changed_data:
            audit_record(
                action="incident.edited", target=obj, actor=request.user,
                changes={name: form.cleaned_data[name] for name in form.changed_data},
            )


def _css(level: str) -> str:
    return {"amber": "ops-amber", "red": "ops-red", "breached": "ops-breach"}.get(level, "")


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


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        rotation = form.instance
        audit_record(action="oncall.rotation_saved", target=rotation, actor=request.user,
                     changes={"members": [str(member.user) for member in rotation.members.all()]})
        HandoffRecap.objects.filter(rotation=rotation, sent_at__isnull=True).delete()  # the next sweep reschedules
        warnings = [warning for week in preview(rotation, timezone.now()) for warning in week.warnings]
        for warning in warnings[:5]:
            self.message_user(request, f"Gap in the next 8 weeks: {warning}", messages.WARNING)


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    form = OverrideForm
    list_display = ("user", "role", "rotation", "starts_at", "ends_at", "reason")
    list_filter = ("rotation", "role")
    list_select_related = ("user", "rotation")
    search_fields = ("user__username", "reason")
    autocomplete_fields = ("user",)
    date_hierarchy = "starts_at"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(action="oncall.override_saved", target=obj, actor=request.user,
                     changes={"user": str(obj.user), "role": obj.role, "starts_at": obj.starts_at,
                              "ends_at": obj.ends_at})
        for warning in getattr(form, "warnings", []):
            self.message_user(request, warning, messages.WARNING)


@admin.register(MonitorSetting)
class MonitorSettingAdmin(admin.ModelAdmin):
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


@admin.register(BreachAssessment)
class BreachAssessmentAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("incident", "aware_at", "deadline", "decision", "notified_authority_at", "decided_by")
    list_filter = ("decision",)
    list_select_related = ("incident", "decided_by")
    readonly_fields = [field.name for field in BreachAssessment._meta.fields]
