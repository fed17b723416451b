"""Forms of the post-mortem, action-item and runbook pages: validate, then one service call in the view."""

from django import forms
from django.contrib.auth import get_user_model

from incidents.models import ActionItem, Runbook


class PostMortemForm(forms.Form):
    """The post-mortem's sections (markdown), as the playbook's template orders them."""

    timeline = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), required=False,
                               help_text="Local times. Markdown.")
    downtime = forms.CharField(max_length=100, required=False, help_text="Computed from detection to restored.")
    users_affected = forms.CharField(max_length=300, required=False)
    data_loss = forms.CharField(max_length=500, required=False, help_text="No, or yes: how much and what.")
    estimated_cost = forms.CharField(max_length=200, required=False, help_text="If it can be quantified.")
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                 help_text="One paragraph: what broke and why. Markdown.")
    monitoring_gap = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Why did our monitoring not alert earlier?",
        help_text="An honest analysis: a blind spot in detection? Markdown.",
    )
    lessons_learned = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                      help_text="What to keep in mind so it does not happen again. Markdown.")


class ActionItemForm(forms.Form):
    description = forms.CharField(max_length=500, help_text="The safeguard to add, e.g. 'Alert at 80 % disk'.")
    owner = forms.ModelChoiceField(queryset=None)
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class RescheduleForm(forms.Form):
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class ActionItemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)


class RunbookChoiceForm(forms.Form):
    runbook = forms.ModelChoiceField(queryset=Runbook.objects.order_by("title"), required=False,
                                     label="Runbook used", empty_label="none")


class ReturnToDraftForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label="What to change")
