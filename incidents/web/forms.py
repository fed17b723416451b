"""Forms of the on-call pages (outside the admin): validate, then one service call in the view."""

from django import forms

from incidents.models import (
    SEVERITY_HELP,
    TEXT_LIMIT,
    BreachAssessment,
    Severity,
    Status,
    StatusUpdate,
)
from incidents.permissions import responders as responders_queryset

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def severity_choices():
    return [(severity.value, f"{severity.label}: {SEVERITY_HELP[severity]}") for severity in Severity]


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="What is wrong, in a few words.")
    severity = forms.ChoiceField(choices=severity_choices, widget=forms.RadioSelect)
    service = forms.CharField(max_length=100, help_text="e.g. docmost, baserow, sync, console.")
    category = forms.CharField(max_length=100, help_text="e.g. down, performance, data, security, bug.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=TEXT_LIMIT)
    detected_at = forms.DateTimeField(
        required=False, widget=LOCAL_INPUT, help_text="Local time; leave empty for now.",
    )
    user_facing = forms.BooleanField(required=False, label="Users see the problem")
    data_loss = forms.BooleanField(required=False, label="Data was lost")


class ReportForm(forms.Form):
    title = forms.CharField(max_length=200, label="What is wrong?")
    service = forms.CharField(max_length=100, label="Where?", help_text="e.g. the wiki, the database, the console.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), label="Details", max_length=TEXT_LIMIT,
        help_text="What you did, what you expected, what happened; is there a workaround?",
    )


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Status.choices, label="Move to")
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, allowed=None, **kwargs):
        """allowed: the moves open from the incident's status (none for a closed one); None on a POST,
        where the service says which moves are allowed."""
        super().__init__(*args, **kwargs)
        if allowed is not None:
            self.fields["to_status"].choices = [(value, Status(value).label) for value in allowed]


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Timeline note", max_length=TEXT_LIMIT)


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    reason = forms.CharField(max_length=300, required=False)


def responders():
    return responders_queryset()


class FlagsForm(forms.Form):
    commander = forms.ModelChoiceField(queryset=None, required=False)
    user_facing = forms.BooleanField(required=False, label="User-facing")
    data_loss = forms.BooleanField(required=False, label="Data loss")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commander"].queryset = responders()


class StatusUpdateForm(forms.Form):
    kind = forms.ChoiceField(choices=StatusUpdate.Kind.choices, widget=forms.HiddenInput)
    subject = forms.CharField(max_length=250)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))


class BreachAssessmentForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(value, label) for value, label in BreachAssessment.Decision.choices if value != "pending"]
    )
    data_categories = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    notified_authority_at = forms.DateTimeField(required=False, widget=LOCAL_INPUT, label="Authority notified at")
