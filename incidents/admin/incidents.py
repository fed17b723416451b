"""The incidents part of the ops console: incidents with their clocks and timeline, the rotation with
its 8-week preview, overrides (refusing primary == backup), alerts, pages and recaps as evidence;
post-mortems, action items, runbooks, recurrence escalations and the metrics page."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from formation_hub.admin import ReadOnlyEvidenceAdmin
from formation_hub.audit import audit_record
from formation_hub.charts import Bar, stacked_bar_chart
from formation_hub.errors import DomainError
from formation_hub.markdown import render_markdown
from formation_hub.permissions import may
from formation_hub.timefmt import format_local
from incidents.models import (
    OPEN_STATUSES,
    ActionItem,
    Alert,
    BreachAssessment,
    HandoffRecap,
    Incident,
    MonitorSetting,
    Override,
    Page,
    PostMortem,
    RecurrenceEscalation,
    Rotation,
    RotationMember,
    Runbook,
    Severity,
    StatusUpdate,
    TimelineEntry,
)
from incidents.oncall.rotation import override_problems, preview
from incidents.permissions import ACKNOWLEDGE_ESCALATION
from incidents.postmortems.export import postmortem_filename, postmortem_markdown
from incidents.postmortems.runbooks import runbook_mark_reviewed
from incidents.postmortems.services import action_item_set_status
from incidents.response.clock import clock_view
from incidents.response.metrics import incident_metrics, last_months
from incidents.response.recurrence import escalation_acknowledge, recurrence_check
from incidents.selectors import local_today, runbook_to_review
from incidents.services import incident_acknowledge, incident_set_runbook


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
            return format_html('<strong class="ops-bad">breached</strong>')
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
        runbook = obj.runbook
        runbook_changed = "runbook" in form.changed_data
        if runbook_changed:
            obj.runbook_id = form.initial.get("runbook")  # the service below records the change
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if name != "runbook"]
        if changed:
            audit_record(
                action="incident.edited", target=obj, actor=request.user,
                changes={name: form.cleaned_data[name] for name in changed},
            )
        if runbook_changed:
            try:
                incident_set_runbook(incident=obj, user=request.user, runbook=runbook)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
        if {"service", "category"} & set(changed):
            # A corrected service or category may complete a pattern the incident was not counted in.
            recurrence_check(incident=obj)

    def get_urls(self):
        return [
            path("metrics/", self.admin_site.admin_view(self.metrics_view), name="incidents_incident_metrics"),
            *super().get_urls(),
        ]

    def metrics_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            count = min(max(int(request.GET.get("months", 6)), 1), 24)
        except ValueError:
            count = 6
        metrics = incident_metrics(months=last_months(count))
        severities = [severity.value for severity in Severity]
        labels = {month: f"{month:%b %Y}" for month in metrics.months}
        per_month = {month: {} for month in metrics.months}
        for row in metrics.rows:
            per_month[row.month][row.severity] = row
        incidents_chart = stacked_bar_chart(
            [Bar(labels[month], {sev: per_month[month][sev].incidents for sev in severities})
             for month in metrics.months],
            segments=severities, title="Incidents per month by severity",
            colors={"SEV1": "#b42318", "SEV2": "#b54708", "SEV3": "#2f6f9f"},
        )
        spread = {"median": "#2f6f9f", "up to p90": "#b3c7dc"}
        acknowledge_chart = stacked_bar_chart(
            [Bar(labels[total.month], _spread(total.acknowledge, 60)) for total in metrics.totals],
            segments=list(spread), colors=spread, unit=" min",
            title="Time to acknowledge per month, all severities (minutes): median, then up to p90",
        )
        resolve_chart = stacked_bar_chart(
            [Bar(labels[total.month], _spread(total.resolve, 3600)) for total in metrics.totals],
            segments=list(spread), colors=spread, unit=" h",
            title="Time to resolve per month, all severities (hours): median, then up to p90",
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Incident metrics",
            "opts": self.model._meta,
            "metrics": metrics,
            "months": count,
            "month_choices": (3, 6, 12, 24),
            "incidents_chart": incidents_chart,
            "acknowledge_chart": acknowledge_chart,
            "resolve_chart": resolve_chart,
        }
        return TemplateResponse(request, "admin/incidents/metrics.html", context)


def _spread(stats, unit_seconds: int) -> dict[str, float]:
    if stats.median is None:
        return {}
    median = round(stats.median.total_seconds() / unit_seconds, 1)
    p90 = round(stats.p90.total_seconds() / unit_seconds, 1)
    return {"median": median, "up to p90": round(p90 - median, 1)}


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


class OverdueFilter(admin.SimpleListFilter):
    """Past due and still to do: unpublished post-mortems, open action items."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "overdue")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        now = timezone.now()
        if queryset.model is PostMortem:
            return queryset.filter(due_at__lt=now).exclude(state=PostMortem.State.PUBLISHED)
        return queryset.filter(status__in=ActionItem.OPEN_STATUSES, due_date__lt=local_today(now))


class MineFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", "mine")]

    def queryset(self, request, queryset):
        return queryset.filter(owner=request.user) if self.value() == "yes" else queryset


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    fields = ("description", "owner", "due_date", "status", "done_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PostMortem)
class PostMortemAdmin(admin.ModelAdmin):
    """Read in the console; written on the on-call page, where its state moves (draft, review, published)."""

    list_display = ("title", "incident_link", "state", "due_at", "is_overdue", "open_items", "published_at")
    list_filter = (OverdueFilter, "state")
    search_fields = ("title", "incident__title", "=incident__id")
    list_select_related = ("incident",)
    date_hierarchy = "due_at"
    inlines = [ActionItemInline]
    fields = (
        "links", "incident_link", "state", "due_at", "submitted_at", "published_at", "published_by",
        "timeline_html", "downtime", "users_affected", "data_loss", "estimated_cost", "root_cause_html",
        "monitoring_gap_html", "lessons_learned_html",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            open_count=Count("action_items", filter=Q(action_items__status__in=ActionItem.OPEN_STATUSES))
        )

    def has_add_permission(self, request):
        return False  # created when its incident is resolved, or started from the on-call page

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:post_mortem_id>/markdown/", self.admin_site.admin_view(self.markdown_view),
                 name="incidents_postmortem_markdown"),
            *super().get_urls(),
        ]

    def markdown_view(self, request, post_mortem_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        post_mortem = get_object_or_404(PostMortem.objects.select_related("incident__runbook"), pk=post_mortem_id)
        return markdown_download(post_mortem)

    @admin.display(description="incident", ordering="incident__detected_at")
    def incident_link(self, post_mortem):
        url = reverse("admin:incidents_incident_change", args=[post_mortem.incident_id])
        return format_html('<a href="{}">#{} {}</a>', url, post_mortem.incident_id, post_mortem.incident.severity)

    @admin.display(description="overdue", boolean=True)
    def is_overdue(self, post_mortem):
        return not post_mortem.is_published and post_mortem.due_at < timezone.now()

    @admin.display(description="open action items", ordering="open_count")
    def open_items(self, post_mortem):
        return post_mortem.open_count

    @admin.display(description="")
    def links(self, post_mortem):
        return format_html(
            '<a href="{}">Write and move it on the on-call page</a> · <a href="{}">Download {}</a>',
            reverse("incidents:postmortem", args=[post_mortem.pk]),
            reverse("admin:incidents_postmortem_markdown", args=[post_mortem.pk]), postmortem_filename(post_mortem),
        )

    @admin.display(description="timeline")
    def timeline_html(self, post_mortem):
        return render_markdown(post_mortem.timeline)

    @admin.display(description="root cause")
    def root_cause_html(self, post_mortem):
        return render_markdown(post_mortem.root_cause)

    @admin.display(description="why monitoring did not alert earlier")
    def monitoring_gap_html(self, post_mortem):
        return render_markdown(post_mortem.monitoring_gap)

    @admin.display(description="lessons learned")
    def lessons_learned_html(self, post_mortem):
        return render_markdown(post_mortem.lessons_learned)


def markdown_download(post_mortem: PostMortem) -> HttpResponse:
    response = HttpResponse(postmortem_markdown(post_mortem), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{postmortem_filename(post_mortem)}"'
    return response


def _set_items_status(modeladmin, request, queryset, status):
    done = 0
    for item in queryset:
        try:
            action_item_set_status(item=item, user=request.user, status=status)
            done += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{item}: {error.message}", messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{done} action item(s) now {status.replace('_', ' ')}.", messages.SUCCESS)


@admin.action(description="Mark the selected action items done", permissions=["change"])
def mark_items_done(modeladmin, request, queryset):
    _set_items_status(modeladmin, request, queryset, ActionItem.Status.DONE)


@admin.action(description="Mark the selected action items in progress", permissions=["change"])
def mark_items_in_progress(modeladmin, request, queryset):
    _set_items_status(modeladmin, request, queryset, ActionItem.Status.IN_PROGRESS)


@admin.action(description="Drop the selected action items (no longer needed)", permissions=["change"])
def drop_items(modeladmin, request, queryset):
    _set_items_status(modeladmin, request, queryset, ActionItem.Status.DROPPED)


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    """Per owner (filter 'owner' or 'mine') and overdue; statuses move through the actions."""

    list_display = ("description", "owner", "due_date", "status", "is_overdue", "post_mortem_link")
    list_filter = (OverdueFilter, MineFilter, "status", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("description", "owner__username", "post_mortem__title")
    list_select_related = ("owner", "post_mortem")
    date_hierarchy = "due_date"
    actions = [mark_items_done, mark_items_in_progress, drop_items]
    fields = ("description", "owner", "due_date", "status", "done_at", "post_mortem_link", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # added from the post-mortem's on-call page

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="overdue", boolean=True)
    def is_overdue(self, item):
        return item.is_open and item.due_date < local_today(timezone.now())

    @admin.display(description="post-mortem")
    def post_mortem_link(self, item):
        url = reverse("admin:incidents_postmortem_change", args=[item.post_mortem_id])
        return format_html('<a href="{}">{}</a>', url, item.post_mortem.title)


@admin.action(description="Mark the selected runbooks as reviewed", permissions=["change"])
def mark_runbooks_reviewed(modeladmin, request, queryset):
    reviewed = 0
    for runbook in queryset:
        try:
            runbook_mark_reviewed(runbook=runbook, user=request.user)
            reviewed += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{runbook}: {error.message}", messages.WARNING)
    modeladmin.message_user(request, f"{reviewed} runbook(s) marked as reviewed.", messages.SUCCESS)


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "last_reviewed_at", "updated_at", "incident_count")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    actions = [mark_runbooks_reviewed]
    readonly_fields = ("preview", "last_reviewed_at", "oncall_link")
    fields = (
        "title", "slug", "oncall_link", "symptoms", "diagnosis", "resolution", "prevention", "rollback_escalation",
        "last_reviewed_at", "preview",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(incident_total=Count("incidents"))

    @admin.display(description="incidents", ordering="incident_total")
    def incident_count(self, runbook):
        return runbook.incident_total

    @admin.display(description="on-call page")
    def oncall_link(self, runbook):
        if runbook.pk is None:
            return "-"
        return format_html('<a href="{0}">{0}</a>', reverse("incidents:runbook", args=[runbook.slug]))

    @admin.display(description="preview (as shown on the on-call pages)")
    def preview(self, runbook):
        if runbook.pk is None:
            return "-"
        return format_html_join(
            "", "<h3>{}</h3>{}", ((label, render_markdown(getattr(runbook, name))) for name, label in Runbook.SECTIONS)
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(action="runbook.saved", target=obj, actor=request.user, changes={"sections": form.changed_data})


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
