"""On-call pages for post-mortems, their action items and the runbooks. Thin: validate, call one service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from formation_hub.errors import DomainError
from formation_hub.gates.decisions import can_decide, pending_gate
from incidents.models import ActionItem, Incident, PostMortem, Runbook
from incidents.permissions import can_respond
from incidents.postmortems.action_items import action_item_add, action_item_reschedule, action_item_set_status
from incidents.postmortems.export import postmortem_filename, postmortem_markdown
from incidents.postmortems.services import (
    BLAMELESS_STATEMENT,
    EDITABLE_FIELDS,
    REVIEW_GATE,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_save,
    postmortem_start,
    postmortem_submit,
    publication_notice,
)
from incidents.selectors import action_items_of, local_today, overdue_action_items, overdue_postmortems
from incidents.services import incident_set_runbook
from incidents.web.forms import (
    ActionItemForm,
    ActionItemStatusForm,
    PostMortemForm,
    RescheduleForm,
    ReturnToDraftForm,
    RunbookChoiceForm,
)
from incidents.web.views import responder_required


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        messages.error(request, f"{'' if field == '__all__' else field.replace('_', ' ') + ': '}{' '.join(errors)}")


def _refused(request, error: DomainError, post_mortem_id: int):
    messages.error(request, error.message)
    return redirect("incidents:postmortem", post_mortem_id=post_mortem_id)


@login_required
@require_GET
def postmortem_list(request):
    now = timezone.now()
    context = {
        "my_items": list(action_items_of(request.user)),
        "overdue_items": list(overdue_action_items(now)[:50]),
        "overdue": list(overdue_postmortems(now)[:50]),
        "in_progress": list(
            PostMortem.objects.exclude(state=PostMortem.State.PUBLISHED).select_related("incident").order_by("due_at")
        ),
        "published": list(
            PostMortem.objects.filter(state=PostMortem.State.PUBLISHED).select_related("incident")
            .order_by("-published_at")[:30]
        ),
        "today": local_today(now),
        "now": now,
    }
    return render(request, "oncall/postmortem_list.html", context)


@login_required
def postmortem_detail(request, post_mortem_id):
    post_mortem = get_object_or_404(PostMortem.objects.select_related("incident__runbook"), pk=post_mortem_id)
    may_respond = can_respond(request.user)
    form = PostMortemForm(initial={name: getattr(post_mortem, name) for name in EDITABLE_FIELDS})
    if request.method == "POST":
        if not may_respond:
            return _refused(request, DomainError("Only on-call people and admins write post-mortems."), post_mortem.pk)
        form = PostMortemForm(request.POST)
        if form.is_valid():
            try:
                postmortem_save(post_mortem=post_mortem, user=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Post-mortem saved.")
                return redirect("incidents:postmortem", post_mortem_id=post_mortem.pk)
    today = local_today(timezone.now())
    review = pending_gate(target=post_mortem, gate_type=REVIEW_GATE)
    context = {
        "post_mortem": post_mortem,
        "incident": post_mortem.incident,
        "items": list(post_mortem.action_items.select_related("owner")),
        "today": today,
        "form": form,
        "can_respond": may_respond,
        "can_edit": may_respond and not post_mortem.is_published,
        "review": review,
        "may_publish": review is not None and can_decide(gate=review, user=request.user),
        "item_form": ActionItemForm(),
        "status_form": ActionItemStatusForm(),
        "return_form": ReturnToDraftForm(),
        "file_name": postmortem_filename(post_mortem),
        "overdue": not post_mortem.is_published and post_mortem.due_at < timezone.now(),
        "blameless": BLAMELESS_STATEMENT,
    }
    return render(request, "oncall/postmortem_detail.html", context)


def _move(request, post_mortem_id, service, done: str, **kwargs):
    post_mortem = get_object_or_404(PostMortem, pk=post_mortem_id)
    try:
        service(post_mortem=post_mortem, user=request.user, **kwargs)
    except DomainError as error:
        return _refused(request, error, post_mortem.pk)
    messages.success(request, done)
    return redirect("incidents:postmortem", post_mortem_id=post_mortem.pk)


@require_POST
@responder_required
def postmortem_submit_view(request, post_mortem_id):
    return _move(request, post_mortem_id, postmortem_submit, "Sent for review.")


@require_POST
@responder_required
def postmortem_return_view(request, post_mortem_id):
    form = ReturnToDraftForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _move(request, post_mortem_id, postmortem_return_to_draft, "Back to draft.", reason=reason)


@require_POST
@responder_required
def postmortem_publish_view(request, post_mortem_id):
    post_mortem = get_object_or_404(PostMortem, pk=post_mortem_id)
    try:
        postmortem_publish(post_mortem=post_mortem, user=request.user)
    except DomainError as error:
        return _refused(request, error, post_mortem.pk)
    messages.success(request, publication_notice(post_mortem))
    return redirect("incidents:postmortem", post_mortem_id=post_mortem.pk)


@login_required
@require_GET
def postmortem_download(request, post_mortem_id):
    post_mortem = get_object_or_404(PostMortem.objects.select_related("incident__runbook"), pk=post_mortem_id)
    response = HttpResponse(postmortem_markdown(post_mortem), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{postmortem_filename(post_mortem)}"'
    return response


@require_POST
@responder_required
def postmortem_start_view(request, incident_id):
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        post_mortem = postmortem_start(incident=incident, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("incidents:detail", incident_id=incident.pk)
    return redirect("incidents:postmortem", post_mortem_id=post_mortem.pk)


@require_POST
@responder_required
def action_item_add_view(request, post_mortem_id):
    post_mortem = get_object_or_404(PostMortem, pk=post_mortem_id)
    form = ActionItemForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("incidents:postmortem", post_mortem_id=post_mortem.pk)
    try:
        action_item_add(post_mortem=post_mortem, user=request.user, **form.cleaned_data)
    except DomainError as error:
        return _refused(request, error, post_mortem.pk)
    messages.success(request, "Action item added.")
    return redirect("incidents:postmortem", post_mortem_id=post_mortem.pk)


@require_POST
@login_required
def action_item_status_view(request, item_id):
    """The owner or a responder moves an item; the service checks who."""
    item = get_object_or_404(ActionItem, pk=item_id)
    form = ActionItemStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status: open, in progress, done or dropped.")
    else:
        try:
            action_item_set_status(item=item, user=request.user, status=form.cleaned_data["status"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Action item now {ActionItem.Status(form.cleaned_data['status']).label}.")
    if request.POST.get("next") == "list":
        return redirect("incidents:postmortems")
    return redirect("incidents:postmortem", post_mortem_id=item.post_mortem_id)


@require_POST
@responder_required
def action_item_reschedule_view(request, item_id):
    item = get_object_or_404(ActionItem, pk=item_id)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            action_item_reschedule(item=item, user=request.user, due_date=form.cleaned_data["due_date"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Action item now due {form.cleaned_data['due_date']:%Y-%m-%d}.")
    return redirect("incidents:postmortem", post_mortem_id=item.post_mortem_id)


@require_POST
@responder_required
def incident_runbook(request, incident_id):
    form = RunbookChoiceForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("incidents:detail", incident_id=incident_id)
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        incident_set_runbook(incident=incident, user=request.user, runbook=form.cleaned_data["runbook"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Runbook saved.")
    return redirect("incidents:detail", incident_id=incident_id)


@login_required
@require_GET
def runbook_list(request):
    return render(request, "oncall/runbook_list.html", {"runbooks": Runbook.objects.order_by("title")})


@login_required
@require_GET
def runbook_detail(request, slug):
    runbook = get_object_or_404(Runbook, slug=slug)
    sections = [(label, getattr(runbook, name)) for name, label in Runbook.SECTIONS]
    return render(request, "oncall/runbook_detail.html", {"runbook": runbook, "sections": sections})
