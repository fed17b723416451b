"""On-call pages for logged-in people, outside the admin. Thin: validate, call one service, render."""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from formation_hub.console.timefmt import format_local, organisation_zone
from formation_hub.errors import DomainError
from incidents.models import BreachAssessment, Incident, Page, PostMortem, Severity, Source, Status, StatusUpdate
from incidents.oncall import ical
from incidents.oncall.paging import page_acknowledge
from incidents.oncall.rotation import active_rotation, preview
from incidents.postmortems.services import postmortem_required
from incidents.response.gdpr import breach_assessment_decide
from incidents.selectors import (
    action_items_of,
    active_pages_for,
    incident_row,
    local_today,
    on_call_summary,
    open_incidents,
    runbook_to_review,
)
from incidents.services import (
    allowed_transitions,
    can_respond,
    incident_acknowledge,
    incident_add_note,
    incident_change_severity,
    incident_open,
    incident_set_flags,
    incident_transition,
)
from incidents.status.updates import status_update_draft, status_update_post
from incidents.web.forms import (
    BreachAssessmentForm,
    FlagsForm,
    IncidentForm,
    NoteForm,
    ReportForm,
    RunbookChoiceForm,
    SeverityForm,
    StatusUpdateForm,
    TransitionForm,
)

ICAL_SALT = "incidents.oncall-ical"


def responder_required(view):
    """On-call people and admins only; everyone else gets a 403 that says where to go."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not can_respond(request.user):
            raise PermissionDenied("Only on-call people and admins can do this; use 'report a problem'.")
        return view(request, *args, **kwargs)

    return wrapped


def _in_local_zone(form_class, data, **kwargs):
    """Bind and validate a form whose datetime-local inputs are in the organisation's zone."""
    with timezone.override(organisation_zone()):
        form = form_class(data, **kwargs)
        form.is_valid()
    return form


@login_required
@require_GET
def home(request):
    now = timezone.now()
    rotation = active_rotation()
    context = {
        "now": now,
        "summary": on_call_summary(now),
        "weeks": preview(rotation, now) if rotation else [],
        "rows": open_incidents(now),
        "my_pages": active_pages_for(request.user),
        "my_items": list(action_items_of(request.user)),
        "today": local_today(now),
        "can_respond": can_respond(request.user),
        "ical_url": request.build_absolute_uri(
            reverse("incidents:calendar_feed", args=[signing.dumps({"user": request.user.pk}, salt=ICAL_SALT)])
        ),
    }
    return render(request, "oncall/home.html", context)


@responder_required
def incident_new(request):
    form = IncidentForm()
    if request.method == "POST":
        form = _in_local_zone(IncidentForm, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = incident_open(
                    title=data["title"], severity=data["severity"], source=Source.ONCALL_FORM,
                    service=data["service"], category=data["category"], description=data["description"],
                    reported_by=request.user, detected_at=data["detected_at"], user_facing=data["user_facing"],
                    data_loss=data["data_loss"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                respond_by = format_local(incident.respond_by)
                messages.success(request, f"Incident #{incident.pk} filed; respond by {respond_by}.")
                return redirect("incidents:detail", incident_id=incident.pk)
    return render(request, "oncall/incident_form.html", {"form": form})


@login_required
def report(request):
    """Any staff member reports a problem; it enters as SEV3 for on-call to triage."""
    if not request.user.is_staff:
        raise PermissionDenied("Reporting is for staff members.")
    form = ReportForm()
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = incident_open(
                    title=data["title"], severity=Severity.SEV3, source=Source.STAFF_REPORT, service=data["service"],
                    category="to triage", description=data["description"], reported_by=request.user,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Thank you: problem #{incident.pk} is with on-call, who will triage it.")
                return redirect("incidents:report")
    return render(request, "oncall/report.html", {"form": form})


@login_required
@require_GET
def incident_detail(request, incident_id):
    incident = get_object_or_404(
        Incident.objects.select_related("commander", "acknowledged_by", "reported_by", "runbook"), pk=incident_id
    )
    now = timezone.now()
    post_mortem = PostMortem.objects.filter(incident=incident).first()
    context = {
        "post_mortem": post_mortem,
        "post_mortem_required": postmortem_required(incident),
        "may_start_post_mortem": post_mortem is None and incident.status == Status.RESOLVED,
        "runbook_to_review": runbook_to_review(incident),
        "runbook_form": RunbookChoiceForm(initial={"runbook": incident.runbook_id}),
        "incident": incident,
        "row": incident_row(incident, now),
        "timeline": incident.timeline.select_related("author"),
        "updates": incident.status_updates.select_related("posted_by"),
        "assessment": BreachAssessment.objects.filter(incident=incident).first(),
        "can_respond": can_respond(request.user),
        "transition_form": TransitionForm(allowed=allowed_transitions(incident)),
        "note_form": NoteForm(),
        "severity_form": SeverityForm(initial={"severity": incident.severity}),
        "flags_form": FlagsForm(
            initial={"commander": incident.commander, "user_facing": incident.user_facing,
                     "data_loss": incident.data_loss}
        ),
        "gdpr_form": BreachAssessmentForm(),
        "now": now,
    }
    return render(request, "oncall/incident_detail.html", context)


def _act(request, incident_id, action):
    """Run one service on a POST; show its refusal as a message; back to the incident."""
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        done = action(incident)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if done:
            messages.success(request, done)
    return redirect("incidents:detail", incident_id=incident_id)


def _invalid(request, form, incident_id):
    for field, errors in form.errors.items():
        messages.error(request, f"{'' if field == '__all__' else field + ': '}{' '.join(errors)}")
    return redirect("incidents:detail", incident_id=incident_id)


@require_POST
@responder_required
def incident_ack(request, incident_id):
    return _act(
        request, incident_id,
        lambda incident: incident_acknowledge(incident=incident, user=request.user) and "Acknowledged.",
    )


@require_POST
@responder_required
def incident_move(request, incident_id):
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, incident_id)
    data = form.cleaned_data
    return _act(
        request, incident_id,
        lambda incident: incident_transition(
            incident=incident, to_status=data["to_status"], user=request.user, note=data["note"]
        ) and f"Moved to {data['to_status']}.",
    )


@require_POST
@responder_required
def incident_note(request, incident_id):
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, incident_id)
    return _act(
        request, incident_id,
        lambda incident: incident_add_note(incident=incident, user=request.user, text=form.cleaned_data["text"])
        and "Note added.",
    )


@require_POST
@responder_required
def incident_severity(request, incident_id):
    form = SeverityForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, incident_id)
    data = form.cleaned_data
    return _act(
        request, incident_id,
        lambda incident: incident_change_severity(
            incident=incident, severity=data["severity"], user=request.user, reason=data["reason"]
        ) and f"Severity is now {data['severity']}.",
    )


@require_POST
@responder_required
def incident_flags(request, incident_id):
    form = FlagsForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, incident_id)
    data = form.cleaned_data
    return _act(
        request, incident_id,
        lambda incident: incident_set_flags(
            incident=incident, user=request.user, user_facing=data["user_facing"], data_loss=data["data_loss"],
            commander=data["commander"], clear_commander=data["commander"] is None,
        ) and "Saved.",
    )


@responder_required
def incident_status_update(request, incident_id):
    incident = get_object_or_404(Incident, pk=incident_id)
    kind = request.GET.get("kind") or request.POST.get("kind") or StatusUpdate.Kind.IN_PROGRESS
    if kind not in StatusUpdate.Kind.values:
        kind = StatusUpdate.Kind.IN_PROGRESS
    subject, body = status_update_draft(incident=incident, kind=kind)
    form = StatusUpdateForm(initial={"kind": kind, "subject": subject, "body": body})
    if request.method == "POST":
        form = StatusUpdateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                status_update_post(
                    incident=incident, user=request.user, kind=data["kind"], subject=data["subject"], body=data["body"]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Status update posted.")
                return redirect("incidents:detail", incident_id=incident.pk)
    emailed = incident.user_facing or incident.data_loss
    return render(
        request, "oncall/status_update.html", {"incident": incident, "form": form, "kind": kind, "emailed": emailed}
    )


@require_POST
@responder_required
def incident_gdpr(request, incident_id):
    assessment = get_object_or_404(BreachAssessment, incident_id=incident_id)
    form = _in_local_zone(BreachAssessmentForm, request.POST)
    if not form.is_valid():
        return _invalid(request, form, incident_id)
    data = form.cleaned_data
    return _act(
        request, incident_id,
        lambda incident: breach_assessment_decide(assessment=assessment, user=request.user, **data)
        and "Assessment recorded.",
    )


@login_required
def page_detail(request, page_id):
    page = get_object_or_404(Page.objects.select_related("incident", "primary", "backup"), pk=page_id)
    if request.method == "POST":
        if not can_respond(request.user):
            raise PermissionDenied("Only on-call people and admins acknowledge pages.")
        try:
            page_acknowledge(page=page, user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Page acknowledged.")
        if page.incident_id:
            return redirect("incidents:detail", incident_id=page.incident_id)
        return redirect("incidents:page", page_id=page.pk)
    return render(request, "oncall/page.html", {"page": page, "can_respond": can_respond(request.user)})


def _calendar_response(user):
    now = timezone.now()
    body = ical.shifts_calendar(start=now - timedelta(weeks=1), end=now + timedelta(weeks=8), user=user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    return response


@login_required
@require_GET
def calendar_mine(request):
    return _calendar_response(request.user if request.GET.get("all") != "1" else None)


@require_GET
def calendar_feed(request, token):
    """A calendar app cannot sign in: the address carries a signed token naming the person."""
    try:
        user_id = signing.loads(token, salt=ICAL_SALT)["user"]
    except (signing.BadSignature, KeyError, TypeError) as error:
        raise Http404("Unknown calendar address.") from error
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise Http404("Unknown calendar address.")
    return _calendar_response(None if request.GET.get("all") == "1" else user)
