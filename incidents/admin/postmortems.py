"""Console pages of post-mortems, their action items and the runbooks."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from formation_hub.audit import audit_record
from formation_hub.console.markdown import render_markdown
from formation_hub.errors import DomainError
from incidents.models import ActionItem, PostMortem, Runbook
from incidents.postmortems.action_items import action_item_set_status
from incidents.postmortems.export import postmortem_filename, postmortem_markdown
from incidents.postmortems.runbooks import runbook_mark_reviewed
from incidents.selectors import local_today


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
