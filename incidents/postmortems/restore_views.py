"""On the incident page: start a rollback by restoring a backup, then record its evidence in the console."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from formation_hub.errors import DomainError
from incidents.models import Incident
from incidents.permissions import responder_required
from incidents.postmortems.restores import restore_start


@require_POST
@responder_required
def incident_restore(request, incident_id):
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        restore = restore_start(incident=incident, user=request.user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("incidents:detail", incident_id=incident.pk)
    messages.success(request, "Restore started: follow the runbook, then record what was restored and checked.")
    return redirect(reverse("admin:incidents_backuprestore_change", args=[restore.pk]))
