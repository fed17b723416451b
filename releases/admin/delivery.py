"""The delivery part of the console: stories (board, actions, JSON import/export) and dependency bumps (weekly
review queue, actions). Gates are decided on the core's gate page; every action calls one service."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from formation_hub.admin.base import ReadOnlyEvidenceAdmin
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import can_decide, get_gate_type
from formation_hub.models import Gate
from releases.admin.actions import ObjectActionsMixin
from releases.delivery import bump_services, stories, story_json
from releases.models import BumpWebhookDelivery, DependencyBump, Story
from releases.rules.bumps import Ecosystem, Severity
from releases.selectors import blocked_stories, bump_review_queue, story_board, with_pending_gate


def _gates_of(target, gate_types, user) -> list[Gate]:
    gates = list(
        Gate.objects.filter(object_id=str(target.pk), gate_type__in=gate_types)
        .select_related("requested_by", "decided_by").order_by("-requested_at")
    )
    for gate in gates:
        gate.label = get_gate_type(gate.gate_type).label
        gate.may_decide = gate.state == Gate.State.PENDING and can_decide(gate=gate, user=user)
        gate.decide_url = reverse("admin:formation_hub_gate_decide", args=[gate.pk])
    return gates


def _decide_link(obj) -> str:
    if not getattr(obj, "pending_gate_id", None):
        return "-"
    label = get_gate_type(obj.pending_gate_type).label
    return format_html('<a class="gate-decide" href="{}">{}</a>',
                       reverse("admin:formation_hub_gate_decide", args=[obj.pending_gate_id]), f"decide: {label}")


# --- stories --------------------------------------------------------------------------------------------


class StoryCreateForm(forms.ModelForm):
    class Meta:
        model = Story
        fields = ("title", "user_story", "acceptance_criteria", "sprint", "change_type", "author")


class StoryImportForm(forms.Form):
    file = forms.FileField(required=False, help_text="A JSON list of stories, as exported.")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False, label="or paste the JSON")


@admin.action(description="Move the selected stories past their manual step", permissions=["change"])
def advance_stories(modeladmin, request, queryset):
    moved = 0
    for story in queryset:
        try:
            stories.story_advance(story=story, user=request.user)
            moved += 1
        except DomainError as error:
            modeladmin.message_user(request, error.message, messages.WARNING)
    modeladmin.message_user(request, f"{moved} story(ies) moved on.", messages.SUCCESS)


@admin.action(description="Export the selected stories as JSON")
def export_stories(modeladmin, request, queryset):
    data = [story_json.story_as_dict(story) for story in queryset.select_related("completed_by")]
    return _json_download(data, "stories.json")


def _json_download(data, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Story)
class StoryAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_argument = "story"

    list_display = ("key_column", "title", "step", "state", "sprint", "ci_status", "coverage", "author", "gate")
    list_filter = ("state", "step", "ci_status", "sprint")
    search_fields = ("=number", "title", "=branch")
    list_select_related = ("author",)
    date_hierarchy = "created_at"
    raw_id_fields = ("author",)
    actions = [advance_stories, export_stories]
    form = StoryCreateForm
    change_form_template = "admin/releases/story/change_form.html"
    change_list_template = "admin/releases/story/change_list.html"

    def get_object_actions(self):
        return STORY_ACTIONS

    @admin.display(description="id", ordering="number")
    def key_column(self, story):
        return story.key

    @admin.display(description="pending gate")
    def gate(self, story):
        return _decide_link(story)

    def get_queryset(self, request):
        return with_pending_gate(super().get_queryset(request), stories.STORY_GATES)

    def get_fields(self, request, obj=None):
        if obj is None:
            return StoryCreateForm.Meta.fields
        return ("title", "user_story", "acceptance_criteria", "change_type", "branch", "step", "state", "sprint",
                "coverage", "ci_status", "head_sha", "pull_request_url", "revision", "author", "created_at",
                "completed_at", "completed_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Only the planning text is edited here; the step, state and CI move through the actions and gates.
        editable = ("title", "user_story", "acceptance_criteria", "change_type")
        if obj.state == Story.State.COMPLETED:
            editable = ()
        return [name for name in self.get_fields(request, obj) if name not in editable]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            try:
                stories.story_plan_edit(story=obj, user=request.user,
                                        changes={name: form.cleaned_data[name] for name in form.changed_data})
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            return
        # The form already refused what story_create refuses (a blank title, an unknown change type).
        created = stories.story_create(
            title=obj.title, user_story=obj.user_story, acceptance_criteria=obj.acceptance_criteria,
            sprint=obj.sprint, change_type=obj.change_type, author=obj.author, user=request.user,
        )
        obj.pk, obj.number, obj.branch = created.pk, created.number, created.branch

    def change_view(self, request, object_id, form_url="", extra_context=None):
        story = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "show_delete_link": False}
        if story is not None:
            extra_context.update({
                "story": story,
                "gates": _gates_of(story, stories.STORY_GATES, request.user),
                "events": list(story.events.select_related("actor")),
                "steps": Story.Step.choices,
                "manual_step": story.step in stories.MANUAL_STEPS and story.state == Story.State.ACTIVE,
                "actions": self.object_action_links(story),
                "may_act": self.has_change_permission(request, story),
            })
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("board/", self.admin_site.admin_view(self.board_view), name="releases_story_board"),
            path("import/", self.admin_site.admin_view(self.import_view), name="releases_story_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="releases_story_export"),
            path("build-state/", self.admin_site.admin_view(self.build_state_view), name="releases_story_build_state"),
            *self.object_action_urls(),
            *super().get_urls(),
        ]

    def board_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Story board",
            "opts": self.model._meta,
            "columns": story_board(stories.STORY_GATES),
            "blocked": list(blocked_stories()),
        }
        return TemplateResponse(request, "admin/releases/story/board.html", context)

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StoryImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            text = upload.read().decode("utf-8", errors="replace") if upload else form.cleaned_data["text"]
            try:
                summary = story_json.stories_import(items=story_json.parse_stories_json(text), user=request.user)
            except DomainError as error:
                form.add_error(None, f"Import refused: {error.message}")
            else:
                self.message_user(request, summary, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:releases_story_changelist"))
        context = {**self.admin_site.each_context(request), "title": "Import stories (JSON)",
                   "opts": self.model._meta, "form": form}
        return TemplateResponse(request, "admin/releases/story/import.html", context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _json_download(story_json.stories_export(), "stories.json")

    def build_state_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _json_download(story_json.build_state_export(), "build-state.json")


def _advance(*, story, user, data):
    coverage = data.get("coverage", "").strip() or None
    story = stories.story_advance(story=story, user=user, note=data.get("note", ""), coverage=coverage,
                                  pull_request_url=data.get("pull_request_url", ""), head_sha=data.get("head_sha", ""))
    return f"{story.key} is now at {story.get_step_display()}."



def _return_to_sprint(*, story, user, data):
    story = stories.story_return_to_sprint(story=story, sprint=data.get("sprint", ""), user=user,
                                           note=data.get("note", ""))
    return f"{story.key} is back in {story.sprint}, at the code step."


STORY_ACTIONS = {"advance": _advance, "return": _return_to_sprint}


# --- dependency bumps -----------------------------------------------------------------------------------


class BumpCreateForm(forms.Form):
    package = forms.CharField(max_length=200, help_text="The package, image (postgres, docmost/docmost) or action.")
    ecosystem = forms.ChoiceField(choices=Ecosystem.CHOICES)
    from_version = forms.CharField(max_length=100)
    to_version = forms.CharField(max_length=100)
    scope = forms.ChoiceField(choices=DependencyBump.Scope.choices, initial=DependencyBump.Scope.PRODUCTION)
    advisories = forms.CharField(max_length=500, required=False, help_text="GHSA / CVE ids, separated by spaces.")
    severity = forms.ChoiceField(choices=Severity.CHOICES, initial=Severity.NONE)
    pull_request_url = forms.URLField(max_length=500, required=False, assume_scheme="https")


@admin.action(description="Merge the selected bumps that may merge now", permissions=["change"])
def merge_bumps(modeladmin, request, queryset):
    merged = 0
    for bump in queryset:
        try:
            bump_services.bump_merge(bump=bump, user=request.user)
            merged += 1
        except DomainError as error:
            modeladmin.message_user(request, error.message, messages.WARNING)
    modeladmin.message_user(request, f"{merged} bump(s) merged.", messages.SUCCESS)


@admin.action(description="Ask again for the decision on the selected held bumps", permissions=["change"])
def ask_again(modeladmin, request, queryset):
    for bump in queryset:
        try:
            bump_services.bump_ask_again(bump=bump, user=request.user)
        except DomainError as error:
            modeladmin.message_user(request, error.message, messages.WARNING)


@admin.register(DependencyBump)
class DependencyBumpAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_argument = "bump"

    list_display = ("__str__", "ecosystem", "scope", "category", "state", "ci_status", "severity", "waiting",
                    "gate", "created_at")
    list_filter = ("state", "category", "scope", "ecosystem", "severity", "source")
    search_fields = ("package", "=pull_request_url")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    actions = [merge_bumps, ask_again]
    change_form_template = "admin/releases/dependencybump/change_form.html"
    change_list_template = "admin/releases/dependencybump/change_list.html"

    def get_object_actions(self):
        return BUMP_ACTIONS

    @admin.display(description="waiting for")
    def waiting(self, bump):
        return bump.waiting_for[:100] or "-"

    @admin.display(description="pending gate")
    def gate(self, bump):
        return _decide_link(bump)

    def get_queryset(self, request):
        return with_pending_gate(super().get_queryset(request), bump_services.BUMP_GATES)

    def get_fields(self, request, obj=None):
        return ("package", "ecosystem", "from_version", "to_version", "scope", "advisories", "severity", "source",
                "pull_request_url", "category", "path", "explanation", "state", "ci_status", "waiting_for",
                "migration_note", "merged_outside_gates", "created_by", "created_at", "merged_at", "closed_at",
                "change")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BumpCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                intake = bump_services.bump_create(
                    package=data["package"], ecosystem=data["ecosystem"], from_version=data["from_version"],
                    to_version=data["to_version"], scope=data["scope"], advisories=data["advisories"],
                    severity=data["severity"], pull_request_url=data["pull_request_url"], user=request.user,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                bump = intake.bump
                note = "recorded" if intake.created else "already recorded for this pull request"
                self.message_user(request, f"{bump} {note}: {bump.get_category_display()}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:releases_dependencybump_change", args=[bump.pk]))
        context = {**self.admin_site.each_context(request), "title": "Record a dependency bump",
                   "opts": self.model._meta, "form": form}
        return TemplateResponse(request, "admin/releases/dependencybump/add_form.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        bump = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete_link": False}
        if bump is not None:
            extra_context.update({
                "bump": bump,
                "gates": _gates_of(bump, bump_services.BUMP_GATES, request.user),
                "blockers": bump_services.merge_blockers(bump),
                "severities": Severity.CHOICES,
                "recategorisable": bump.state in bump_services.RECATEGORISABLE,
                "actions": self.object_action_links(bump),
                "may_act": self.has_change_permission(request, bump),
            })
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("review-queue/", self.admin_site.admin_view(self.review_queue_view),
                 name="releases_dependencybump_review_queue"),
            *self.object_action_urls(),
            *super().get_urls(),
        ]

    def review_queue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        queue = bump_review_queue(bump_services.BUMP_GATES)
        context = {
            **self.admin_site.each_context(request),
            "title": "Weekly review of dependency bumps",
            "opts": self.model._meta,
            "groups": [("production", "Production dependencies", queue["production"]),
                       ("development", "Development dependencies", queue["development"])],
            "now": timezone.now(),
        }
        return TemplateResponse(request, "admin/releases/dependencybump/review_queue.html", context)



def _bump_merge(*, bump, user, data):
    bump_services.bump_merge(bump=bump, user=user)
    return "Merged."


def _bump_close(*, bump, user, data):
    bump_services.bump_close(bump=bump, user=user, reason=data.get("reason", ""))
    return "Closed."


def _bump_ask_again(*, bump, user, data):
    bump_services.bump_ask_again(bump=bump, user=user)
    return "Its gate is open again."


def _bump_note(*, bump, user, data):
    bump_services.bump_set_migration_note(bump=bump, note=data.get("migration_note", ""), user=user)
    return "Migration note saved."


def _bump_severity(*, bump, user, data):
    advisories = data.get("advisories")
    bump = bump_services.bump_set_severity(bump=bump, severity=data.get("severity", ""), user=user,
                                           advisories=advisories if advisories is not None else None)
    return f"Severity set: the bump is now {bump.get_category_display()}."


def _bump_friday_override(*, bump, user, data):
    bump_services.bump_request_friday_override(bump=bump, user=user, reason=data.get("reason", ""))
    return "Override asked: a second release approver decides it under Gates."


BUMP_ACTIONS = {"merge": _bump_merge, "close": _bump_close, "again": _bump_ask_again,
                "note": _bump_note, "severity": _bump_severity, "friday": _bump_friday_override}


@admin.register(BumpWebhookDelivery)
class BumpWebhookDeliveryAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("received_at", "source", "event", "delivery_id", "signature_valid", "outcome", "bump",
                    "message_short")
    list_filter = ("outcome", "source", "signature_valid")
    search_fields = ("=delivery_id",)
    list_select_related = ("bump",)
    date_hierarchy = "received_at"
    readonly_fields = [field.name for field in BumpWebhookDelivery._meta.fields]

    @admin.display(description="message")
    def message_short(self, delivery):
        return (delivery.error or delivery.message)[:120]
