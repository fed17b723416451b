"""Runbooks: edited in the console, reviewed after the SEV1/SEV2 incidents that used them."""

from django.db import transaction
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from incidents.models import Runbook
from incidents.permissions import actor, require_responder


@transaction.atomic
def runbook_mark_reviewed(*, runbook: Runbook, user) -> Runbook:
    """Someone checked the runbook is still right: the console stops suggesting a review."""
    require_responder(user)
    runbook = Runbook.objects.select_for_update().get(pk=runbook.pk)
    runbook.last_reviewed_at = timezone.now()
    runbook.save(update_fields=["last_reviewed_at", "updated_at"])
    audit_record(action="runbook.reviewed", target=runbook, actor=actor(user))
    return runbook


@transaction.atomic
def runbook_save(*, runbook: Runbook, user, sections: list[str]) -> Runbook:
    """Save a runbook written in the console; `sections` names the fields that changed."""
    action = "add" if runbook._state.adding else "change"
    require(user, f"incidents.{action}_runbook", doing="write a runbook")
    runbook.save()
    audit_record(action="runbook.saved", target=runbook, actor=actor(user), changes={"sections": sections})
    return runbook
