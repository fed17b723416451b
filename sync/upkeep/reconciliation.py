"""Reconciliation: find the projet and formation rows that have no Docmost page (a webhook Baserow
dropped while it was switched off, an import, which fires no webhooks) and sync them through the usual
pipeline. It also finds what else a switched-off webhook lost: rows whose name, client or status no longer
match the title and icon last written to their page (a missed update) and pages whose row is gone (a missed
delete); they go through the update and archive rules. A dry run only lists them."""

import json

from django.db import transaction
from django.utils import timezone

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.observability.correlation import current_correlation_id
from sync.clients.baserow import BaserowClient
from sync.clients.factory import baserow_client, docmost_connection
from sync.models import Event, EventItem, LogicalTable, PageLink, Reconciliation, TableMapping
from sync.processing.enqueue import event_enqueue
from sync.processing.rows import cell_text
from sync.rules.formation import formation_icon, formation_title
from sync.rules.projet import project_icon, project_title

RECONCILED_TABLES = (LogicalTable.PROJET, LogicalTable.FORMATION)


PAGE_STATE = {
    LogicalTable.PROJET: lambda connection, mapping, row: {"title": project_title(mapping, row),
                                                           "icon": project_icon(connection, mapping, row)},
    LogicalTable.FORMATION: lambda connection, mapping, row: {"title": formation_title(mapping, row),
                                                              "icon": formation_icon(connection, mapping, row)},
}


def _busy_rows(table_id: int) -> set[int]:
    prefix = f"baserow:{table_id}:"
    return {
        int(key.removeprefix(prefix))
        for key in EventItem.objects.filter(entity_key__startswith=prefix, state__in=EventItem.NOT_DONE)
        .values_list("entity_key", flat=True).distinct()
        if key.removeprefix(prefix).isdigit()
    }


def rows_drifted(*, baserow: BaserowClient) -> list[dict]:
    """[{..., change: "updated" | "deleted"}] of linked rows whose page no longer matches them: the title and
    icon the row calls for differ from those last written to the page, or the row is gone from Baserow."""
    connection = docmost_connection()
    found = []
    for mapping in TableMapping.objects.filter(logical_table__in=RECONCILED_TABLES, enabled=True):
        links = {link.row_id: link for link in PageLink.objects.filter(
            baserow_table_id=mapping.baserow_table_id, archived_at__isnull=True)}
        if not links:
            continue
        busy = _busy_rows(mapping.baserow_table_id)
        seen = set()
        for row in baserow.iter_rows(mapping.baserow_table_id):
            seen.add(row["id"])
            link = links.get(row["id"])
            if link is None or row["id"] in busy:
                continue
            expected = PAGE_STATE[mapping.logical_table](connection, mapping, row)
            if expected != {"title": link.synced_state.get("title"), "icon": link.synced_state.get("icon", "")}:
                found.append({"table_id": mapping.baserow_table_id, "logical_table": mapping.logical_table,
                              "row_id": row["id"], "change": "updated", "row": row,
                              "title": f"updated: '{link.synced_state.get('title')}' -> '{expected['title']}'"})
        for row_id, link in links.items():
            if row_id not in seen and row_id not in busy:
                found.append({"table_id": mapping.baserow_table_id, "logical_table": mapping.logical_table,
                              "row_id": row_id, "change": "deleted", "row": None,
                              "title": f"deleted: '{link.synced_state.get('title')}' to archive"})
    return found


def rows_without_page(*, baserow: BaserowClient) -> list[dict]:
    """[{table_id, logical_table, row_id, title, row}] of every reconciled row with no live page link and
    no unfinished item (a row still being synced gets its page from that item)."""
    found = []
    for mapping in TableMapping.objects.filter(logical_table__in=RECONCILED_TABLES, enabled=True):
        skipped = set(
            PageLink.objects.filter(baserow_table_id=mapping.baserow_table_id, archived_at__isnull=True)
            .values_list("row_id", flat=True)
        )
        skipped |= _busy_rows(mapping.baserow_table_id)
        for row in baserow.iter_rows(mapping.baserow_table_id):
            if row["id"] not in skipped:
                found.append({
                    "table_id": mapping.baserow_table_id, "logical_table": mapping.logical_table,
                    "row_id": row["id"], "title": cell_text(row.get(mapping.field_name("nom"))), "row": row,
                    "change": "created",
                })
    return found


@transaction.atomic
def reconciliation_run(
    *, dry_run: bool, trigger: str, actor=None, actor_label: str = "sync-reconciliation",
    baserow: BaserowClient | None = None,
) -> Reconciliation:
    """List the rows without a page and the rows whose page drifted; unless `dry_run`, store one event per
    table and change (source "reconcile", rows.created / rows.updated / rows.deleted) whose items go through
    the usual rules, and enqueue them."""
    require(actor, "sync.replay_event", doing="run a reconciliation")
    baserow = baserow or baserow_client()
    rows = rows_without_page(baserow=baserow) + rows_drifted(baserow=baserow)
    now = timezone.now()
    run = Reconciliation.objects.create(
        started_at=now, dry_run=dry_run, trigger=trigger,
        actor_label=actor.get_username() if actor is not None else actor_label,
        rows_found=[{key: row[key] for key in ("table_id", "logical_table", "row_id", "title", "change")}
                    for row in rows],
    )
    events = []
    if not dry_run:
        batches = sorted({(row["table_id"], row["change"]) for row in rows})
        for table_id, change in batches:
            table_rows = [row for row in rows if (row["table_id"], row["change"]) == (table_id, change)]
            suffix = "" if change == "created" else f"-{change}"
            event = Event.objects.create(
                source=Event.Source.RECONCILIATION, event_id=f"reconcile-{run.pk}-{table_id}{suffix}",
                event_type=f"rows.{change}",
                table_id=table_id, row_count=len(table_rows), received_at=now,
                mapping=TableMapping.objects.get(baserow_table_id=table_id),
                raw_body=json.dumps({"reconciliation": run.pk, "row_ids": [row["row_id"] for row in table_rows]}),
                correlation_id=current_correlation_id(),
            )
            EventItem.objects.bulk_create(
                EventItem(event=event, position=position, row_id=row["row_id"], data=row["row"], created_at=now,
                          entity_key=f"baserow:{table_id}:{row['row_id']}")
                for position, row in enumerate(table_rows)
            )
            event_enqueue(event=event)
            events.append(event)
        if events:
            run.event = events[0]
            run.save(update_fields=["event"])
    audit_record(
        action="sync.reconciliation.dry_run" if dry_run else "sync.reconciliation.run", target=run, actor=actor,
        actor_label=actor_label,
        changes={"rows": [(row["logical_table"], row["row_id"]) for row in rows], "events": [e.pk for e in events]},
        message=f"{len(rows)} row(s) without a Docmost page" + ("" if dry_run else f", {len(events)} event(s) queued"),
    )
    return run
