"""Console pages of incidents: the list with its clocks, the incident with its timeline and status updates,
breach assessments and recurrence escalations."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from formation_hub.access.permissions import may
from formation_hub.admin.base import ReadOnlyEvidenceAdmin
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from incidents.admin.metrics import incident_metrics_page
from incidents.models import (
    OPEN_STATUSES,
    BreachAssessment,
    Incident,
    PostMortem,
    RecurrenceEscalation,
    Severity,
    StatusUpdate,
    TimelineEntry,
)
from incidents.permissions import ACKNOWLEDGE_ESCALATION
from incidents.postmortems.recurrence import escalation_acknowledge
from incidents.response.clock import clock_view
from incidents.selectors import runbook_to_review
from incidents.services import incident_acknowledge, incident_edit, incident_set_runbook


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


@admin.action(description="Acknowledge the selected incidents (stops their response clocks)", permissions=["change"])
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
        "id", "severity", "title", "status_and_commander", "response_clock", "breach",
    )
    list_display_links = ("id", "title")
    list_filter = (OpenFilter, "severity", "status", "breached", "source", "user_facing", "data_loss")
    search_fields = ("title", "service", "category", "=monitor")
    list_select_related = ("commander",)
    date_hierarchy = "detected_at"
    inlines = [TimelineInline, StatusUpdateInline]
    actions = [acknowledge_incidents]

    @admin.display(description="status · commander", ordering="status")
    def status_and_commander(self, incident):
        """One column for both, so the list fits a laptop's width beside the menu and the filters."""
        commander = incident.commander.get_username() if incident.commander else "no commander"
        return format_html('{}<br><span class="ops-quiet">{} · {}</span>', incident.get_status_display(), commander,
                           incident.service or "-")

    @admin.display(description="breached", ordering="breached")
    def breach(self, incident):
        """Words, not Django's boolean icons: a green tick would read 'fine' for a breached clock."""
        if incident.breached:
            return mark_safe('<strong class="ops-bad">breached</strong>')
        return "no"
    editable = ("title", "description", "service", "category", "runbook")
    change_list_template = "admin/incidents/incident/change_list.html"
    fieldsets = (
        (None, {"fields": ("oncall_page", "title", "description", "service", "category")}),
        ("Learning", {"fields": ("runbook", "runbook_review", "post_mortem_link", "recurrence")}),
        ("State", {"fields": ("severity", "status", "source", "commander", "user_facing", "data_loss", "monitor",
                              "forge_issue_url", "related_link")}),
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

    @admin.display(description="runbook review")
    def runbook_review(self, incident):
        runbook = runbook_to_review(incident)
        if runbook is not None:
            url = reverse("admin:incidents_runbook_change", args=[runbook.pk])
            return format_html(
                '<strong class="ops-amber">After this {}, review the runbook used: <a href="{}">{}</a></strong> '
                "(then use its action 'Mark as reviewed').", incident.severity, url, runbook.title,
            )
        if incident.severity in (Severity.SEV1, Severity.SEV2) and incident.runbook_id is None:
            return "No runbook linked: link the one used, or write one if none fitted."
        return "-"

    @admin.display(description="post-mortem")
    def post_mortem_link(self, incident):
        post_mortem = PostMortem.objects.filter(incident=incident).first()
        if post_mortem is None:
            return "none yet (created when a SEV1/SEV2, or a SEV3 in a recurring pattern, is resolved)"
        return format_html(
            '<a href="{}">{}</a> - {}, due {} · <a href="{}">download markdown</a>',
            reverse("admin:incidents_postmortem_change", args=[post_mortem.pk]), post_mortem.title,
            post_mortem.get_state_display(), format_local(post_mortem.due_at),
            reverse("admin:incidents_postmortem_markdown", args=[post_mortem.pk]),
        )

    @admin.display(description="recurring pattern")
    def recurrence(self, incident):
        escalations = incident.recurrence_escalations.all()
        if not escalations:
            return "-"
        return format_html_join(
            ", ", '<a href="{}">{}</a>',
            ((reverse("admin:incidents_recurrenceescalation_change", args=[item.pk]), str(item))
             for item in escalations),
        )

    def save_model(self, request, obj, form, change):
        edited = {name: form.cleaned_data[name] for name in form.changed_data if name != "runbook"}
        incident_edit(incident=obj, user=request.user, changes=edited)
        if "runbook" in form.changed_data:
            try:
                incident_set_runbook(incident=obj, user=request.user, runbook=form.cleaned_data["runbook"])
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)

    def get_urls(self):
        return [
            path("metrics/", self.admin_site.admin_view(self.metrics_view), name="incidents_incident_metrics"),
            *super().get_urls(),
        ]

    def metrics_view(self, request):
        return incident_metrics_page(self, request)


def _css(level: str) -> str:
    return {"amber": "ops-amber", "red": "ops-red", "breached": "ops-breach"}.get(level, "")


@admin.register(BreachAssessment)
class BreachAssessmentAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("incident", "aware_at", "deadline", "decision", "notified_authority_at", "decided_by")
    list_filter = ("decision",)
    list_select_related = ("incident", "decided_by")
    readonly_fields = [field.name for field in BreachAssessment._meta.fields]


class EscalationForm(forms.ModelForm):
    class Meta:
        model = RecurrenceEscalation
        fields = ("decision", "decision_notes")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("decision"):
            self.add_error("decision", "Choose what was decided.")
        if not (cleaned.get("decision_notes") or "").strip():
            self.add_error("decision_notes", "Write what was decided and why (who does what, by when).")
        return cleaned


@admin.register(RecurrenceEscalation)
class RecurrenceEscalationAdmin(admin.ModelAdmin):
    """Stored when a pattern appears; an admin acknowledges it by saving a decision."""

    form = EscalationForm
    list_display = ("__str__", "service", "category", "raised_at", "state", "incident_total", "decision",
                    "acknowledged_by")
    list_filter = ("state", "decision")
    search_fields = ("service", "category")
    list_select_related = ("acknowledged_by",)
    date_hierarchy = "raised_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(incident_count=Count("incidents"))

    def get_fields(self, request, obj=None):
        return ("service", "category", "raised_at", "incident_links", "state", "decision", "decision_notes",
                "acknowledged_by", "acknowledged_at")

    def get_readonly_fields(self, request, obj=None):
        readonly = ["service", "category", "raised_at", "incident_links", "state", "acknowledged_by",
                    "acknowledged_at"]
        if obj is not None and obj.state != RecurrenceEscalation.State.OPEN:
            readonly += ["decision", "decision_notes"]
        return readonly

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        is_open = obj is None or obj.state == RecurrenceEscalation.State.OPEN
        return may(request.user, ACKNOWLEDGE_ESCALATION) and is_open

    @admin.display(description="incidents", ordering="incident_count")
    def incident_total(self, escalation):
        return escalation.incident_count

    @admin.display(description="incidents of the pattern")
    def incident_links(self, escalation):
        incidents = escalation.incidents.order_by("detected_at")
        return format_html_join(
            mark_safe("<br>"), '<a href="{}">#{} [{}] {}</a> - {}',
            ((reverse("admin:incidents_incident_change", args=[item.pk]), item.pk, item.severity, item.title,
              format_local(item.detected_at)) for item in incidents),
        )

    def save_model(self, request, obj, form, change):
        try:
            escalation_acknowledge(
                escalation=obj, user=request.user, decision=form.cleaned_data["decision"],
                notes=form.cleaned_data["decision_notes"],
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
