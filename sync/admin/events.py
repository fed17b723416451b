"""Console pages for the evidence: events and their items, rejected calls, page links."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from formation_hub.admin.base import ReadOnlyEvidenceAdmin
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from sync.admin.display import EstimatedCountPaginator, local_time
from sync.config_cache import docmost_connection_cached
from sync.models import (
    Event,
    EventItem,
    LogicalTable,
    PageLink,
    RejectedCall,
    TableMapping,
)
from sync.processing.pipeline import event_replay
from sync.processing.routing import DOCMOST_EVENT_TYPES, KNOWN_EVENT_TYPES
from sync.selectors import (
    BUSY_STATES,
    event_state_counts,
    event_story,
)

# A traceback names server paths and code: it is for the sync operator, who replays events (the admin);
# everyone else reads the one-line error (issue 17).
READ_TRACEBACKS = "sync.replay_event"


def _without_tracebacks(request, fields, *tracebacks):
    if request.user.has_perm(READ_TRACEBACKS):
        return fields
    return tuple(field for field in fields if field not in tracebacks)


def _has_something_to_replay(event_id) -> bool:
    """Replay runs again the items that did not succeed: none left, no button (event_replay would refuse)."""
    return EventItem.objects.filter(event_id=event_id).exclude(state=EventItem.State.PROCESSED).exists()


@admin.register(RejectedCall)
class RejectedCallAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("hour_local", "source", "count", "last_at_local", "last_reason", "last_remote_addr")
    list_filter = ("source",)
    date_hierarchy = "hour"
    hour_local = local_time("hour", "hour", "%d %b %Y %H:00")
    last_at_local = local_time("last_at", "last refused call")


class EventItemInline(admin.TabularInline):
    model = EventItem
    fields = ("position", "row_id", "state", "reason", "attempts", "next_attempt", "processed", "last_error")
    readonly_fields = fields
    next_attempt = local_time("next_attempt_at", "next attempt")
    processed = local_time("processed_at", "processed at")
    extra = 0
    can_delete = False
    show_change_link = False

    def get_fields(self, request, obj=None):
        return _without_tracebacks(request, self.fields, "last_error")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Replay the selected events (only what did not succeed)", permissions=["replay"])
def replay_events(modeladmin, request, queryset):
    replayed = 0
    for event in queryset:
        try:
            replayed += event_replay(event=event, user=request.user)
        except DomainError as error:
            modeladmin.message_user(request, error.message, messages.WARNING)
    if replayed:
        modeladmin.message_user(request, f"{replayed} item(s) queued again.", messages.SUCCESS)


class TableFilter(admin.SimpleListFilter):
    title = "table"
    parameter_name = "table"

    def lookups(self, request, model_admin):
        return [
            (str(table_id), f"{logical_table} ({table_id})")
            for table_id, logical_table in TableMapping.objects.values_list("baserow_table_id", "logical_table")
        ] + [("unmapped", "not mapped")]

    def queryset(self, request, queryset):
        if self.value() == "unmapped":
            return queryset.filter(mapping__isnull=True)
        if self.value():
            return queryset.filter(table_id=self.value())
        return queryset


class EventTypeFilter(admin.SimpleListFilter):
    """The event types the bridge knows, from a constant: a `DISTINCT event_type` would scan a million rows."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(event_type, event_type) for event_type in sorted(KNOWN_EVENT_TYPES | DOCMOST_EVENT_TYPES)]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


def _items_of_event(items):
    """The number of the given items of each event row, as a subquery run for the page's rows only."""
    counted = items.filter(event=OuterRef("pk")).order_by().values("event").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(Event)
class EventAdmin(ReadOnlyEvidenceAdmin):
    list_display = (
        "received", "event_type", "table", "row_count", "state", "items_summary", "reason", "webhook_id",
        "batch_id", "event_id",
    )
    list_filter = ("state", TableFilter, EventTypeFilter, "source", "is_test_call", "received_at")
    search_fields = ("=event_id",)
    list_select_related = ("mapping",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = [replay_events]
    inlines = [EventItemInline]
    change_list_template = "admin/sync/event/change_list.html"
    change_form_template = "admin/sync/event/change_form.html"
    readonly_fields = (
        "source", "event_type", "event_id", "webhook_id", "batch_id", "table_id", "mapping", "database_id",
        "workspace_id", "is_test_call", "row_count", "state", "reason", "received", "enqueued",
        "enqueue_count", "claimed", "processed", "attempts", "correlation_id", "headers_pretty",
        "payload_pretty", "last_error", "last_traceback", "audit_trail",
    )
    fieldsets = (
        (None, {"fields": (
            "event_type", "state", "reason", "source", "event_id", "webhook_id", "batch_id", "table_id", "mapping",
            "database_id", "workspace_id", "is_test_call", "row_count",
        )}),
        ("Processing", {"fields": (
            "received", "enqueued", "enqueue_count", "claimed", "processed", "attempts", "correlation_id",
            "last_error", "last_traceback",
        )}),
        ("As received", {"fields": ("headers_pretty", "payload_pretty")}),
        ("Audit trail", {"fields": ("audit_trail",)}),
    )

    received = local_time("received_at", "received")
    enqueued = local_time("enqueued_at", "enqueued")
    claimed = local_time("claimed_at", "claimed by a worker")
    processed = local_time("processed_at", "processed")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(
            items_not_done=_items_of_event(EventItem.objects.exclude(state__in=EventItem.TERMINAL)),
            items_total=_items_of_event(EventItem.objects.all()),
        )
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            # The raw body can be megabytes; the list never shows it.
            queryset = queryset.defer("raw_body", "headers", "last_traceback")
        return queryset

    def get_fieldsets(self, request, obj=None):
        return [(name, {**options, "fields": _without_tracebacks(request, options["fields"], "last_traceback")})
                for name, options in self.fieldsets]

    def has_replay_permission(self, request):
        return request.user.has_perm("sync.replay_event")

    def get_urls(self):
        return [
            path("<int:event_id>/replay/", self.admin_site.admin_view(self.replay_view), name="sync_event_replay"),
            path("<int:event_id>/trace/", self.admin_site.admin_view(self.trace_view), name="sync_event_trace"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        if str(object_id).isdigit():
            extra_context["trace_url"] = reverse("admin:sync_event_trace", args=[object_id])
        if self.has_replay_permission(request) and str(object_id).isdigit() and _has_something_to_replay(object_id):
            extra_context["replay_url"] = reverse("admin:sync_event_replay", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def replay_view(self, request, event_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_replay_permission(request):
            raise PermissionDenied
        event = get_object_or_404(Event, pk=event_id)
        try:
            count = event_replay(event=event, user=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.WARNING)
        else:
            self.message_user(request, f"{count} item(s) queued again.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:sync_event_change", args=[event.pk]))

    def trace_view(self, request, event_id):
        event = get_object_or_404(Event, pk=event_id)
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        story = event_story(event)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": f"Trace of {event}",
                   **story}
        return TemplateResponse(request, "admin/sync/event/trace.html", context)

    def changelist_view(self, request, extra_context=None):
        # Only the states someone acts on: counting processed and ignored would read the whole table.
        counts = event_state_counts(Event.objects.filter(state__in=BUSY_STATES))
        states = [(value, label, counts[value]) for value, label in Event.State.choices if value in BUSY_STATES]
        return super().changelist_view(request, {**(extra_context or {}), "state_counts": states})

    @admin.display(description="table", ordering="table_id")
    def table(self, event):
        if event.mapping_id:
            return f"{event.mapping.logical_table} ({event.table_id})"
        return f"{event.table_id} (not mapped)" if event.table_id is not None else "-"

    @admin.display(description="items")
    def items_summary(self, event):
        return f"{event.items_total - event.items_not_done}/{event.items_total} done"

    @admin.display(description="headers")
    def headers_pretty(self, event):
        return format_html("<pre>{}</pre>", json.dumps(event.headers, indent=2, sort_keys=True))

    @admin.display(description="payload (raw body, pretty-printed)")
    def payload_pretty(self, event):
        try:
            text = json.dumps(json.loads(event.raw_body), indent=2, ensure_ascii=False)
        except ValueError:
            text = event.raw_body
        return format_html('<pre class="sync-payload">{}</pre>', text)

    @admin.display(description="audit entries")
    def audit_trail(self, event):
        entries = event_story(event)["audit"]
        if not entries:
            return "-"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (format_local(entry.time, "%d %b %H:%M:%S"), entry.actor_label, entry.action, entry.result,
                 entry.message)
                for entry in entries
            ),
        )
        return format_html(
            "<table><thead><tr><th>time</th><th>who</th><th>action</th><th>result</th><th>message</th></tr>"
            "</thead><tbody>{}</tbody></table>", rows,
        )


@admin.register(EventItem)
class EventItemAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("event", "row_id", "state", "reason", "attempts", "next_attempt", "processed")
    list_filter = ("state",)
    search_fields = ("=row_id", "=entity_key", "=event__event_id")
    list_select_related = ("event",)
    raw_id_fields = ("event",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    next_attempt = local_time("next_attempt_at", "next attempt")
    processed = local_time("processed_at", "processed at")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data", "old_data", "event__raw_body", "event__headers")

    def get_fields(self, request, obj=None):
        return _without_tracebacks(request, super().get_fields(request, obj), "last_error")


@admin.register(PageLink)
class PageLinkAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("logical_table", "row_id", "page_in_docmost", "page_slug_id", "archived", "updated")
    readonly_fields = ("page_in_docmost",)
    list_filter = ("logical_table", ("archived_at", admin.EmptyFieldListFilter))
    search_fields = ("=row_id", "=page_id", "=page_slug_id")
    list_select_related = ("parent",)
    raw_id_fields = ("parent",)
    updated = local_time("updated_at", "updated")
    archived = local_time("archived_at", "archived (row deleted)")

    @admin.display(description="page (opens Docmost)", ordering="page_id")
    def page_in_docmost(self, link):
        connection = docmost_connection_cached()
        if connection is None or not link.page_slug_id:
            return link.page_id
        url = connection.page_web_url(link.page_slug_id, formation=link.logical_table == LogicalTable.FORMATION)
        return format_html('<a href="{}" rel="noopener" target="_blank">{}</a>', url, link.page_id)
