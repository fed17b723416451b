"""Trainer capacity: after an intervention or an attribution, the trainer's remaining hours are read
from Baserow (personne); below zero, admins are notified, once per trainer per day. An attribution
also emails the trainer."""

from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.notifications import notify
from sync.clients.baserow import BaserowClient
from sync.clients.factory import baserow_client
from sync.models import Event, EventItem, LogicalTable, TableMapping
from sync.processing.routing import IgnoreItem, rule
from sync.processing.rows import cell_number, cell_text, item_row_latest, link_ids, mapping_for, row_latest

ACTOR = "sync-rules"


def trainer_capacity_check(*, baserow: BaserowClient, event: Event, personne_id: int, because: str) -> str:
    """Read the trainer's remaining hours; notify admins (deduplicated per trainer and day) when < 0."""
    personne = mapping_for(LogicalTable.PERSONNE)
    trainer = row_latest(baserow=baserow, mapping=personne, row_id=personne_id)
    name = cell_text(trainer.get(personne.field_name("nom"))) or f"#{personne_id}"
    remaining = cell_number(trainer.get(personne.field_name("heures_restantes")))
    if remaining is None:
        return f"{name}: remaining hours unknown"
    if remaining >= 0:
        return f"{name}: {remaining} h remaining"
    day = timezone.localdate()
    notification = notify(
        kind="sync.capacity", target=event, dedupe_key=f"sync.capacity:{personne_id}:{day.isoformat()}",
        subject=f"[sync] {name} is over capacity: {remaining} h remaining",
        body=(
            f"{name} (personne row {personne_id}) has {remaining} hours remaining after {because}.\n"
            "Check the trainer's interventions and attributions in Baserow and rebalance them. "
            "You get this alert once per trainer per day."
        ),
    )
    audit_record(
        action="sync.capacity.exceeded", target=event, actor_label=ACTOR,
        changes={"personne": personne_id, "remaining_hours": remaining, "notification": notification.pk},
        message=f"{name}: {remaining} h remaining; admins notified (once a day)",
    )
    return f"{name}: {remaining} h remaining, admins notified"


def _trainer_ids(mapping: TableMapping, row: dict) -> list[int]:
    ids = link_ids(row.get(mapping.field_name("formateur")))
    if not ids:
        raise IgnoreItem("no trainer (formateur) on the row")
    return ids


@rule("intervention", "rows.created", services=("baserow",))
def check_capacity_after_intervention(item: EventItem, mapping: TableMapping) -> str:
    baserow = baserow_client()
    row = item_row_latest(baserow=baserow, mapping=mapping, item=item)
    because = f"intervention {cell_text(row.get(mapping.field_name('nom'))) or row['id']}"
    return "; ".join(
        trainer_capacity_check(baserow=baserow, event=item.event, personne_id=personne_id, because=because)
        for personne_id in _trainer_ids(mapping, row)
    )


@rule("attribution", "rows.created", services=("baserow",))
def email_trainer_and_check_capacity(item: EventItem, mapping: TableMapping) -> str:
    """The trainer gets an email (once per attribution), then the capacity check."""
    baserow = baserow_client()
    row = item_row_latest(baserow=baserow, mapping=mapping, item=item)
    personne = mapping_for(LogicalTable.PERSONNE)
    project = cell_text(row.get(mapping.field_name("projet"))) or "(no project)"
    hours = cell_number(row.get(mapping.field_name("heures")))
    notes = []
    for personne_id in _trainer_ids(mapping, row):
        trainer = row_latest(baserow=baserow, mapping=personne, row_id=personne_id)
        email = cell_text(trainer.get(personne.field_name("email")))
        name = cell_text(trainer.get(personne.field_name("nom"))) or f"#{personne_id}"
        if email:
            notification = notify(
                kind="sync.attribution", recipients=[email], target=item.event,
                dedupe_key=f"sync.attribution:{mapping.baserow_table_id}:{row['id']}:{personne_id}",
                subject=f"Nouvelle attribution : {project}",
                body=(
                    f"Bonjour {name},\n\nVous êtes attribué(e) au projet {project}"
                    f"{f' pour {hours} h' if hours is not None else ''}.\n\nL'équipe formation-hub"
                ),
            )
            audit_record(
                action="sync.attribution.emailed", target=item.event, actor_label=ACTOR,
                changes={"personne": personne_id, "notification": notification.pk},
                message=f"{name} emailed about the attribution to {project}",
            )
            notes.append(f"{name} emailed")
        else:
            notes.append(f"{name} has no email")
        notes.append(trainer_capacity_check(baserow=baserow, event=item.event, personne_id=personne_id,
                                            because=f"the attribution to {project}"))
    return "; ".join(notes)
