"""formation rows <-> a course page with one sub-page per teaching block (bloc)."""

from django.utils import timezone

from sync.clients.docmost import DocmostClient
from sync.clients.factory import (
    baserow_client,
    baserow_connection,
    docmost_client,
    docmost_connection,
    formation_space_id,
)
from sync.models import DocmostConnection, Event, EventItem, LogicalTable, PageLink, TableMapping
from sync.processing.coalescing import items_coalesce_into
from sync.processing.pages import PageSpec, page_ensure, page_update_title, row_write_back_page_id, template_body
from sync.processing.routing import IgnoreItem, rule
from sync.processing.rows import cell_text, item_row_latest
from sync.rules.projet import archive_row_page


def formation_title(mapping: TableMapping, row: dict) -> str:
    return f"Formation {cell_text(row.get(mapping.field_name('nom'))) or '#' + str(row['id'])}"


def formation_icon(connection: DocmostConnection, mapping: TableMapping, row: dict) -> str:
    return connection.status_icons.get(cell_text(row.get(mapping.field_name("statut"))), "")


def block_pages_ensure(
    *, docmost: DocmostClient, event: Event, mapping: TableMapping, row: dict, parent: PageLink, space_id: str
) -> int:
    """One sub-page per block linked to the course; returns how many were created."""
    bloc_mapping = TableMapping.objects.filter(logical_table=LogicalTable.BLOC).first()
    if bloc_mapping is None:
        return 0
    created = 0
    for block in row.get(mapping.field_name("blocs")) or []:
        if not isinstance(block, dict) or not isinstance(block.get("id"), int):
            continue
        spec = PageSpec(title=str(block.get("value") or f"Bloc #{block['id']}"), icon="", space_id=space_id,
                        parent_page_id=parent.page_id)
        _, what = page_ensure(docmost=docmost, event=event, mapping=bloc_mapping, row_id=block["id"], spec=spec,
                              parent=parent)
        created += what != "page already exists"
    return created


def _spec(docmost, connection, mapping, row, space_id, *, with_body: bool) -> PageSpec:
    body = ""
    if with_body:
        body = template_body(docmost, connection.formation_template_page_id,
                             {"nom": cell_text(row.get(mapping.field_name("nom")))})
    return PageSpec(title=formation_title(mapping, row), icon=formation_icon(connection, mapping, row),
                    space_id=space_id, content=body)


@rule("formation", "rows.created")
def create_formation_pages(item: EventItem, mapping: TableMapping) -> str:
    """Course created: its page (from the template), a sub-page per block, and the page id in the row."""
    baserow, docmost, connection = baserow_client(), docmost_client(), docmost_connection()
    read_at = timezone.now()
    row = item_row_latest(baserow=baserow, mapping=mapping, item=item)
    space_id = formation_space_id(docmost, connection)
    spec = _spec(docmost, connection, mapping, row, space_id, with_body=True)
    link, what = page_ensure(docmost=docmost, event=item.event, mapping=mapping, row_id=row["id"], spec=spec)
    page_update_title(docmost=docmost, event=item.event, link=link, spec=spec)
    blocks = block_pages_ensure(docmost=docmost, event=item.event, mapping=mapping, row=row, parent=link,
                                space_id=space_id)
    written = row_write_back_page_id(baserow=baserow, connection=baserow_connection(), event=item.event,
                                     mapping=mapping, row=row, page_id=link.page_id)
    coalesced = items_coalesce_into(item=item, read_at=read_at)
    parts = [f"{what} ({link.page_id})", f"{blocks} block page(s) created",
             "page id written back" if written else "page id already in the row"]
    if coalesced:
        parts.append(f"{coalesced} later update(s) coalesced")
    return "; ".join(parts)


@rule("formation", "rows.updated")
def update_formation_page_title(item: EventItem, mapping: TableMapping) -> str:
    """Title or status changed (or blocks linked): the page's title and icon follow, new blocks get a page."""
    link = PageLink.objects.filter(baserow_table_id=mapping.baserow_table_id, row_id=item.row_id).first()
    if link is None:
        raise IgnoreItem("no page for this row yet (the reconciliation creates it)")
    baserow, docmost, connection = baserow_client(), docmost_client(), docmost_connection()
    read_at = timezone.now()
    row = item_row_latest(baserow=baserow, mapping=mapping, item=item)
    spec = _spec(docmost, connection, mapping, row, "", with_body=False)
    updated = page_update_title(docmost=docmost, event=item.event, link=link, spec=spec)
    blocks = 0
    if link.archived_at is None:
        blocks = block_pages_ensure(docmost=docmost, event=item.event, mapping=mapping, row=row, parent=link,
                                    space_id=formation_space_id(docmost, connection))
    coalesced = items_coalesce_into(item=item, read_at=read_at)
    if not updated and not blocks:
        raise IgnoreItem("title, icon and blocks already as last synced")
    note = f"page {link.page_id} '{spec.title}'; {blocks} block page(s) created"
    return note + (f"; {coalesced} update(s) coalesced" if coalesced else "")


@rule("formation", "rows.deleted", services=("docmost",))
def archive_formation_page(item: EventItem, mapping: TableMapping) -> str:
    """Course deleted: its page is marked archived (sub-pages stay under it), never deleted."""
    return archive_row_page(item, mapping)
