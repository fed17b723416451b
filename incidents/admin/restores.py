"""Console pages of backup restores: the list (drills and rollbacks), and the form that records the evidence
through incidents.postmortems.restores.restore_record."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from formation_hub.errors import DomainError
from incidents.models import BackupRestore
from incidents.postmortems.restores import evidence_problems, restore_record

EVIDENCE_FIELDS = ("state", "backup_name", "backup_taken_at", "restore_target", "duration_minutes", "checks",
                   "evidence_url")


class RestoreEvidenceForm(forms.ModelForm):
    evidence_url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                                  help_text="Log, ticket or document with the proof.")

    class Meta:
        model = BackupRestore
        fields = EVIDENCE_FIELDS

    def clean(self):
        data = super().clean()
        problems = evidence_problems(outcome=data.get("state", ""), backup_name=data.get("backup_name", ""),
                                     checks=data.get("checks", ""), restore_target=data.get("restore_target", ""))
        if problems:
            raise forms.ValidationError(problems)
        return data


@admin.register(BackupRestore)
class BackupRestoreAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "state", "incident", "backup_name", "duration_minutes", "opened_at",
                    "completed_by")
    list_filter = ("kind", "state")
    list_select_related = ("incident", "completed_by")
    date_hierarchy = "opened_at"
    form = RestoreEvidenceForm

    def has_add_permission(self, request):
        return False  # drills come from the schedule, rollbacks from an incident

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return ("kind", "period", "incident", "runbook_link", "reason", "opened_at", "opened_by", *EVIDENCE_FIELDS,
                "completed_at", "completed_by")

    def get_readonly_fields(self, request, obj=None):
        fixed = ["kind", "period", "incident", "runbook_link", "reason", "opened_at", "opened_by", "completed_at",
                 "completed_by"]
        if obj is not None and obj.state != BackupRestore.State.OPEN:
            fixed += list(EVIDENCE_FIELDS)
        return fixed

    @admin.display(description="runbook")
    def runbook_link(self, restore):
        if restore.runbook is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("incidents:runbook", args=[restore.runbook.slug]),
                           restore.runbook.title)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            restore_record(restore=obj, user=request.user, outcome=data["state"], backup_name=data["backup_name"],
                           restore_target=data["restore_target"], checks=data["checks"],
                           backup_taken_at=data.get("backup_taken_at"),
                           duration_minutes=data.get("duration_minutes"), evidence_url=data.get("evidence_url", ""))
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
