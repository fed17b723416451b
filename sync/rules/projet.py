"""projet rows <-> project pages in the target space ("Projet <nom> - <client>", from the template)."""

from django.utils import timezone

from sync.clients.errors import NotFound
from sync.clients.factory import baserow_client, baserow_connection, docmost_client, docmost_connection, target_space_id
from sync.models import DocmostConnection, EventItem, PageLink, TableMapping
from sync.processing.coalescing import items_coalesce_into
from sync.processing.pages import (
    PageSpec,
    page_archive,
    page_ensure,
    page_update_title,
    row_write_back_page_id,
    template_body,
)
from sync.processing.routing import IgnoreItem, rule
from sync.processing.rows import ROW_MISSING, cell_text, item_row_delivered_or_latest, item_row_latest

# The fields the page of a project is made from, and the one the page id is written back into.
PAGE_FIELDS = ("nom", "client", "statut", "docmost_page_id")


def project_title(mapping: TableMapping, row: dict) -> str:
    name = cell_text(row.get(mapping.field_name("nom"))) or f"#{row['id']}"
    client = cell_text(row.get(mapping.field_name("client")))
    return f"Projet {name} - {client}" if client else f"Projet {name}"


def project_icon(connection: DocmostConnection, mapping: TableMapping, row: dict) -> str:
    return connection.status_icons.get(cell_text(row.get(mapping.field_name("statut"))), "")


@rule("projet", "rows.created")
def create_project_page(item: EventItem, mapping: TableMapping) -> str:
    """Row created (or restored from Baserow's trash): the page, from the template, and the page id in the row."""
    baserow, docmost, connection = baserow_client(), docmost_client(), docmost_connection()
    row, read_at = item_row_delivered_or_latest(baserow=baserow, mapping=mapping, item=item, fields=PAGE_FIELDS)
    spec = PageSpec(
        title=project_title(mapping, row), icon=project_icon(connection, mapping, row),
        space_id=target_space_id(docmost, connection),
        content=template_body(docmost, connection.project_template_page_id, {
            "nom": cell_text(row.get(mapping.field_name("nom"))),
            "client": cell_text(row.get(mapping.field_name("client"))),
        }),
    )
    link, what = page_ensure(docmost=docmost, event=item.event, mapping=mapping, row_id=row["id"], spec=spec)
    page_update_title(docmost=docmost, event=item.event, link=link, spec=spec)
    try:
        written = row_write_back_page_id(baserow=baserow, connection=baserow_connection(), event=item.event,
                                         mapping=mapping, row=row, page_id=link.page_id)
    except NotFound as error:
        # The row was deleted after its webhook (the page was made from the delivered row): archive it.
        page_archive(docmost=docmost, connection=connection, event=item.event, link=link)
        raise IgnoreItem(f"{ROW_MISSING} (deleted after its webhook); page {link.page_id} archived") from error
    return _note(what, link, written, items_coalesce_into(item=item, read_at=read_at))


@rule("projet", "rows.updated")
def update_project_page_title(item: EventItem, mapping: TableMapping) -> str:
    """Title or status changed: the page's title and icon follow (compared with the last synced state,
    since a linked-table update carries no old_items)."""
    link = PageLink.objects.filter(baserow_table_id=mapping.baserow_table_id, row_id=item.row_id).first()
    if link is None:
        raise IgnoreItem("no page for this row yet (the reconciliation creates it)")
    baserow, docmost, connection = baserow_client(), docmost_client(), docmost_connection()
    read_at = timezone.now()
    row = item_row_latest(baserow=baserow, mapping=mapping, item=item)
    spec = PageSpec(title=project_title(mapping, row), icon=project_icon(connection, mapping, row), space_id="")
    updated = page_update_title(docmost=docmost, event=item.event, link=link, spec=spec)
    coalesced = items_coalesce_into(item=item, read_at=read_at)
    if not updated:
        raise IgnoreItem("title and icon already as last synced")
    return f"page {link.page_id} now '{spec.title}'" + (f"; {coalesced} update(s) coalesced" if coalesced else "")


@rule("projet", "rows.deleted", services=("docmost",))
def archive_project_page(item: EventItem, mapping: TableMapping) -> str:
    """Row deleted (only its id arrives): the mapped page is marked archived, never deleted."""
    return archive_row_page(item, mapping)


def archive_row_page(item: EventItem, mapping: TableMapping) -> str:
    link = PageLink.objects.filter(baserow_table_id=mapping.baserow_table_id, row_id=item.row_id).first()
    if link is None:
        raise IgnoreItem("no page was ever created for this row")
    if not page_archive(docmost=docmost_client(), connection=docmost_connection(), event=item.event, link=link):
        raise IgnoreItem("page already archived")
    return f"page {link.page_id} archived"


def _note(what: str, link: PageLink, written: bool, coalesced: int) -> str:
    parts = [f"{what} ({link.page_id})", "page id written back" if written else "page id already in the row"]
    if coalesced:
        parts.append(f"{coalesced} later update(s) coalesced")
    return "; ".join(parts)
