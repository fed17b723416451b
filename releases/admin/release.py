"""The releases part of the ops console: the pipeline, its evidence and its actions.

Every action is a logged-in POST to a view that calls one service; gates are decided on the core's
gate page (formation_hub's decide view), so the same refusals apply everywhere. Stories and dependency
bumps (issue 8) are registered by releases/admin/delivery.py.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from formation_hub.access.permissions import may
from formation_hub.admin.base import AuditedSettingsAdmin, ReadOnlyEvidenceAdmin
from formation_hub.audit import audit_entries_for
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import can_decide, get_gate_type
from formation_hub.models import Gate
from releases import clock, conf
from releases.admin.actions import ObjectActionsMixin
from releases.models import (
    Change,
    CheckRun,
    Deployment,
    FreezeWindow,
    PrerequisiteOverride,
    PrerequisiteReport,
    Release,
    SmokeCheck,
)
from releases.pipeline.notes import changelog_import, changelog_render
from releases.pipeline.prepare import (
    change_add,
    change_edit,
    release_abort,
    release_create,
    release_propose,
    release_set_sha,
)
from releases.pipeline.prerequisite_reports import commit_statuses_fetch, override_request, release_check_prerequisites
from releases.pipeline.rollout import release_deploy, release_rollback, release_run_smoke, watch_ends_at
from releases.rules.prerequisites import LABELS
from releases.selectors import next_step, release_evaluation, unreleased_changes


class ReleaseCreateForm(forms.Form):
    kind = forms.ChoiceField(choices=Release.Kind.choices, initial=Release.Kind.NORMAL,
                             help_text="A hotfix patches the last stable release and may pass a freeze with an "
                             "override.")
    sha = forms.CharField(label="Commit SHA", max_length=40, required=False)
    title = forms.CharField(max_length=200, required=False, help_text="The one-liner of the tag message.")
    version = forms.CharField(
        max_length=100, required=False,
        help_text="Leave empty to take the proposed version; a hand-chosen one must be a valid successor.",
    )
    version_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False,
        help_text="Why a hand-chosen version; required to go to 1.0.0.",
    )


class ChangeInline(admin.TabularInline):
    model = Change
    fields = ("type", "text", "author", "reference", "source")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


# Until it is deployed, the prerequisites of now and the "what if" preview apply; after, what the approver saw.
BEFORE_DEPLOY = (
    Release.Status.DRAFT, Release.Status.PREREQUISITES_MET, Release.Status.STAGING_VALIDATED, Release.Status.TAGGED,
    Release.Status.APPROVED,
)


def _approval_results(release: Release) -> list[dict]:
    """The prerequisites as the production approver saw them (kept on the release at the approval)."""
    results = (release.approval_evidence or {}).get("results", {})
    return [
        {"label": LABELS.get(name, name), "status": result.get("status", ""), "evidence": result.get("evidence", "")}
        for name, result in results.items()
    ]


@admin.register(Release)
class ReleaseAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_argument = "release"
    list_display = ("__str__", "kind", "status", "sha_short", "author", "created_at", "released_at", "imported")
    list_filter = ("status", "kind", "imported")
    search_fields = ("=version", "title", "sha")
    list_select_related = ("author",)
    date_hierarchy = "created_at"
    inlines = [ChangeInline]
    change_form_template = "admin/releases/release/change_form.html"
    change_list_template = "admin/releases/release/change_list.html"

    def get_object_actions(self):
        return ACTIONS

    @admin.display(description="SHA")
    def sha_short(self, release):
        return release.sha[:10]

    def get_fields(self, request, obj=None):
        return ("version", "kind", "status", "title", "sha", "author", "version_reason", "base_version", "imported",
                "released_on", "created_at", "tagged_at", "approved_at", "deployed_at", "watch_started_at",
                "released_at", "ended_at", "end_reason")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """Prepare a release: a plain form calling release_create, its refusal shown on the form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ReleaseCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                release = release_create(user=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"Release {release} prepared as a draft.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:releases_release_change", args=[release.pk]))
        proposal = None
        try:
            proposal = release_propose()
        except DomainError as error:
            self.message_user(request, error.message, messages.WARNING)
        context = {
            **self.admin_site.each_context(request),
            "title": "Prepare a release",
            "opts": self.model._meta,
            "form": form,
            "proposal": proposal,
            "unreleased": list(unreleased_changes()),
        }
        return TemplateResponse(request, "admin/releases/release/add_form.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        release = self.get_object(request, object_id)
        # Every field is read-only: the release moves through the actions and gates, never by a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete_link": False}
        if release is not None:
            extra_context.update(self._pipeline_context(request, release))
        return super().change_view(request, object_id, form_url, extra_context)

    def _pipeline_context(self, request, release: Release) -> dict:
        preview_at, preview_error = None, ""
        if request.GET.get("at"):
            try:
                naive = datetime.fromisoformat(request.GET["at"])
                preview_at = naive.replace(tzinfo=ZoneInfo(settings.ORGANISATION_TIME_ZONE))
            except (ValueError, KeyError):
                preview_error = "Give the instant as YYYY-MM-DDTHH:MM."
        gates = list(
            Gate.objects.filter(object_id=str(release.pk), gate_type__startswith="releases.")
            .exclude(gate_type="releases.override").select_related("requested_by", "decided_by")
        )
        for gate in gates:
            gate.label = get_gate_type(gate.gate_type).label
            gate.may_decide = gate.state == Gate.State.PENDING and can_decide(gate=gate, user=request.user)
            gate.decide_url = reverse("admin:formation_hub_gate_decide", args=[gate.pk])
        overrides = list(release.overrides.select_related("requested_by", "decided_by"))
        override_gates = {
            gate.object_id: gate for gate in Gate.objects.filter(
                gate_type="releases.override", object_id__in=[str(override.pk) for override in overrides]
            )
        }
        for override in overrides:
            gate = override_gates.get(str(override.pk))
            override.decide_url = reverse("admin:formation_hub_gate_decide", args=[gate.pk]) if gate else ""
        before_deploy = release.status in BEFORE_DEPLOY
        return {
            "release": release,
            "before_deploy": before_deploy,
            "approval_results": _approval_results(release),
            "approval_at": parse_datetime((release.approval_evidence or {}).get("at", "")),
            "history": list(audit_entries_for(release).select_related("actor").order_by("time", "id")[:200]),
            "next_step": next_step(release),
            "evaluation": release_evaluation(release) if before_deploy else None,
            "evaluated_now": clock.now(),
            "preview": release_evaluation(release, at=preview_at) if preview_at and before_deploy else None,
            "preview_at_text": request.GET.get("at", ""),
            "preview_error": preview_error,
            "gates": gates,
            "overrides": overrides,
            "deployments": list(release.deployments.select_related("started_by")),
            "check_runs": list(release.check_runs.all()[:50]),
            "watch_ends_at": watch_ends_at(release),
            "prerequisite_labels": LABELS,
            "actions": self.object_action_links(release),
            "changelog_url": reverse("admin:releases_release_changelog"),
            "commit_status_configured": bool(conf.commit_status_url()),
        }

    def get_urls(self):
        return [
            path("changelog/", self.admin_site.admin_view(self.changelog_view), name="releases_release_changelog"),
            path("changelog/download/", self.admin_site.admin_view(self.changelog_download),
                 name="releases_release_changelog_download"),
            *self.object_action_urls(),
            *super().get_urls(),
        ]

    def may_run_object_action(self, request, action: str) -> bool:
        """Release approvers (change permission) run every action; on-call people, who get paged when a
        deploy goes wrong, may also roll back."""
        if self.has_change_permission(request):
            return True
        return action == "rollback" and may(request.user, "releases.rollback_release")

    def changelog_view(self, request):
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            upload = request.FILES.get("file")
            text = upload.read().decode("utf-8", errors="replace") if upload else request.POST.get("text", "")
            try:
                self.message_user(request, changelog_import(text=text, user=request.user), messages.SUCCESS)
            except DomainError as error:
                self.message_user(request, f"Import refused: {error.message}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:releases_release_changelog"))
        context = {
            **self.admin_site.each_context(request),
            "title": "CHANGELOG.md",
            "opts": self.model._meta,
            "changelog": changelog_render(),
            "may_import": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/releases/release/changelog.html", context)

    def changelog_download(self, request):
        response = HttpResponse(changelog_render(), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="CHANGELOG.md"'
        return response


def _check_prerequisites(*, release, user, data):
    release_check_prerequisites(release=release, user=user)
    return "Prerequisites met: the staging validation gate is open."


def _fetch(*, release, user, data):
    stored = commit_statuses_fetch(release=release, user=user)
    return f"{stored} new CI result(s) read from the commit-status API."


def _set_sha(*, release, user, data):
    release_set_sha(release=release, sha=data.get("sha", ""), user=user)
    return "SHA updated: every gate given on the old SHA is void; the release is a draft again."


def _deploy(*, release, user, data):
    release = release_deploy(release=release, user=user)
    return f"Deploy recorded; the release is now {release.get_status_display()}."


def _smoke(*, release, user, data):
    runs = release_run_smoke(release=release, user=user)
    return f"{sum(run.ok for run in runs)}/{len(runs)} smoke test(s) passed."


def _rollback(*, release, user, data):
    release_rollback(release=release, user=user, reason=data.get("reason", ""))
    return "Rolled back to the previous stable release; an incident is open."


def _abort(*, release, user, data):
    release_abort(release=release, user=user, reason=data.get("reason", ""))
    return "Release aborted."


def _override(*, release, user, data):
    override_request(release=release, prerequisite=data.get("prerequisite", ""), reason=data.get("reason", ""),
                     user=user)
    return "Override requested: a second release approver must approve it."


ACTIONS = {
    "check": _check_prerequisites,
    "fetch": _fetch,
    "sha": _set_sha,
    "deploy": _deploy,
    "smoke": _smoke,
    "rollback": _rollback,
    "abort": _abort,
    "override": _override,
}


class ChangeForm(forms.ModelForm):
    class Meta:
        model = Change
        fields = ("type", "text", "author", "reference")


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    list_display = ("text_short", "type", "release", "author", "source", "created_at")
    list_filter = ("type", "source", ("release", admin.EmptyFieldListFilter))
    search_fields = ("text", "=reference")
    list_select_related = ("release", "author")
    date_hierarchy = "created_at"
    # Picked by name (the default is the person adding it): the approver may not be a change's author.
    autocomplete_fields = ("author",)
    form = ChangeForm

    @admin.display(description="change")
    def text_short(self, change):
        return change.text[:100]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.release_id is not None:
            return ("type", "text", "author", "reference", "created_by")
        return ("created_by",)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.release_id is None)

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            change_edit(change=obj, user=request.user,
                        **{name: form.cleaned_data[name] for name in form.changed_data})
            return
        created = change_add(type=obj.type, text=obj.text, author=obj.author, reference=obj.reference,
                             user=request.user)
        obj.pk = created.pk


@admin.register(FreezeWindow)
class FreezeWindowAdmin(AuditedSettingsAdmin):
    list_display = ("name", "kind", "start_date", "start_time", "end_date", "end_time", "time_zone")
    list_filter = ("kind", "time_zone")
    search_fields = ("name",)
    date_hierarchy = "start_date"


@admin.register(SmokeCheck)
class SmokeCheckAdmin(AuditedSettingsAdmin):
    list_display = ("name", "url", "expected_status", "expected_text", "active", "in_watch")
    list_filter = ("active", "in_watch")
    search_fields = ("name", "url")


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("started_at", "release", "action", "environment", "version", "sha", "started_by", "result",
                    "hook_status")
    list_filter = ("result", "action", "environment")
    search_fields = ("=version", "sha")
    list_select_related = ("release", "started_by")
    date_hierarchy = "started_at"
    readonly_fields = [field.name for field in Deployment._meta.fields]


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("ran_at", "release", "phase", "name", "ok", "status_code", "duration_ms", "detail")
    list_filter = ("phase", "ok")
    search_fields = ("name", "url")
    list_select_related = ("release",)
    date_hierarchy = "ran_at"
    readonly_fields = [field.name for field in CheckRun._meta.fields]


@admin.register(PrerequisiteReport)
class PrerequisiteReportAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("observed_at", "kind", "outcome", "sha", "source", "release", "link")
    list_filter = ("kind", "outcome", "source")
    search_fields = ("=sha",)
    list_select_related = ("release",)
    date_hierarchy = "observed_at"
    readonly_fields = [field.name for field in PrerequisiteReport._meta.fields]

    @admin.display(description="evidence")
    def link(self, report):
        return format_html('<a href="{}">{}</a>', report.url, "open") if report.url else "-"


@admin.register(PrerequisiteOverride)
class PrerequisiteOverrideAdmin(ReadOnlyEvidenceAdmin):
    list_display = ("requested_at", "release", "prerequisite", "sha", "state", "requested_by", "decided_by",
                    "decided_at_local")
    list_filter = ("state", "prerequisite")
    search_fields = ("=sha", "reason")
    list_select_related = ("release", "requested_by", "decided_by")
    date_hierarchy = "requested_at"
    readonly_fields = [field.name for field in PrerequisiteOverride._meta.fields]

    @admin.display(description="decided")
    def decided_at_local(self, override):
        return format_local(override.decided_at)
