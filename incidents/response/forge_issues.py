"""A SEV3 (an isolated bug with a workaround) is fixed through the normal delivery flow: it opens an issue
on the forge, linked from the incident (its page, timeline and console row)."""

from django.db import transaction
from django.urls import reverse
from django_q.tasks import async_task

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.forge import ForgeError, forge_client, forge_connection
from formation_hub.models import AuditEntry
from incidents.models import Incident, Severity, TimelineEntry
from incidents.response.timeline import timeline_add


def forge_issue_open_later(incident: Incident) -> None:
    """After commit, a worker opens the forge issue (a forge call never holds the incident's transaction)."""
    incident_id = incident.pk
    transaction.on_commit(lambda: async_task("incidents.tasks.open_forge_issue", incident_id, group="forge"))


def _issue_body(incident: Incident) -> str:
    return (
        f"{incident.get_severity_display()} on {incident.service} ({incident.category}), detected "
        f"{format_local(incident.detected_at)}.\n\n{incident.description or '(no description)'}\n\n"
        f"Incident #{incident.pk} in formation-hub: {reverse('admin:incidents_incident_change', args=[incident.pk])}"
    )


@transaction.atomic
def incident_forge_issue_open(*, incident_id: int) -> str:
    """Open the incident's forge issue once; returns its URL ('' without a forge connection, when the
    incident is no longer an open SEV3, or when the forge refused: audited, and the next severity change
    to SEV3 tries again)."""
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    if incident.forge_issue_url:
        return incident.forge_issue_url
    if incident.severity != Severity.SEV3 or not incident.is_open or forge_connection() is None:
        return ""
    try:
        number, url = forge_client().create_issue(title=f"[SEV3] {incident.title}", body=_issue_body(incident))
    except ForgeError as error:
        audit_record(action="incident.forge_issue_failed", target=incident, actor_label="forge",
                     result=AuditEntry.Result.FAILED, message=error.message)
        return ""
    incident.forge_issue_url = url
    incident.save(update_fields=["forge_issue_url"])
    timeline_add(incident=incident, kind=TimelineEntry.Kind.NOTE, author_label="forge",
                 text=f"Forge issue #{number} opened: {url}")
    audit_record(action="incident.forge_issue_opened", target=incident, actor_label="forge",
                 changes={"number": number, "url": url})
    return url
