"""Console pages of the core: the audit trail, gates (with the page that decides one), notifications,
refused calls, worker heartbeats and the forge connection."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from formation_hub.access.permissions import permission_label
from formation_hub.admin.base import AuditedSettingsAdmin, ReadOnlyEvidenceAdmin
from formation_hub.errors import DomainError
from formation_hub.forge import token_from_env
from formation_hub.gates.context import gate_context, gate_target_url
from formation_hub.gates.decisions import can_decide, gate_decide, gate_types, gates_waiting_for, get_gate_type
from formation_hub.models import AuditEntry, ForgeConnection, Gate, Notification, RefusedCall, WorkerHeartbeat
from formation_hub.notifications import notification_resend

AREA_LABELS = {
    "gate": "gates", "incident": "incidents", "oncall": "on call", "postmortem": "post-mortems",
    "release": "releases", "delivery": "stories and bumps", "sync": "sync", "notification": "notifications",
    "setting": "console settings",
}


class ActionAreaFilter(admin.SimpleListFilter):
    """The area of an action ('release' for release.tagged, ...): a handful of choices instead of every code."""

    title = "area"
    parameter_name = "area"

    def lookups(self, request, model_admin):
        areas = {action.split(".", 1)[0] for action in
                 AuditEntry.objects.order_by().values_list("action", flat=True).distinct()}
        return [(area, AREA_LABELS.get(area, area)) for area in sorted(areas)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action__startswith=f"{self.value()}.")
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("time", "actor_label", "action", "object_link", "result", "message_short")
    list_filter = ("result", ActionAreaFilter, "content_type", "time")
    search_fields = ("=object_id", "=correlation_id", "action", "actor_label", "object_repr")
    # No date hierarchy: its DISTINCT month scan of the whole trail cost 113 ms at 100,000 entries
    # (make bench-console); the "time" filter narrows by day, week, month or year without it.
    list_select_related = ("content_type",)
    readonly_fields = [field.name for field in AuditEntry._meta.fields]
    show_full_result_count = False

    @admin.display(description="object")
    def object_link(self, entry):
        if entry.content_type_id is None:
            return "-"
        url_name = f"admin:{entry.content_type.app_label}_{entry.content_type.model}_change"
        try:
            url = reverse(url_name, args=[quote(entry.object_id)])
        except Exception:  # noqa: BLE001 - a model without a console page: show the text only
            return entry.object_repr
        return format_html('<a href="{}">{}</a>', url, entry.object_repr)

    @admin.display(description="message")
    def message_short(self, entry):
        text = entry.message if len(entry.message) <= 200 else entry.message[:199] + "…"
        return format_html('<span class="ops-wrap" title="{}">{}</span>', entry.message[:1000], text)


def decision_label(decision: str) -> str:
    return decision.replace("_", " ")


class GateDecisionForm(forms.Form):
    """No decision is preselected: the person picks one knowingly."""

    decision = forms.ChoiceField(error_messages={"required": "Choose a decision."})
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    subject = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, decisions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [("", "- choose a decision -")] + [
            (decision, decision_label(decision)) for decision in decisions
        ]


class WaitingForMeFilter(admin.SimpleListFilter):
    title = "waiting for"
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("me", "my decision")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=[gate.pk for gate in gates_waiting_for(request.user)])
        return queryset


class GateTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "gate_type"

    def lookups(self, request, model_admin):
        return sorted(((name, kind.label) for name, kind in gate_types().items()), key=lambda item: item[1])

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(gate_type=self.value())
        return queryset


@admin.register(Gate)
class GateAdmin(ReadOnlyEvidenceAdmin):
    list_display = (
        "type_label", "about", "subject", "state", "requested_by", "requested_at", "decision", "decided_by",
        "decide_link",
    )
    list_display_links = None
    list_filter = (WaitingForMeFilter, "state", GateTypeFilter)
    search_fields = ("object_repr", "=subject")
    list_select_related = ("content_type", "requested_by", "decided_by")
    date_hierarchy = "requested_at"
    readonly_fields = [field.name for field in Gate._meta.fields]
    change_form_template = "admin/formation_hub/gate/change_form.html"

    @admin.display(description="gate", ordering="gate_type")
    def type_label(self, gate):
        try:
            return get_gate_type(gate.gate_type).label
        except DomainError:
            return gate.gate_type

    @admin.display(description="about", ordering="object_repr")
    def about(self, gate):
        url = gate_target_url(gate)
        return format_html('<a href="{}">{}</a>', url, gate.object_repr) if url else gate.object_repr

    @admin.display(description="")
    def decide_link(self, gate):
        url = reverse("admin:formation_hub_gate_decide", args=[gate.pk])
        text = "Decide" if gate.state == Gate.State.PENDING else "View"
        return format_html('<a class="gate-decide" href="{}">{}</a>', url, text)

    def get_urls(self):
        return [
            path(
                "<int:gate_id>/decide/", self.admin_site.admin_view(self.decide_view),
                name="formation_hub_gate_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        gate = self.get_object(request, object_id)
        extra_context = {**(extra_context or {})}
        if gate is not None and gate.state == Gate.State.PENDING:
            extra_context["decide_url"] = reverse("admin:formation_hub_gate_decide", args=[gate.pk])
            extra_context["may_decide"] = can_decide(gate=gate, user=request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, gate_id):
        gate = get_object_or_404(Gate.objects.select_related("requested_by", "decided_by"), pk=gate_id)
        kind = get_gate_type(gate.gate_type)
        about = gate_context(gate)
        form = GateDecisionForm(
            request.POST or None, decisions=kind.decisions, initial={"subject": gate.subject}
        )
        if request.method == "POST" and form.is_valid():
            try:
                gate_decide(
                    gate=gate, user=request.user, decision=form.cleaned_data["decision"],
                    subject=form.cleaned_data["subject"], reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                decision = decision_label(form.cleaned_data["decision"])
                self.message_user(
                    request, f"Decision '{decision}' on the {kind.label} of {about.subject_label} recorded.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(about.subject_url or reverse("admin:formation_hub_gate_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Decide the {about.what}" if gate.state == Gate.State.PENDING else f"The {about.what}",
            "gate": gate,
            "kind": kind,
            "permission_label": permission_label(kind.permission),
            "about": about,
            "decisions": ", ".join(decision_label(decision) for decision in kind.decisions),
            "reason_required_for": ", ".join(decision_label(decision) for decision in kind.reason_required_for),
            "form": form,
            "opts": self.model._meta,
            "may_decide": can_decide(gate=gate, user=request.user),
        }
        return TemplateResponse(request, "admin/formation_hub/gate/decide.html", context)


def resend_notifications(modeladmin, request, queryset):
    resent = 0
    for notification in queryset:
        try:
            notification_resend(notification=notification, user=request.user)
            resent += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{notification}: {error.message}", messages.WARNING)
    if resent:
        modeladmin.message_user(request, f"{resent} notification(s) queued again.", messages.SUCCESS)


resend_notifications.short_description = "Resend the selected failed, dead or skipped notifications"
resend_notifications.allowed_permissions = ("resend",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("created_at", "kind", "channel", "subject", "state", "attempts", "sent_at")
    list_filter = ("state", "channel", "kind")
    search_fields = ("subject", "=dedupe_key")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = [resend_notifications]

    def has_resend_permission(self, request):
        return request.user.has_perm("formation_hub.change_notification")


@admin.register(RefusedCall)
class RefusedCallAdmin(ReadOnlyEvidenceAdmin):
    """Refused Dependabot and alert webhook calls, counted per hour (Baserow's: Sync -> Rejected calls)."""

    list_display = ("hour", "source", "count", "last_at", "last_reason", "last_remote_addr")
    list_filter = ("source",)
    date_hierarchy = "hour"


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("name", "beat_at")


@admin.register(ForgeConnection)
class ForgeConnectionAdmin(AuditedSettingsAdmin):
    list_display = ("kind", "url", "repository", "status_context", "token_status", "updated_at")
    readonly_fields = ("token_status", "updated_at")

    @admin.display(description="token")
    def token_status(self, connection):
        variable = connection.token_env_var
        return f"{variable}: {'set' if token_from_env(variable) else 'NOT SET'}"
