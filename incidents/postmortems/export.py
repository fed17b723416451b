"""A post-mortem as the playbook's markdown document, named `YYYY-MM-DD-<slug>.md`.

The date is the incident's resolution day in the organisation's zone (the day the resolved status
update announces the document); the sections follow the playbook's template, in English.
"""

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from formation_hub.console.timefmt import format_local, to_local
from incidents.models import ActionItem, Incident, PostMortem
from incidents.postmortems.services import BLAMELESS_STATEMENT

SECTIONS = (
    "Timeline",
    "Impact",
    "Root cause",
    "Why did our monitoring not alert earlier?",
    "Action items",
    "Lessons learned",
    "Blameless statement",
)


def document_date(incident: Incident, fallback: datetime | None = None) -> str:
    return f"{to_local(incident.resolved_at or fallback or timezone.now()):%Y-%m-%d}"


def postmortem_filename(post_mortem: PostMortem) -> str:
    return f"{document_date(post_mortem.incident, post_mortem.created_at)}-{post_mortem.slug}.md"


def _text(value: str, empty: str = "_To be written._") -> str:
    return value.strip() or empty


def action_item_line(number: int, item: ActionItem) -> str:
    box = "x" if item.status == ActionItem.Status.DONE else " "
    status = "" if item.status in (ActionItem.Status.OPEN, ActionItem.Status.DONE) else f", {item.get_status_display()}"
    return (
        f"- [{box}] AI {number}: {item.description} "
        f"(owner @{item.owner.get_username()}, due {item.due_date:%Y-%m-%d}{status})"
    )


def postmortem_markdown(post_mortem: PostMortem) -> str:
    incident = post_mortem.incident
    items = list(post_mortem.action_items.select_related("owner").order_by("due_date", "id"))
    facts = [
        f"Incident #{incident.pk} · {incident.severity} · {incident.service} / {incident.category}",
        f"resolved {format_local(incident.resolved_at)}",
        f"status: {post_mortem.get_state_display()}",
    ]
    if post_mortem.published_at:
        facts.append(f"published {format_local(post_mortem.published_at)}")
    if incident.runbook_id:
        facts.append(f"runbook used: {incident.runbook.title}")
    actions = [action_item_line(number, item) for number, item in enumerate(items, start=1)]
    parts = [
        f"# Post-mortem: {post_mortem.title}",
        " · ".join(facts),
        f"## Timeline (local times, {settings.ORGANISATION_TIME_ZONE})",
        _text(post_mortem.timeline),
        "## Impact",
        "\n".join([
            f"- Downtime: {_text(post_mortem.downtime, 'unknown')}",
            f"- Users affected: {_text(post_mortem.users_affected, 'unknown')}",
            f"- Data loss: {_text(post_mortem.data_loss, 'unknown')}",
            f"- Estimated cost: {_text(post_mortem.estimated_cost, 'not quantified')}",
        ]),
        "## Root cause",
        _text(post_mortem.root_cause),
        "## Why did our monitoring not alert earlier?",
        _text(post_mortem.monitoring_gap),
        "## Action items",
        "\n".join(actions) if actions else "_None yet._",
        "## Lessons learned",
        _text(post_mortem.lessons_learned),
        "## Blameless statement",
        BLAMELESS_STATEMENT,
    ]
    return "\n\n".join(parts) + "\n"


def export_published(folder: Path) -> list[Path]:
    """Write every published post-mortem into folder (created if missing); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    published = PostMortem.objects.filter(state=PostMortem.State.PUBLISHED).select_related(
        "incident__runbook"
    ).order_by("incident__resolved_at", "id")
    for post_mortem in published:
        path = folder / postmortem_filename(post_mortem)
        path.write_text(postmortem_markdown(post_mortem), encoding="utf-8")
        written.append(path)
    return written
